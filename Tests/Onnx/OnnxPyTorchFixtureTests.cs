using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx;
using EMANet.Tests.Equivalence;
using static TorchSharp.torch;

namespace EMANet.Tests.Onnx;

/// <summary>
/// Models exported from weights saved by PyTorch (tools/fixtures/make_fixtures.py: the EMA head, a small EMANet, the ASPP with the
/// DeepLabV3+ decoder, the FCN head) reproduce PyTorch's logits in ONNX Runtime within 1e-4 relative error, fixed-size and dynamic.
/// </summary>
public class OnnxPyTorchFixtureTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static TheoryData<string, string, bool> Fixtures()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (network, fixture) in new[] { ("fixture-ema-head", "ema_head"), ("fixture-emanet-small", "emanet_small"),
                     ("fixture-deeplabv3plus-small", "deeplabv3plus_small"), ("fixture-fcn-small", "fcn_small") })
            foreach (var dynamic in new[] { false, true })
                data.Add(network, fixture, dynamic);
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void OnnxRuntime_reproduces_PyTorch_logits(string name, string fixture, bool dynamic)
    {
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(FixtureEmaHead).Assembly), name);
        using var network = entry.Create();
        using (var tensors = WeightsFile.Read(Fixture(fixture + ".pth")))
            Assert.Empty(StateDictLoader.Load(network, tensors, WeightsLayout.Auto, strict: true).Missing);
        using var engine = new OnnxRuntimeEngine(OnnxExporter.ExportBytes(network, new OnnxExportOptions(dynamic)));
        using var scope = NewDisposeScope();
        var logits = engine.Logits(NpyFile.Read(Fixture(fixture + "_input.npy")));
        var expected = NpyFile.Read(Fixture(fixture + "_output.npy"));
        var relative = OnnxEquivalenceTests.RelativeError(logits, expected);
        Assert.True(relative <= 1e-4, $"{name}: relative error {relative:E3} to PyTorch's logits");
    }
}
