using System.Text;
using EMANet.Runtime.IO;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

public sealed class WeightsFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Read_DetectsTheFormatByContentNotByName()
    {
        var pthAsBin = _temp.File("weights.bin");
        File.Copy(Fixture("ema_head.pth"), pthAsBin);
        var safetensorsAsPth = _temp.File("weights.pth");
        File.Copy(Fixture("ema_head.safetensors"), safetensorsAsPth);

        Assert.Equal(WeightsFormat.PyTorchZip, WeightsFormatDetector.Detect(pthAsBin));
        Assert.Equal(WeightsFormat.Safetensors, WeightsFormatDetector.Detect(safetensorsAsPth));
        Assert.Equal(WeightsFormat.Npy, WeightsFormatDetector.Detect(Fixture("ema_head_input.npy")));

        using var a = WeightsFile.Read(pthAsBin);
        using var b = WeightsFile.Read(safetensorsAsPth);
        AssertSameTensors(a, b);
        Assert.Equal("pt", a.Metadata["format"]);
        Assert.Equal("ema_head", b.Metadata["fixture"]);
    }

    [Fact]
    public void Read_OtherContent_IsRefusedByName()
    {
        var text = _temp.File("notes.pth");
        File.WriteAllText(text, "these are not weights, just a text file that is long enough");
        Assert.Equal(WeightsFormat.Unknown, WeightsFormatDetector.Detect(text));
        AssertDefect(text, () => WeightsFile.Read(text).Dispose(), "neither a safetensors file nor a PyTorch zip checkpoint");

        var npy = Fixture("ema_head_input.npy");
        AssertDefect(npy, () => WeightsFile.Read(npy).Dispose(), "a NumPy array");

        var empty = _temp.File("empty.safetensors");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        AssertDefect(empty, () => WeightsFile.Read(empty).Dispose(), "neither");
    }

    [Fact]
    public void Write_ThenRead_RoundTrips_AndReplacesTheOldFile()
    {
        var path = _temp.File("model.safetensors");
        File.WriteAllText(path, "old content");
        using var w = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        WeightsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = w });
        using var read = WeightsFile.Read(path);
        AssertBitwiseEqual(w, read["w"], "w");
        Assert.Equal(new[] { "model.safetensors" }, Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AtomicFile_AWriterThatFailsHalfway_LeavesThePreviousContentAndNoTemporaryFile()
    {
        var path = _temp.File("model.safetensors");
        using (var original = ones(3))
            WeightsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = original });
        var before = File.ReadAllBytes(path);

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            stream.Flush();
            throw new IOException("disk full (simulated)");
        }));
        Assert.Equal("disk full (simulated)", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_temp.Path));

        // A tensor the format cannot hold fails before anything is written.
        using var complex = zeros(2, dtype: ScalarType.ComplexFloat32);
        Assert.Throws<ArgumentException>(() => WeightsFile.Write(path, new Dictionary<string, Tensor> { ["c"] = complex }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void AtomicFile_ASecondWriterSeesOnlyCompleteFiles()
    {
        var path = _temp.File("a.bin");
        AtomicFile.WriteAllBytes(path, Encoding.ASCII.GetBytes("first"));
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Encoding.ASCII.GetBytes("second, longer"));
            // While the new content is being written, the target still holds the old one.
            Assert.Equal("first", File.ReadAllText(path));
        });
        Assert.Equal("second, longer", File.ReadAllText(path));
    }
}
