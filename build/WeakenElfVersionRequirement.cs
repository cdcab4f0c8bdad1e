using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on one named version requirement (Elf64_Vernaux) of ELF64 little-endian
// shared libraries. Idempotent; rewrites a file only when a flag changes, via a temp file.
public class WeakenElfVersionRequirement : Task
{
    [Required] public ITaskItem[] Files { get; set; }
    [Required] public string VersionName { get; set; }

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                int changed = Patch(bytes, VersionName);
                if (changed < 0) { Log.LogMessage(MessageImportance.Low, "{0}: not an ELF64 LE file, left alone", path); continue; }
                if (changed == 0) continue;
                var tmp = path + ".weaken.tmp";
                File.WriteAllBytes(tmp, bytes);
                File.Copy(tmp, path, true);
                File.Delete(tmp);
                Log.LogMessage(MessageImportance.Normal, "{0}: marked {1} weak", path, VersionName);
            }
            catch (Exception e)
            {
                Log.LogError("Could not patch {0}: {1}", path, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    // Returns the number of requirements changed, or -1 when the file is not ELF64 little-endian.
    private static int Patch(byte[] b, string name)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F') return -1;
        if (b[4] != 2 || b[5] != 1) return -1;
        long shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A);
        int shnum = BitConverter.ToUInt16(b, 0x3C);
        int changed = 0;
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (sh + 64 > b.Length) throw new InvalidDataException("section header " + i + " lies beyond the file");
            uint type = BitConverter.ToUInt32(b, (int)sh + 4);
            if (type != ShtGnuVerneed) continue;
            long off = (long)BitConverter.ToUInt64(b, (int)sh + 0x18);
            uint link = BitConverter.ToUInt32(b, (int)sh + 0x28);
            long strSh = shoff + (long)link * shentsize;
            long strOff = (long)BitConverter.ToUInt64(b, (int)strSh + 0x18);
            long need = off;
            while (true)
            {
                int cnt = BitConverter.ToUInt16(b, (int)need + 2);
                uint aux = BitConverter.ToUInt32(b, (int)need + 8);
                uint next = BitConverter.ToUInt32(b, (int)need + 12);
                long a = need + aux;
                for (int k = 0; k < cnt; k++)
                {
                    ushort flags = BitConverter.ToUInt16(b, (int)a + 4);
                    uint nameOff = BitConverter.ToUInt32(b, (int)a + 8);
                    if (ReadCString(b, strOff + nameOff) == name && (flags & VerFlgWeak) == 0)
                    {
                        flags |= VerFlgWeak;
                        b[a + 4] = (byte)(flags & 0xff);
                        b[a + 5] = (byte)(flags >> 8);
                        changed++;
                    }
                    uint anext = BitConverter.ToUInt32(b, (int)a + 12);
                    if (anext == 0) break;
                    a += anext;
                }
                if (next == 0) break;
                need += next;
            }
        }
        return changed;
    }

    private static string ReadCString(byte[] b, long at)
    {
        long end = at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, (int)(end - at));
    }
}
