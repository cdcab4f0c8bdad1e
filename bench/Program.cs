using System.Runtime.InteropServices;
using System.Text.Json;
using EMANet.Bench;
using EMANet.Models;
using EMANet.Runtime.Natives;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

// emanet-bench <mode> [--option value ...]; every mode prints one JSON object on the last stdout
// line (prefixed "RESULT ") and appends it to --out when given. See bench/README.md.
var options = Options.Parse(args);
var loadedNatives = LibTorchNatives.LoadFromEnvironment();   // before the first tensor operation
int threads = options.Int("threads", 2);
torch.set_num_threads(threads);
torch.set_num_interop_threads(1);
using (var warm = ones(1)) { }                                // libtorch is loaded and initialised here
long rssBaseline = Measure.ProcStatusBytes("VmRSS");

var result = new Dictionary<string, object?>
{
    ["tool"] = "torchsharp",
    ["mode"] = options.Mode,
    ["threads"] = threads,
    ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString(),
    ["libtorch"] = torch.__version__,
    ["dotnet"] = RuntimeInformation.FrameworkDescription,
    ["loadavg_start"] = Measure.LoadAverage(),
    ["rss_baseline_bytes"] = rssBaseline,
};
if (loadedNatives.Count > 0) result["libtorch_loaded_from"] = loadedNatives;

switch (options.Mode)
{
    case "ceilings": Modes.Ceilings(options, result); break;
    case "infer": Modes.Infer(options, result); break;
    case "train": Modes.Train(options, result); break;
    case "accuracy": Modes.Accuracy(options, result); break;
    case "generator": GeneratorTiming.Run(options, result); break;
    case "gpu-check": Modes.GpuCheck(options, result); break;
    case "optimizer-step": OptimizerStep.Run(options, result); break;
    default:
        Console.Error.WriteLine("usage: emanet-bench ceilings|infer|train|accuracy|generator|gpu-check|optimizer-step [--threads 2] [--out file.jsonl] ...");
        return 2;
}

result["loadavg_end"] = Measure.LoadAverage();
result["rss_peak_bytes"] = Measure.ProcStatusBytes("VmHWM");
var json = JsonSerializer.Serialize(result);
if (options.Get("out") is { } outPath) File.AppendAllText(outPath, json + Environment.NewLine);
Console.WriteLine("RESULT " + json);
return 0;

namespace EMANet.Bench
{
    internal sealed class Options
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        public string Mode { get; private init; } = "";

