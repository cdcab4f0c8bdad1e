using EMANet.Cli;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx;
using EMANet.Tests.Equivalence;
using EMANet.Tests.Performance;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Onnx;

/// <summary>
/// <c>emanet export</c> and <c>--engine onnxruntime</c> end to end on the PyTorch fixture (fixture-emanet-small: weights saved by
/// Debian's PyTorch 1.13 and its logits, tools/fixtures/make_fixtures.py), and their one-line errors.
/// </summary>
[Collection(nameof(TorchGlobalState))]
public class OnnxCliTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static readonly CliEnvironment FixtureEnvironment =
        new(NetworkCatalog.Discover(typeof(FixtureEmaNetSmall).Assembly, typeof(EMANet.Models.EmaNetTiny).Assembly), [new DatasetProvider()]);

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run(args, output, error, FixtureEnvironment);
        return (exit, output.ToString(), error.ToString());
    }

    private static double RelativeErrorToPyTorch(Tensor actual)
    {
        using var scope = NewDisposeScope();
        var expected = NpyFile.Read(Fixture("emanet_small_output.npy"));
        Assert.Equal(expected.shape, actual.shape);
        return (actual - expected).abs().max().item<float>() / (double)expected.abs().max().item<float>();
    }

    [Theory]
    [InlineData("emanet_small.pth", "all", "1")]
    [InlineData("emanet_small.safetensors", "none", "2")]
    public void Predict_with_onnxruntime_reproduces_PyTorch_logits(string weights, string optimization, string threads)
    {
        var folder = _temp.New("onnx-predict");
        var logits = Path.Combine(folder, "y.npy");
        var (exit, output, error) = Run("predict", "fixture-emanet-small", "--weights", Fixture(weights),
            "--input", Fixture("emanet_small_input.npy"), "--output", Path.Combine(folder, "mask.png"), "--logits", logits,
            "--engine", "onnxruntime", "--threads", threads, "--graph-optimization", optimization);
        Assert.True(exit == 0, error);
        Assert.Contains("mask.png", output);
        using var actual = NpyFile.Read(logits);
        var relative = RelativeErrorToPyTorch(actual);
        Assert.True(relative <= 1e-4, $"relative error {relative:E3} to PyTorch's logits");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Export_writes_a_model_that_reproduces_PyTorch_logits_in_OnnxRuntime(bool dynamic)
    {
        var folder = _temp.New("onnx-export");
        var model = Path.Combine(folder, "small.onnx");
        string[] args = ["export", "fixture-emanet-small", "--weights", Fixture("emanet_small.pth"), "--output", model, "--input", "3x65x65"];
        var (exit, output, error) = Run(dynamic ? [.. args, "--dynamic"] : args);
        Assert.True(exit == 0, error);
        Assert.Contains("wrote " + model, output);
        using var engine = new OnnxRuntimeEngine(File.ReadAllBytes(model));
        using var input = NpyFile.Read(Fixture("emanet_small_input.npy"));
        using var logits = engine.Logits(input);
        var relative = RelativeErrorToPyTorch(logits);
        Assert.True(relative <= 1e-4, $"relative error {relative:E3} to PyTorch's logits");
    }

    [Fact]
    public void Eval_with_onnxruntime_gives_the_torch_engines_metrics()
    {
        TorchGlobalState.Seed(21);
        var folder = _temp.New("onnx-eval");
        var weights = Path.Combine(folder, "tiny.safetensors");
        using (var network = new EMANet.Models.EmaNetTiny(classes: 6))
        {
            FusionTests.RandomizeBatchNorms(network, 21);
            WeightsFile.Write(weights, network.state_dict(), new Dictionary<string, string>());
        }
        string[] args = ["eval", "emanet-tiny", "--weights", weights, "--data", "synthetic", "--limit", "4"];
        var torch = Run(args);
        var onnx = Run([.. args, "--engine", "onnxruntime", "--threads", "2"]);
        Assert.True(torch.Exit == 0, torch.Error);
        Assert.True(onnx.Exit == 0, onnx.Error);
        Assert.Contains("ONNX Runtime, 2 threads", onnx.Output);
        // The metrics table: everything after the line that names the dataset, the strategy and the engine.
        static string Metrics(string output) => output[(output.IndexOf('\n', output.IndexOf("emanet-tiny on ", StringComparison.Ordinal)) + 1)..];
        Assert.Contains("mIoU", Metrics(onnx.Output));
        Assert.Equal(Metrics(torch.Output), Metrics(onnx.Output));
    }

    [Fact]
    public void Attention_needs_the_torch_engine()
    {
        var folder = _temp.New("onnx-attention");
        var (exit, _, error) = Run("predict", "fixture-emanet-small", "--weights", Fixture("emanet_small.pth"),
            "--input", Fixture("emanet_small_input.npy"), "--output", Path.Combine(folder, "mask.png"),
            "--attention", Path.Combine(folder, "a.png"), "--engine", "onnxruntime");
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("--attention", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public static TheoryData<string[], int, string> BadExports() => new()
    {
        { ["export", "no-such-network", "--weights", "w.pth", "--output", "m.onnx"], ExitCodes.Usage, "unknown network 'no-such-network'" },
        { ["export", "emanet-tiny", "--weights", "FIXTURE:emanet_small.pth", "--output", "m.onnx"], ExitCodes.Failure, "does not fit" },
        { ["export", "onnx-every-layer-test", "--weights", "EVERY-LAYER", "--output", "m.onnx", "--input", "3x2x2"], ExitCodes.Failure, "3x2x2" },
        { ["export", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--output", "m.onnx", "--input", "1x65x65"], ExitCodes.Failure, "channels" },
        { ["export", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth"], ExitCodes.Usage, "--output FILE is required" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--engine", "tensorrt"], ExitCodes.Usage, "--engine 'tensorrt'" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--threads", "2"], ExitCodes.Usage, "--engine onnxruntime" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--engine", "onnxruntime", "--graph-optimization", "max"], ExitCodes.Usage, "--graph-optimization 'max'" },
        { ["export", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--output", "m.onnx", "--int8"], ExitCodes.Usage, "--int8 needs --calibration" },
        { ["export", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--output", "m.onnx", "--calibration", "synthetic"], ExitCodes.Usage, "add --int8" },
        { ["export", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--output", "m.onnx", "--int8", "--calibration", "synthetic", "--calibration-images", "0"], ExitCodes.Usage, "--calibration-images: 0" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--onnx", "missing.onnx"], ExitCodes.Failure, "missing.onnx: no such ONNX model file" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--onnx", "FIXTURE:emanet_small.pth"], ExitCodes.Failure, "not an ONNX model" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--onnx", "TINY-ONNX"], ExitCodes.Failure, "exported from network 'emanet-tiny', not 'fixture-emanet-small'" },
        { ["predict", "fixture-emanet-small", "--weights", "FIXTURE:emanet_small.pth", "--input", "FIXTURE:emanet_small_input.npy", "--output", "m.png", "--onnx", "TINY-ONNX", "--engine", "torch"], ExitCodes.Usage, "--onnx is an ONNX Runtime option" },
    };

    /// <summary>An exported emanet-tiny (fresh weights): a model of another network than the fixture's.</summary>
    private static string TinyModel(string folder)
    {
        var path = Path.Combine(folder, "tiny.onnx");
        using var network = new EMANet.Models.EmaNetTiny();
        OnnxExporter.ExportFile(network, path);
        return path;
    }

    [Fact]
    public void Export_int8_writes_a_model_that_eval_runs_through_onnx()
    {
        TorchGlobalState.Seed(22);
        var folder = _temp.New("onnx-int8");
        var weights = Path.Combine(folder, "tiny.safetensors");
        using (var network = new EMANet.Models.EmaNetTiny(classes: 6))
        {
            FusionTests.RandomizeBatchNorms(network, 22);
            WeightsFile.Write(weights, network.state_dict(), new Dictionary<string, string>());
        }
        var model = Path.Combine(folder, "tiny-int8.onnx");
        var export = Run("export", "emanet-tiny", "--weights", weights, "--output", model, "--dynamic", "--int8", "--calibration", "synthetic", "--calibration-images", "3");
        Assert.True(export.Exit == 0, export.Error);
        Assert.Contains("MinMax calibration on 3 images of synthetic", export.Output);
        var eval = Run("eval", "emanet-tiny", "--weights", weights, "--data", "synthetic", "--limit", "2", "--onnx", model);
        Assert.True(eval.Exit == 0, eval.Error);
        Assert.Contains("ONNX Runtime on tiny-int8.onnx (int8)", eval.Output);
        Assert.Contains("mIoU", eval.Output);
    }

    /// <summary>Weights of a fresh onnx-every-layer-test (a network with pools, which refuses inputs too small for them).</summary>
    private static string EveryLayerWeights(string folder)
    {
        var path = Path.Combine(folder, "every-layer.safetensors");
        using var network = new OnnxEveryLayerNet();
        WeightsFile.Write(path, network.state_dict(), new Dictionary<string, string>());
        return path;
    }

    [Theory]
    [MemberData(nameof(BadExports))]
    public void Bad_input_is_one_line_with_the_CLI_exit_code(string[] args, int expectedExit, string expectedText)
    {
        var folder = _temp.New("onnx-bad");
        var resolved = args.Select(a => a == "EVERY-LAYER" ? EveryLayerWeights(folder) : a == "TINY-ONNX" ? TinyModel(folder) : a.StartsWith("FIXTURE:", StringComparison.Ordinal) ? Fixture(a["FIXTURE:".Length..])
            : a.EndsWith(".onnx", StringComparison.Ordinal) || a.EndsWith(".png", StringComparison.Ordinal) ? Path.Combine(folder, a) : a).ToArray();
        var (exit, _, error) = Run(resolved);
        Assert.Equal(expectedExit, exit);
        Assert.Contains(expectedText, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(Path.Combine(folder, "m.onnx")));
    }
}
