using EMANet.Runtime.IO;
using Google.Protobuf;

namespace EMANet.Runtime.Training;

/// <summary>One scalar of a TensorBoard event file: its tag, step and value.</summary>
public readonly record struct TensorBoardScalar(string Tag, long Step, float Value);

/// <summary>
/// Reads and trims the TensorBoard event files of a run folder (<c>events.out.tfevents.*</c>, as
/// TorchSharp's SummaryWriter writes them: TFRecord framing, each record an int64 length, its
/// masked CRC, a serialized <c>Event</c> and the data's masked CRC).
/// <para>
/// Why trimming: a run killed between two checkpoints has logged steps after its last checkpoint;
/// the resumed run logs those steps again (into a new file: every SummaryWriter opens its own).
/// TensorBoard would show both copies or purge by its own rules, so before a run starts at
/// iteration <c>n</c> every event file of the folder is rewritten (atomically, whole records copied
/// byte for byte) without the events of steps after <c>n</c>. The old files then hold steps 1..n,
/// the new file n+1..end: every step exactly once.
/// </para>
/// </summary>
public static class TensorBoardEventLog
{
    /// <summary>The file-name pattern of event files.</summary>
    public const string FilePattern = "events.out.tfevents.*";

    private const int HeaderBytes = 12; // int64 length + uint32 masked CRC of it
    private const int FooterBytes = 4;  // uint32 masked CRC of the data

    /// <summary>Every scalar of every event file in <paramref name="directory"/>, files in name (= creation time) order, records in file order.</summary>
    public static IReadOnlyList<TensorBoardScalar> ReadScalars(string directory)
    {
        var scalars = new List<TensorBoardScalar>();
        if (!Directory.Exists(directory)) return scalars;
        foreach (var file in EventFiles(directory))
            foreach (var (_, evnt) in ReadRecords(File.ReadAllBytes(file)))
                if (evnt.Summary is { } summary)
                    foreach (var value in summary.Value)
                        scalars.Add(new TensorBoardScalar(value.Tag, evnt.Step, value.SimpleValue));
        return scalars;
    }

    /// <summary>
    /// Removes, from every event file in <paramref name="directory"/>, the summary events of steps
    /// after <paramref name="lastStep"/>, and a torn record at a file's end (a write cut short by a
    /// kill). A file left without any summary is deleted. Files are replaced atomically; a file that
    /// needs no change is not touched. Returns the number of events removed.
    /// </summary>
    public static int DropEventsAfter(string directory, long lastStep)
    {
        if (!Directory.Exists(directory)) return 0;
        var removed = 0;
        foreach (var file in EventFiles(directory))
        {
            var bytes = File.ReadAllBytes(file);
            var kept = new List<ArraySegment<byte>>();
            var keptSummaries = 0;
            var consumed = 0;
            var dropped = 0;
            foreach (var (record, evnt) in ReadRecords(bytes))
            {
                consumed += record.Count;
                if (evnt.Summary is not null && evnt.Step > lastStep)
                {
                    dropped++;
                    continue;
                }
                if (evnt.Summary is not null) keptSummaries++;
                kept.Add(record);
            }
            var torn = consumed < bytes.Length;
            if (dropped == 0 && !torn) continue;
            removed += dropped;
            if (keptSummaries == 0)
            {
                File.Delete(file);
                continue;
            }
            AtomicFile.Write(file, stream =>
            {
                foreach (var record in kept) stream.Write(record);
            });
        }
        return removed;
    }

    private static IEnumerable<string> EventFiles(string directory) =>
        Directory.GetFiles(directory, FilePattern).Order(StringComparer.Ordinal);

    /// <summary>The complete records of an event file with their events; stops at the first torn or unreadable record.</summary>
    private static IEnumerable<(ArraySegment<byte> Record, Tensorboard.Event Event)> ReadRecords(byte[] bytes)
    {
        var offset = 0;
        while (bytes.Length - offset >= HeaderBytes)
        {
            var length = BitConverter.ToInt64(bytes, offset);
            if (length < 0 || length > bytes.Length - offset - HeaderBytes - FooterBytes) yield break;
            Tensorboard.Event evnt;
            try
            {
                evnt = Tensorboard.Event.Parser.ParseFrom(bytes, offset + HeaderBytes, (int)length);
            }
            catch (InvalidProtocolBufferException)
            {
                yield break;
            }
            var size = HeaderBytes + (int)length + FooterBytes;
            yield return (new ArraySegment<byte>(bytes, offset, size), evnt);
            offset += size;
        }
    }
}
