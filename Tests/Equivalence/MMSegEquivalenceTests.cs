using EMANet.Cli;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Equivalence;

/// <summary>
/// Checkpoints of mmsegmentation's EMANet (saved mmengine-style) and of the EMANet authors' release, written by
/// tools/fixtures/make_mmseg_fixture.py in those projects' module structure and names with random weights, load through
/// <c>--layout auto</c> (detected as mmseg / authors) and reproduce PyTorch's logits within 1e-4 relative error through
/// <c>emanet predict</c>.
/// </summary>
public class MMSegEquivalenceTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static readonly CliEnvironment FixtureEnvironment =
        new(NetworkCatalog.Discover(typeof(FixtureMmsegEmaNetSmall).Assembly), [new DatasetProvider()]);

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run(args, output, error, FixtureEnvironment);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>max |actual - expected| over max |expected|, asserted at most 1e-4.</summary>
    private double AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        double error = (actual - expected).abs().max().item<float>();
        Assert.True(error <= 1e-4 * scale, $"max abs error {error:E3} over max |expected| {scale:E3} (relative {error / scale:E3})");
        log.WriteLine($"max abs error {error:E3} over max |expected| {scale:E3}: relative {error / scale:E3}");
        return error / scale;
    }

    private (string Output, double Relative) Predict(string network, string weights, string input, string expected, params string[] extra)
    {
        var folder = _temp.New("predict");
        var logits = Path.Combine(folder, "y.npy");
        var (exit, output, error) = Run([
            "predict", network, "--weights", Fixture(weights), "--input", Fixture(input),
            "--output", Path.Combine(folder, "mask.png"), "--logits", logits, .. extra]);
        Assert.True(exit == 0, error);
        using var want = NpyFile.Read(Fixture(expected));
        using var got = NpyFile.Read(logits);
        return (output, AssertClose(want, got));
    }

    [Fact]
    public void MMSegCheckpoint_SavedByMMEngine_IsDetected_AndPredictReproducesItsLogits()
    {
        var (output, _) = Predict("fixture-mmseg-emanet-small", "mmseg_emanet_small.pth", "mmseg_emanet_small_input.npy", "mmseg_emanet_small_output.npy");
        Assert.Contains("mmseg layout", output);
        Assert.Contains("classes: 5 (from the weights' classifier decode_head.conv_seg.weight out-channels)", output);
    }

    /// <summary>The mmsegmentation and authors' fixtures through the ONNX export in ONNX Runtime: PyTorch's logits within 1e-4.</summary>
    [Theory]
    [InlineData("fixture-mmseg-emanet-small", "mmseg_emanet_small")]
    [InlineData("fixture-emanet-small", "authors_emanet_small")]
    public void PyTorchWeights_ExportedToOnnx_ReproducePyTorchsLogits_InOnnxRuntime(string network, string fixture)
    {
        var (output, _) = Predict(network, fixture + ".pth", fixture + "_input.npy", fixture + "_output.npy", "--engine", "onnxruntime");
        Assert.Contains("wrote", output);
    }

    [Fact]
    public void MMSegCheckpoint_WithLayoutMMSeg_PredictReproducesItsLogits() =>
        Predict("fixture-mmseg-emanet-small", "mmseg_emanet_small.pth", "mmseg_emanet_small_input.npy", "mmseg_emanet_small_output.npy", "--layout", "mmseg");

    [Fact]
    public void MMSegCheckpoint_AuxiliaryLogits_MatchTheFcnHeadResizedWithoutAlignCorners()
    {
        using var network = new FixtureMmsegEmaNetSmall();
        using var tensors = WeightsFile.Read(Fixture("mmseg_emanet_small.pth"));
        var report = StateDictLoader.Load(network, tensors, WeightsLayout.Auto, strict: true);
        Assert.Equal(WeightsLayout.MMSeg, report.Mapping.Layout);
        network.eval();
        using var _ = no_grad();
        var (main, auxiliary) = network.ForwardTraining(NpyFile.Read(Fixture("mmseg_emanet_small_input.npy")));
        AssertClose(NpyFile.Read(Fixture("mmseg_emanet_small_output.npy")), main);
        Assert.NotNull(auxiliary);
        AssertClose(NpyFile.Read(Fixture("mmseg_emanet_small_aux.npy")), auxiliary!);
    }

    [Fact]
    public void MMSegNetwork_FreezesEmaMidConv_AndNamesTheBasesAsMMSeg()
    {
        using var network = new FixtureMmsegEmaNetSmall();
        Assert.All(network.ema_mid_conv.parameters(), p => Assert.False(p.requires_grad));
        Assert.Contains(network.named_parameters(), p => p.name == "ema_in_conv.conv.weight" && p.parameter.requires_grad);
        var keys = network.state_dict().Keys.ToHashSet();
        Assert.Contains("ema_module.bases", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("ema_module.conv", StringComparison.Ordinal) || k == "ema_module.mu");
        Assert.Contains("backbone.conv1.6.weight", keys);
        Assert.Equal(new long[] { 16, 8, 3, 3 }, network.state_dict()["backbone.conv1.6.weight"].shape);
    }

    [Fact]
    public void AuthorsRelease_IsDetected_AndPredictReproducesItsLogits()
    {
        var (output, _) = Predict("fixture-emanet-small", "authors_emanet_small.pth", "authors_emanet_small_input.npy", "authors_emanet_small_output.npy");
        Assert.Contains("authors layout", output);
    }
    [Fact]
    public void TrainingStep_GivesEmaMidConvNoGradient_AndUpdateBasesBlendsTheNormalisedMeanWithMomentumOfTheNewValue()
    {
        using var network = new FixtureMmsegEmaNetSmall();
        using (var tensors = WeightsFile.Read(Fixture("mmseg_emanet_small.pth")))
            StateDictLoader.Load(network, tensors, WeightsLayout.Auto, strict: true);
        var before = network.ema_module.BasesBuffer.clone();
        network.train();
        var (main, auxiliary) = network.ForwardTraining(NpyFile.Read(Fixture("mmseg_emanet_small_input.npy")));
        main.sum().add(auxiliary!.sum(), EMANet.Runtime.Scalars.One).backward();
        Assert.All(network.ema_mid_conv.parameters(), p => Assert.Null(p.grad));
        Assert.Contains(network.named_parameters(), p => p.name == "ema_out_conv.conv.weight" && p.parameter.grad is not null);
        Assert.True(network.ema_module.BasesBuffer.equal(before).all().item<bool>(), "the bases move only in UpdateBases");
        network.ema_module.UpdateBases();
        var after = network.ema_module.BasesBuffer;
        // (after - 0.9 before) / 0.1 is the normalised batch mean: unit norm over the channels.
        using var _ = no_grad();
        var blended = (after - 0.9 * before) / 0.1;
        var norms = blended.norm(1);
        Assert.True(allclose(norms, ones_like(norms), rtol: 1e-4, atol: 1e-4), norms.ToString(TorchSharp.TensorStringStyle.Numpy));
        Assert.False(after.equal(before).all().item<bool>());
    }
}
