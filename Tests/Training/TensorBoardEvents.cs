namespace EMANet.Tests.Training;

/// <summary>
/// A reader of TensorBoard event files written for the tests only (independent of the runtime's own
/// trimming code): TFRecord framing (int64 length, uint32 CRC, an Event protobuf, uint32 CRC), every
/// scalar of every complete record of every events.out.tfevents.* file in a folder.
/// </summary>
internal static class TensorBoardEvents
{
    public static List<(string Tag, long Step, float Value)> Read(string folder)
    {
        var scalars = new List<(string, long, float)>();
        foreach (var file in Directory.GetFiles(folder, "events.out.tfevents.*"))
        {
            var bytes = File.ReadAllBytes(file);
            for (var offset = 0; offset + 12 <= bytes.Length;)
            {
                var length = (int)BitConverter.ToInt64(bytes, offset);
                if (offset + 12 + length + 4 > bytes.Length) break; // torn by a kill
                var evnt = Tensorboard.Event.Parser.ParseFrom(bytes, offset + 12, length);
                if (evnt.Summary is not null)
                    foreach (var value in evnt.Summary.Value)
                        scalars.Add((value.Tag, evnt.Step, value.SimpleValue));
                offset += 12 + length + 4;
            }
        }
        return scalars;
    }
}
