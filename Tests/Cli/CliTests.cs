using System.Text.Json;
using EMANet.Cli;
using EMANet.Models;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Cli;

// The train test re-seeds torch's global generator: it runs apart from every other collection.
[Collection(nameof(TorchGlobalState))]
public class CliTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static (int Exit, string Output, string Error) Run(params string[] args) => Run(null, default, args);

    private static (int Exit, string Output, string Error) Run(CliEnvironment? environment, CancellationToken cancellation, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run(args, output, error, environment, cancellation);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Networks_lists_every_model_with_its_costs()
    {
        var (exit, output, error) = Run("networks");
        Assert.Equal(0, exit);
        Assert.Empty(error);
        var entries = NetworkCatalog.Discover(typeof(EmaNetR101).Assembly);
        Assert.True(entries.Count >= 10);
        foreach (var entry in entries)
            Assert.Contains(output.Split('\n'), l => l.StartsWith(entry.Name + " ") && l.Contains(entry.Descriptor.InputShape.ToString()));
        var tiny = output.Split('\n').Single(l => l.StartsWith("emanet-tiny "));
        Assert.Contains("831.65k", tiny);
        Assert.Contains("0.28", tiny);
    }

    [Fact]
    public void Cost_json_is_one_object_whose_totals_equal_the_descriptor()
    {
        var (exit, output, error) = Run("cost", "emanet-r101", "--input", "3x257x257", "--classes", "19", "--json");
        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Single(output.Trim().Split('\n'));
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var analysis = EmaNetR101.Descriptor.Analyze(new TensorShape(3, 257, 257), 19);
        Assert.Equal("emanet-r101", root.GetProperty("network").GetString());
        Assert.Equal(new[] { 3, 257, 257 }, root.GetProperty("input").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(analysis.Parameters, root.GetProperty("params").GetInt64());
        Assert.Equal(analysis.Macs, root.GetProperty("macs").GetInt64());
        Assert.Equal(analysis.Flops, root.GetProperty("flops").GetInt64());
        Assert.Equal(analysis.MemoryBytes, root.GetProperty("memory_bytes").GetInt64());
        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(analysis.Layers.Count, layers.Length);
        Assert.Equal(analysis.Flops, layers.Where(l => !l.GetProperty("auxiliary").GetBoolean()).Sum(l => l.GetProperty("flops").GetInt64()));
        Assert.Equal(analysis.Parameters, layers.Where(l => !l.GetProperty("auxiliary").GetBoolean()).Sum(l => l.GetProperty("params").GetInt64()));
        var fc2 = layers.Single(l => l.GetProperty("name").GetString() == "fc2");
        Assert.Equal(new[] { 19, 33, 33 }, fc2.GetProperty("output").EnumerateArray().Select(e => e.GetInt32()));
        foreach (var name in new[] { "name", "kind", "output", "params", "macs", "flops", "memory_bytes" })
            Assert.True(fc2.TryGetProperty(name, out _), name);

        // At the declared input the totals are the generated constants.
        using var declared = JsonDocument.Parse(Run("cost", "emanet-tiny", "--json").Output);
        Assert.Equal(EmaNetTiny.ParameterCount, declared.RootElement.GetProperty("params").GetInt64());
        Assert.Equal(EmaNetTiny.Flops, declared.RootElement.GetProperty("flops").GetInt64());
        Assert.Equal(EmaNetTiny.MultiplyAccumulates, declared.RootElement.GetProperty("macs").GetInt64());
        Assert.Equal(EmaNetTiny.ActivationBytes, declared.RootElement.GetProperty("memory_bytes").GetInt64());
    }

    [Fact]
    public void Cost_table_has_every_layer_and_a_totals_line()
    {
        var (exit, output, _) = Run("cost", "emanet-tiny");
        Assert.Equal(0, exit);
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("layer ") && l.Contains("FLOPs"));
        Assert.Contains(lines, l => l.StartsWith("emau.e_step "));
        var total = lines.Single(l => l.StartsWith("total "));
        Assert.Contains("831.65k", total);
        Assert.Contains("284.80M", total);
        Assert.Contains(lines, l => l.StartsWith("total: 831.65k parameters (831,653)"));
    }

    [Fact]
    public void Unknown_network_fails_with_one_line_listing_the_known_names()
    {
        var (exit, output, error) = Run("cost", "emanet-r999");
        Assert.NotEqual(0, exit);
        Assert.Empty(output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains("emanet-r999", line);
        foreach (var entry in NetworkCatalog.Discover(typeof(EmaNetR101).Assembly))
            Assert.Contains(entry.Name, line);
    }

    [Theory]
    [InlineData("cost")]                                  // missing network
    [InlineData("cost", "emanet-tiny", "--input", "3x12")] // bad shape
    [InlineData("cost", "emanet-tiny", "--classes", "x")]  // not a number
    [InlineData("cost", "emanet-tiny", "--frobnicate")]    // unknown option
    [InlineData("cost", "emanet-tiny", "--classes", "0")]  // invalid value
    [InlineData("launch")]                                 // unknown command
    [InlineData("train", "emanet-tiny", "--out", "x")]     // --data missing
    [InlineData("train", "emanet-tiny", "--data", "voc:/nowhere", "--out", "x")] // no provider for it
    public void Errors_exit_non_zero_with_one_line(params string[] args)
    {
        var (exit, _, error) = Run(args);
        Assert.NotEqual(0, exit);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("emanet", line);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("networks", "--help")]
    [InlineData("cost", "--help")]
    [InlineData("cost", "emanet-tiny", "-h")]
    [InlineData("train", "--help")]
    public void Help_everywhere(params string[] args)
    {
        var (exit, output, error) = Run(args);
        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.StartsWith("Usage: emanet", output);
        if (args[0] == "train")
            foreach (var option in new[] { "--lr", "--iterations", "--batch-size", "--weight-decay", "--bn-momentum", "--loss-average", "--aux-weight", "--seed", "--resume", "--device" })
                Assert.Contains(option, output);
    }

    [Fact]
    public void Every_commands_help_separates_each_option_from_its_text()
    {
        foreach (var command in Commands.All)
        {
            var (exit, output, _) = Run(command.Name, "--help");
            Assert.Equal(0, exit);
            var lines = output.Split('\n');
            foreach (var option in command.Options.Append(new OptionSpec("--help", null, "Show this help.")))
            {
                var label = option.Name + (option.Value is null ? "" : " " + option.Value);
                var line = Assert.Single(lines, l => l.StartsWith("  " + option.Name + " ", StringComparison.Ordinal) || l.TrimEnd() == "  " + option.Name);
                Assert.StartsWith("  " + label + "  ", line); // the option, then at least two spaces
                Assert.EndsWith(option.Help, line.TrimEnd('\r'));
                Assert.Equal(option.Help, line[(2 + label.Length)..].TrimStart().TrimEnd('\r'));
            }
        }
    }

    /// <summary>A provider whose data fails the way a caller does not expect (not one of the project's exception types).</summary>
    private sealed class ThrowingProvider(Exception error, bool inValidation) : IDataProvider
    {
        public string Description => "broken";

        public bool CanOpen(string spec) => spec == "broken";

        public TrainingData Open(TrainingDataRequest request) => inValidation
            ? new(BatchSources.FromFunction(i => SyntheticData.Batch(request.Options.Seed, i, request.Options.BatchSize, request.Input.Height), "ok"),
                _ => throw error)
            : throw error;
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_with_its_details_in_the_run_folder_log()
    {
        var environment = new CliEnvironment(NetworkCatalog.Discover(typeof(TinyTestNet).Assembly),
            [new ThrowingProvider(new KeyNotFoundException("The given key 'frame' was not present in the dictionary."), inValidation: false)]);
        var folder = _temp.New("cli-unexpected");
        var (exit, output, error) = Run(environment, default, "train", "tiny-test", "--data", "broken", "--out", folder, "--device", "cpu");
        Assert.Equal(1, exit);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        var log = Path.Combine(folder, "error.log");
        Assert.Equal($"emanet train: KeyNotFoundException: The given key 'frame' was not present in the dictionary. (details: {log})", line);
        var details = File.ReadAllText(log);
        Assert.Contains("System.Collections.Generic.KeyNotFoundException", details);
        Assert.Contains("emanet train tiny-test --data broken", details);
    }

    /// <summary>The README job's failure through the command line: a native error at the second validation.</summary>
    [Fact]
    public void A_native_error_in_training_prints_its_first_line_and_the_resume_command()
    {
        var native = new System.Runtime.InteropServices.ExternalException("c10::Error: simulated\nException raised from forward at conv.cpp:42\nframe #0: 0x7f");
        var environment = new CliEnvironment(NetworkCatalog.Discover(typeof(TinyTestNet).Assembly), [new ThrowingProvider(native, inValidation: true)]);
        var folder = _temp.New("cli-native");
        string[] args = ["train", "tiny-test", "--data", "broken", "--out", folder, "--iterations", "6", "--batch-size", "2", "--eval-interval", "3",
            "--device", "cpu", "--bn-momentum", "keep"];
        var (exit, _, error) = Run(environment, default, args);
        Assert.Equal(1, exit);
        var lines = error.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Equal($"emanet train: native error: c10::Error: simulated (details: {Path.Combine(folder, "error.log")})", lines[0]);
        var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
        Assert.Equal($"emanet train: continue with: emanet train {string.Join(' ', args[1..])} --resume {checkpoint}", lines[1]);
        Assert.Equal(2, TrainingCheckpoint.Load(checkpoint).Iteration); // the default interval for 6 iterations: every iteration
        Assert.Contains("frame #0", File.ReadAllText(Path.Combine(folder, "error.log")));
    }

    private sealed class SyntheticProvider(Action<int>? onBatch = null) : IDataProvider
    {
        public string Description => "synthetic  noise images labelled by their dominant local colour";

        public bool CanOpen(string spec) => spec == "synthetic";

        public TrainingData Open(TrainingDataRequest request) => new(
            BatchSources.FromFunction(i =>
            {
                onBatch?.Invoke(i);
                return SyntheticData.Batch(request.Options.Seed, i, request.Options.BatchSize, request.Input.Height);
            }, request.Spec),
            MeanIoU);

        // mIoU of the network on a held-out batch (classes 0..2, 255 ignored).
        private static double MeanIoU(nn.Module<Tensor, Tensor> module)
        {
            var (images, labels) = SyntheticData.Batch(1234, 0, 2);
            using var scope = NewDisposeScope();
            var predictions = module.forward(images).argmax(1);
            var valid = labels.ne(255);
            var ious = new List<double>();
            for (var c = 0; c < 3; c++)
            {
                var p = predictions.eq(c).logical_and(valid);
                var t = labels.eq(c);
                var union = p.logical_or(t).sum().item<long>();
                if (union > 0) ious.Add((double)p.logical_and(t).sum().item<long>() / union);
            }
            return ious.Average();
        }
    }

    [Fact]
    public void Loss_average_is_a_training_option_recorded_in_run_json()
    {
        var environment = new CliEnvironment(NetworkCatalog.Discover(typeof(TinyTestNet).Assembly), [new SyntheticProvider()]);
        string[] Args(string folder, string average) => ["train", "tiny-test", "--data", "synthetic", "--out", folder, "--iterations", "1", "--batch-size", "2",
            "--eval-interval", "0", "--device", "cpu", "--bn-momentum", "keep", "--loss-average", average];

        var folder = _temp.New("cli-loss-average");
        var (exit, _, error) = Run(environment, default, Args(folder, "labelled"));
        Assert.True(exit == 0, error);
        Assert.Contains("\"lossAverage\": \"labelled\"", File.ReadAllText(Path.Combine(folder, Trainer.RunFileName)));

        var (badExit, _, badError) = Run(environment, default, Args(_temp.New("cli-loss-average-bad"), "mean"));
        Assert.Equal(2, badExit);
        Assert.Contains("--loss-average: 'mean' is not all or labelled", Assert.Single(badError.TrimEnd('\n').Split('\n')));
    }

    [Fact]
    public void Train_runs_and_resumes_through_the_command_line()
    {
        var environment = new CliEnvironment(NetworkCatalog.Discover(typeof(TinyTestNet).Assembly), [new SyntheticProvider()]);
        string[] Common(string folder, string lr = "0.05") => ["train", "tiny-test", "--data", "synthetic", "--out", folder, "--iterations", "4", "--batch-size", "2",
            "--checkpoint-interval", "0", "--eval-interval", "2", "--device", "cpu", "--lr", lr, "--bn-momentum", "keep", "--log-interval", "1"];

        // Stopped (as by Ctrl+C) during the third step: a checkpoint at 3, then --resume finishes the run.
        var split = _temp.New("cli-split");
        using var stop = new CancellationTokenSource();
        var stopping = new CliEnvironment(environment.Networks, [new SyntheticProvider(i => { if (i == 2) stop.Cancel(); })]);
        var (stoppedExit, stoppedOutput, stoppedError) = Run(stopping, stop.Token, Common(split));
        Assert.True(stoppedExit == 130, stoppedError); // as after SIGINT, the default of a cancelled Program.Run
        Assert.Contains("[2/4]", stoppedOutput);
        Assert.Contains("stopped at iteration 3", stoppedOutput);
        var checkpoint = Path.Combine(split, Trainer.CheckpointFileName);
        Assert.Equal(3, TrainingCheckpoint.Load(checkpoint).Iteration);
        Assert.Equal($"emanet train: stopped at iteration 3; continue with: emanet train {string.Join(' ', Common(split)[1..])} --resume {checkpoint}",
            Assert.Single(stoppedError.TrimEnd('\n').Split('\n')));

        var (resumedExit, resumedOutput, resumedError) = Run(environment, default, [.. Common(split), "--resume", checkpoint]);
        Assert.True(resumedExit == 0, resumedError);
        Assert.Contains("resuming tiny-test at iteration 3/4", resumedOutput);
        Assert.Contains("[4/4]", resumedOutput);
        Assert.Contains("validation mIoU", resumedOutput);
        foreach (var file in new[] { Trainer.RunFileName, Trainer.CheckpointFileName, Trainer.CurvesCsvFileName, Trainer.CurvesPngFileName })
            Assert.True(File.Exists(Path.Combine(split, file)), file);
        var history = TrainingHistory.FromCsv(File.ReadAllText(Path.Combine(split, Trainer.CurvesCsvFileName)));
        Assert.Equal(new[] { 1, 2, 3, 4 }, history.Steps.Select(s => s.Iteration));
        Assert.Equal(new[] { 2, 4 }, history.Evaluations.Select(e => e.Iteration));
        Assert.Equal(4, TrainingCheckpoint.Load(checkpoint).Iteration);

        // Changing the recipe on resume is refused in one line.
        var (refusedExit, _, refusedError) = Run(environment, default, [.. Common(split, lr: "0.5"), "--resume", checkpoint]);
        Assert.Equal(1, refusedExit);
        Assert.Contains("LearningRate", Assert.Single(refusedError.TrimEnd('\n').Split('\n')));
    }
}