        public static Options Parse(string[] args)
        {
            var o = new Options { Mode = args.Length > 0 ? args[0] : "" };
            for (int i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
                var key = args[i][2..];
                if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) o._values[key] = args[++i];
                else o._values[key] = "true";
            }
            return o;
        }

        public string? Get(string key) => _values.TryGetValue(key, out var v) ? v : null;
        public string Str(string key, string fallback) => Get(key) ?? fallback;
        public int Int(string key, int fallback) => Get(key) is { } v ? int.Parse(v) : fallback;
        public bool Flag(string key) => Get(key) is "true" or "1" or "yes";
    }

    internal static class Modes
    {
        private const int Classes = 21;

        /// <summary>The machine's ceilings through the same libtorch: a 2048^3 matmul and a 3x3 256->256 conv on 1x256x65x65.</summary>
        public static void Ceilings(Options o, Dictionary<string, object?> r)
        {
            int warmup = o.Int("warmup", 3), runs = o.Int("runs", 10);
            var rows = new List<Dictionary<string, object?>>();
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                const long n = 2048;
                var a = randn(n, n).to(dtype);
                var b = randn(n, n).to(dtype);
                var mm = Measure.Time(() => { using var c = a.matmul(b); }, warmup, runs, $"matmul {dtype}");
                rows.Add(Row("matmul_2048", dtype, 2.0 * n * n * n, mm));
                var x = randn(1, 256, 65, 65).to(dtype);
                using var weightScale = 0.02.ToScalar();   // held for the call (README.md, "TorchSharp Scalars")
                var w = randn(256, 256, 3, 3).mul(weightScale).to(dtype);
                var conv = Measure.Time(() => { using var y = nn.functional.conv2d(x, w, padding: [1, 1]); }, warmup, runs, $"conv3x3 {dtype}");
                rows.Add(Row("conv3x3_256_65", dtype, 2.0 * 9 * 256 * 256 * 65 * 65, conv));
                // The same conv with channels-last (NHWC-strided) input and weight.
                var xl = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                var wl = w.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                var convLast = Measure.Time(() => { using var y = nn.functional.conv2d(xl, wl, padding: [1, 1]); }, warmup, runs, $"conv3x3 channels-last {dtype}");
                rows.Add(Row("conv3x3_256_65_channels_last", dtype, 2.0 * 9 * 256 * 256 * 65 * 65, convLast));
            }
            r["ceilings"] = rows;
        }

        private static Dictionary<string, object?> Row(string name, ScalarType dtype, double flop, Measure.Timing t) => new()
        {
            ["name"] = name,
            ["dtype"] = dtype == ScalarType.BFloat16 ? "bf16" : "fp32",
            ["flop"] = flop,
            ["seconds"] = t.Seconds,
            ["median_s"] = t.Median,
            ["gflops"] = flop / t.Median / 1e9,
        };

        /// <summary>The network to measure and, for the generated one, the same object as a <see cref="SegmentationNetwork"/> (null for the hand-written one).</summary>
        internal static (nn.Module<Tensor, Tensor> Net, SegmentationNetwork? Generated) Build(string impl, int size, string network = "emanet-r101")
        {
            random.manual_seed(0);
            switch (impl)
            {
                case "generated":
                    SegmentationNetwork generated = network switch
                    {
                        "emanet-r101" => new EmaNetR101(Classes, new TensorShape(3, size, size)),
                        "emanet-tiny" => new EmaNetTiny(Classes, new TensorShape(3, size, size)),
                        _ => throw new ArgumentException($"--network must be emanet-r101 or emanet-tiny, not '{network}'"),
                    };
                    return (generated, generated);
                case "handwritten" when network != "emanet-r101":
                    throw new ArgumentException("--impl handwritten is emanet-r101");
                case "handwritten":
                    return (new HandWrittenEmaNet(Classes), null);
                default:
                    throw new ArgumentException($"--impl must be generated or handwritten, not '{impl}'");
            }
        }

        /// <summary>Engine MACs and paper-convention FLOPs of the network (emanet-r101 or emanet-tiny) at this size and batch.</summary>
        internal static void Costs(Dictionary<string, object?> r, int size, int batch, double passes, string network = "emanet-r101")
        {
            var analysis = (network == "emanet-tiny" ? EmaNetTiny.Descriptor : EmaNetR101.Descriptor).Analyze(new TensorShape(3, size, size), Classes);
            r["engine_macs"] = (double)analysis.Macs * batch * passes;
            r["engine_paper_flops"] = (double)analysis.Flops * batch * passes;
            r["flop_convention"] = "achieved GFLOP/s = 2 * engine MACs (one multiply-add = 2 FLOP) / median time" +
                                   (passes > 1 ? $"; training counts {passes} x the forward MACs (forward + backward)" : "");
        }

        /// <summary>
        /// Latency of one forward pass of emanet-r101 (eval, no_grad), batch and size as given; <c>--engine onnxruntime</c>:
        /// the project's ONNX export run by ONNX Runtime (<see cref="OnnxRuntimeInference"/>).
        /// </summary>
        public static void Infer(Options o, Dictionary<string, object?> r)
        {
            switch (o.Str("engine", "torch"))
            {
                case "torch":
                    foreach (var option in new[] { "graph-optimization", "onnx-shape" })
                        if (o.Get(option) is not null) throw new ArgumentException($"--{option} is an ONNX Runtime option; add --engine onnxruntime");
                    r["engine"] = "torch";
                    break;
                case "onnxruntime": OnnxRuntimeInference.Run(o, r); return;
                case var other: throw new ArgumentException($"--engine '{other}': expected torch or onnxruntime");
            }
            string impl = o.Str("impl", "generated"), precision = o.Str("precision", "fp32"), network = o.Str("network", "emanet-r101");
            bool fused = o.Flag("fused");
            int size = o.Int("size", 513), batch = o.Int("batch", 1), warmup = o.Int("warmup", 2), runs = o.Int("runs", 5);
            var (net, generated) = Build(impl, size, network);
            net.eval();
            if (fused) (generated ?? throw new ArgumentException("--fused needs the generated network")).FuseForInference();
            bool channelsLast = o.Flag("channels-last");
            if (precision is not ("fp32" or "bf16")) throw new ArgumentException("--precision must be fp32 or bf16");
            net.ForInference(precision == "bf16" ? InferencePrecision.BFloat16 : InferencePrecision.Float32, channelsLast);
            r["rss_after_build_bytes"] = Measure.ProcStatusBytes("VmRSS");
            r["config"] = $"infer{(network == "emanet-r101" ? "" : " " + network)} {impl} {precision} {(fused ? "fused" : "unfused")}{(channelsLast ? " channels-last" : "")}";
            r["impl"] = impl; r["precision"] = precision; r["fused"] = fused; r["channels_last"] = channelsLast; r["network"] = network;
            r["input"] = $"{batch}x3x{size}x{size}";
            random.manual_seed(1);
            using var x = randn(batch, 3, size, size);
            var t = Measure.Time(() => { using var y = net.Predict(x); }, warmup, runs, (string)r["config"]!);
            Costs(r, size, batch, 1, network);
            Fill(r, t, warmup);
            net.Dispose();
        }

        /// <summary>One SGD training step (forward, cross-entropy, backward, step, EMA bases update).</summary>
        public static void Train(Options o, Dictionary<string, object?> r)
        {
            string impl = o.Str("impl", "generated");
            int size = o.Int("size", 257), batch = o.Int("batch", 2), warmup = o.Int("warmup", 1), runs = o.Int("runs", 5);
            string precision = o.Str("precision", "fp32"), optimizerKind = o.Str("optimizer", "sgd");
            var device = new Device(o.Str("device", "cpu"));
            var (net, generated) = Build(impl, size);
            net.to(device);
            net.train();
            var trainingPrecision = TrainingPrecisions.Parse(precision);
            if (trainingPrecision != TrainingPrecision.Float32)
            {
                (generated ?? throw new ArgumentException("--precision bf16-mixed needs the generated network")).SetTrainingPrecision(trainingPrecision);
            }
            // One group, as the PyTorch reference (trainable parameters: the EMA unit's conv1 is frozen).
            var trainable = net.parameters().Where(p => p.requires_grad).ToArray();
            using SGD optimizer = optimizerKind switch
            {
#pragma warning disable RS0030 // --optimizer sgd measures TorchSharp's own SGD (temporary Scalars per step; no other managed thread runs here).
                "sgd" => optim.SGD(trainable, 0.009, momentum: 0.9, weight_decay: 1e-4),
#pragma warning restore RS0030
                "flat" => new FlatSgd([new SGD.ParamGroup(trainable, lr: 0.009, momentum: 0.9, weight_decay: 1e-4)], 0.009, momentum: 0.9, weight_decay: 1e-4),
                _ => throw new ArgumentException("--optimizer must be sgd or flat"),
            };
            r["rss_after_build_bytes"] = Measure.ProcStatusBytes("VmRSS");
            r["config"] = $"train {impl} {precision}{(optimizerKind == "flat" ? " flat-sgd" : "")}{(device.type == DeviceType.CPU ? "" : " " + device)}";
            r["impl"] = impl; r["precision"] = precision; r["fused"] = false; r["optimizer"] = optimizerKind; r["device"] = device.ToString();
            r["input"] = $"{batch}x3x{size}x{size}";
            random.manual_seed(1);
            using var x = randn(batch, 3, size, size).to(device);
            using var target = randint(0, Classes, [batch, size, size], dtype: ScalarType.Int64).to(device);
            var emaUnits = generated?.EmaUnits ?? [];
            var t = Measure.Time(() =>
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var logits = net.forward(x);
                // The trainer's loss (float32 of bf16 logits under mixed precision, as the PyTorch reference's logits.float()).
                var loss = EMANet.Runtime.Training.SegmentationLoss.CrossEntropy(logits, target, 255, EMANet.Runtime.Training.LossAverage.Labelled);
                loss.backward();
                optimizer.step();
                foreach (var unit in emaUnits) unit.UpdateBases();
                if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
            }, warmup, runs, (string)r["config"]!);
            r["images_per_s"] = batch / t.Median;
            Costs(r, size, batch, 3);
            Fill(r, t, warmup);
            net.Dispose();
        }

        internal static void Fill(Dictionary<string, object?> r, Measure.Timing t, int warmup)
        {
            r["warmup"] = warmup;
            r["runs"] = t.Seconds.Length;
            r["seconds"] = t.Seconds;
            r["median_s"] = t.Median;
            r["min_s"] = t.Min;
            r["max_s"] = t.Max;
            r["achieved_gflops"] = 2 * (double)r["engine_macs"]! / t.Median / 1e9;
        }

        /// <summary>
        /// Numerical checks at full size (not timed): hand-written vs generated, fused vs unfused, bf16 vs fp32.
        /// BN statistics are calibrated on one random image (train-mode forward with momentum 1) so the activations are realistic.
        /// </summary>
        public static void Accuracy(Options o, Dictionary<string, object?> r)
        {
            int size = o.Int("size", 513);
            bool calibrate = o.Str("bn", "calibrated") == "calibrated";
            var net = Build("generated", size).Generated!;
            if (calibrate)
            using (no_grad())
            {
                net.train();
                foreach (var (_, m) in net.named_modules())
                    if (m is EMANet.Runtime.Blocks.BatchNorm2d bn) bn.momentum = 1.0;
                random.manual_seed(2);
                using var calibration = randn(1, 3, size, size);
                using var _ = net.forward(calibration);
                net.eval();
            }
            random.manual_seed(3);
            using var x = randn(1, 3, size, size);
            var state = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

            // Stage outputs (backbone, fc0, emau, fc1, fc2) of four variants, against a float64 unfused reference.
            var reference = Stages(Variant(state, size, ScalarType.Float64, fused: false), x);
            var variants = new (string Name, ScalarType Dtype, bool Fused, bool ChannelsLast)[]
            {
                ("fp32_unfused", ScalarType.Float32, false, false), ("fp32_fused", ScalarType.Float32, true, false),
                ("fp32_fused_channels_last", ScalarType.Float32, true, true),
                ("bf16_fused", ScalarType.BFloat16, true, false), ("bf16_fused_channels_last", ScalarType.BFloat16, true, true),
            };
            var stages = new Dictionary<string, object?>();
            var outputs = new Dictionary<string, Tensor>();
            foreach (var (name, dtype, fused, channelsLast) in variants)
            {
                var got = Stages(Variant(state, size, dtype, fused, channelsLast), x);
                stages[name + "_vs_fp64"] = got.Select((t, i) => (Stage: reference[i].Name, Cmp: Compare(t.Output, reference[i].Output)))
                    .ToDictionary(p => p.Stage, p => (object?)p.Cmp);
                outputs[name] = got[^1].Output;
            }
            r["stage_errors_vs_fp64"] = stages;
            r["fused_vs_unfused_fp32"] = Compare(outputs["fp32_fused"], outputs["fp32_unfused"]);
            r["bf16_fused_vs_fp32_unfused"] = Compare(outputs["bf16_fused"], outputs["fp32_unfused"]);
            r["channels_last_vs_not_fp32_fused"] = Compare(outputs["fp32_fused_channels_last"], outputs["fp32_fused"]);
            r["bf16_fused_channels_last_vs_fp32_unfused"] = Compare(outputs["bf16_fused_channels_last"], outputs["fp32_unfused"]);

            using (var hand = new HandWrittenEmaNet(Classes))
            {
                hand.load_state_dict(state);
                hand.eval();
                using var handOut = hand.Predict(x);
                using var generatedOut = Variant(state, size, ScalarType.Float32, fused: false).Predict(x);
                r["handwritten_vs_generated"] = Compare(handOut, generatedOut);
            }
            r["config"] = "accuracy " + (calibrate ? "calibrated-bn" : "init-bn");
            r["bn"] = calibrate ? "calibrated" : "init";
            r["input"] = $"1x3x{size}x{size}";
            r["note"] = "random weights (authors' init), " + (calibrate ? "BN statistics calibrated on one random image (train-mode forward, momentum 1)" : "BN at init (mean 0, var 1, weight 1, bias 0)") + ", random normal input; " +
                        "errors of the 65x65 logits before upsampling (stage fc2) and per stage against a float64 unfused copy";
            net.Dispose();
        }

        private static EmaNetR101 Variant(Dictionary<string, Tensor> state, int size, ScalarType dtype, bool fused, bool channelsLast = false)
        {
            var v = new EmaNetR101(Classes, new TensorShape(3, size, size));
            v.load_state_dict(state);
            v.eval();
            if (dtype == ScalarType.Float64) v.to(ScalarType.Float64);
            if (fused) v.FuseForInference();
            if (dtype == ScalarType.BFloat16) v.ForInference(InferencePrecision.BFloat16);
            if (channelsLast) v.ToChannelsLast();
            return v;
        }

        /// <summary>Runs the network's children in order (backbone .. fc2) and keeps each output in float64.</summary>
        private static List<(string Name, Tensor Output)> Stages(EmaNetR101 net, Tensor input)
        {
            using var noGrad = no_grad();
            var dtype = net.parameters().First().dtype;
            var outputs = new List<(string, Tensor)>();
            var x = input.to(dtype);
            foreach (var (name, child) in net.named_children())
            {
                if (child is not nn.Module<Tensor, Tensor> stage) continue;
                x = stage.forward(x);
                outputs.Add((name, x.to(ScalarType.Float64)));
            }
            net.Dispose();
            return outputs;
        }

        private static Dictionary<string, object?> Compare(Tensor actual, Tensor expected)
        {
            using var scope = NewDisposeScope();
            var expected64 = expected.to(float64);
            var diff = (actual.to(float64) - expected64).abs();
            double maxAbs = diff.max().item<double>(), scale = expected64.abs().max().item<double>();
            double agree = actual.argmax(1).eq(expected.argmax(1)).to(float64).mean().item<double>();
            return new()
            {
                ["max_abs_diff"] = maxAbs,
                ["mean_abs_diff"] = diff.mean().item<double>(),
                ["max_abs_logit"] = scale,
                ["relative_max_diff"] = maxAbs / scale,
                ["argmax_agreement"] = agree,
            };
        }

        /// <summary>On a CUDA machine: the tiny network on CUDA vs CPU, then emanet-r101 fused latency (fp32, bf16). Not run in this repository's sessions.</summary>
        public static void GpuCheck(Options o, Dictionary<string, object?> r)
        {
            r["config"] = "gpu-check";
            bool available = torch.cuda.is_available();
            r["cuda_available"] = available;
            if (!available) return;
            r["cuda_devices"] = torch.cuda.device_count();
            var cuda = torch.CUDA;
            random.manual_seed(0);
            using (var tiny = new EmaNetTiny())
            {
                tiny.FuseForInference();
                using var x = randn(1, 3, 129, 129);
                using var cpu = tiny.Predict(x);
                tiny.to(cuda);
                using var xc = x.to(cuda);
                using var gpu = tiny.Predict(xc);
                r["tiny_cuda_vs_cpu"] = Compare(gpu.cpu(), cpu);
            }
            int size = o.Int("size", 513), runs = o.Int("runs", 10);
            var net = new EmaNetR101(Classes, new TensorShape(3, size, size));
            net.FuseForInference();
            net.to(cuda);
            using var input = randn(1, 3, size, size, device: cuda);
            var rows = new List<Dictionary<string, object?>>();
            foreach (var precision in new[] { InferencePrecision.Float32, InferencePrecision.BFloat16 })
            {
                net.ForInference(precision);
                var t = Measure.Time(() => { using var y = net.Predict(input); torch.cuda.synchronize(); }, 3, runs, $"cuda {precision}");
                rows.Add(new() { ["precision"] = precision.ToString(), ["seconds"] = t.Seconds, ["median_s"] = t.Median });
            }
            r["cuda_latency"] = rows;
            net.Dispose();
        }
    }
}
