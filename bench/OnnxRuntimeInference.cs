using System.Diagnostics;
using System.Reflection;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx;
using EMANet.Runtime.Onnx.Proto;
using EMANet.Runtime.Onnx.Quantization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace EMANet.Bench;

/// <summary>
/// <c>infer --engine onnxruntime</c>: the generated emanet-r101 exported by the project's exporter
/// (<see cref="OnnxExporter"/>, fused, opset 17) and run by the project's <see cref="OnnxRuntimeEngine"/>, the engine
/// <c>emanet predict --engine onnxruntime</c> uses (its <c>Logits</c>, copies in and out included). Same input, timing
/// harness (<see cref="Measure.Time"/>) and cost fields as the TorchSharp inference rows.
/// </summary>
/// <remarks>
/// Options: <c>--precision fp32|int8</c> (bf16 is refused: a TorchSharp setting, the export is float32; int8 = the static QDQ
/// model of <see cref="StaticQuantization"/>, calibrated on <c>--calibration-images N</c> random images, 2 by default: latency only);
/// <c>--network emanet-r101|emanet-tiny</c>;
/// <c>--onnx-shape fixed|dynamic</c> (fixed, default: the graph's input is 1 x 3 x size x size, the fair latency case;
/// dynamic: free batch, height and width, as <see cref="OnnxRuntimeEngine.ForNetwork"/> exports for <c>emanet predict</c>);
/// <c>--graph-optimization none|basic|extended|all</c> (all); <c>--threads N</c> = ONNX Runtime's intra-op threads.
/// </remarks>
internal static class OnnxRuntimeInference
{
    public static void Run(Options o, Dictionary<string, object?> r)
    {
        string precision = o.Str("precision", "fp32");
        if (precision == "bf16")
            throw new ArgumentException("--precision bf16 is a TorchSharp setting; --engine onnxruntime runs the float32 export (--precision fp32)");
        if (precision is not ("fp32" or "int8"))
            throw new ArgumentException($"--precision '{precision}': --engine onnxruntime runs fp32 or int8 (the static QDQ quantizer)");
        if (o.Str("impl", "generated") != "generated")
            throw new ArgumentException("--engine onnxruntime exports the generated network (--impl generated)");
        if (o.Flag("channels-last"))
            throw new ArgumentException("--channels-last is a TorchSharp setting; ONNX Runtime chooses its own layouts (--graph-optimization all)");
        string shapeMode = o.Str("onnx-shape", "fixed");
        if (shapeMode is not ("fixed" or "dynamic"))
            throw new ArgumentException($"--onnx-shape '{shapeMode}': expected fixed or dynamic");
        var level = o.Str("graph-optimization", "all") switch
        {
            "all" => OnnxGraphOptimization.All,
            "extended" => OnnxGraphOptimization.Extended,
            "basic" => OnnxGraphOptimization.Basic,
            "none" => OnnxGraphOptimization.None,
            var other => throw new ArgumentException($"--graph-optimization '{other}': expected none, basic, extended or all"),
        };
        int threads = o.Int("threads", 2);
        int size = o.Int("size", 513), batch = o.Int("batch", 1), warmup = o.Int("warmup", 2), runs = o.Int("runs", 5);
        bool dynamic = shapeMode == "dynamic";
        if (batch != 1 && !dynamic)
            throw new ArgumentException($"--batch {batch}: a fixed-size export is batch 1; add --onnx-shape dynamic");

        string network = o.Str("network", "emanet-r101");
        var (net, _) = Modes.Build("generated", size, network);
        net.eval();
        r["rss_after_network_bytes"] = Measure.ProcStatusBytes("VmRSS");

        // The project's export (fuses the network in place), serialised as a session reads it.
        var clock = Stopwatch.StartNew();
        ModelProto fp32Model = OnnxExporter.Export(net, new OnnxExportOptions(dynamic, new TensorShape(3, size, size)));
        byte[] model = fp32Model.ToByteArray();
        r["export_s"] = clock.Elapsed.TotalSeconds;
        r["model_bytes"] = model.LongLength;
        net.Dispose();   // the session holds its own copy of the weights
        if (precision == "int8")
        {
            // Latency only: MinMax calibration on a few random normal images (the scales change no kernel's work; accuracy is
            // measured on a trained network in results/int8.md).
            int calibration = o.Int("calibration-images", 2);
            clock.Restart();
            random.manual_seed(2);
            var batches = Enumerable.Range(0, calibration).Select(_ => randn(1, 3, size, size)).ToArray();
            var quantized = StaticQuantization.Quantize(fp32Model, batches, $"{calibration} random normal images");
            foreach (var b in batches) b.Dispose();
            model = quantized.ToByteArray();
            r["quantize_s"] = clock.Elapsed.TotalSeconds;
            r["calibration_images"] = calibration;
            r["quantized_model_bytes"] = model.LongLength;
        }
        clock.Restart();
        using var engine = new OnnxRuntimeEngine(model, new OnnxRuntimeOptions(threads, level));
        r["session_create_s"] = clock.Elapsed.TotalSeconds;
        // The session parsed its own copy: drop the managed model (ModelProto and bytes) before reading the memory.
        fp32Model = null!;
        model = null!;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);   // aggressive: decommits the freed memory
        r["rss_after_build_bytes"] = Measure.ProcStatusBytes("VmRSS");
        r["managed_committed_after_build_bytes"] = GC.GetGCMemoryInfo().TotalCommittedBytes;
        r["rss_peak_after_build_bytes"] = Measure.ProcStatusBytes("VmHWM");

        r["tool"] = "onnxruntime";
        r["engine"] = "onnxruntime";
        r["onnxruntime"] = typeof(InferenceSession).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        r["onnxruntime_native"] = OrtEnv.Instance().GetVersionString();
        r["engine_description"] = engine.Description;
        r["graph_optimization"] = level.ToString().ToLowerInvariant();
        r["onnx_shape"] = shapeMode;
        r["network"] = network;
        r["config"] = $"infer{(network == "emanet-r101" ? "" : " " + network)} onnxruntime {precision} (project export, {shapeMode} shape, graph optimisation {r["graph_optimization"]})";
        r["impl"] = "generated"; r["precision"] = precision; r["fused"] = true; r["channels_last"] = false;
        r["input"] = $"{batch}x3x{size}x{size}";
        random.manual_seed(1);
        using var x = randn(batch, 3, size, size);
        var t = Measure.Time(() => { using var y = engine.Logits(x); }, warmup, runs, (string)r["config"]!);
        Modes.Costs(r, size, batch, 1, network);
        Modes.Fill(r, t, warmup);
    }
}
