using System.Diagnostics;
using EMANet.Models;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Bench;

/// <summary>
/// One optimizer step over emanet-r101's parameters with the recipe's three groups (ParameterGroups):
/// TorchSharp's SGD (several kernels per parameter tensor) against FlatSgd (a few kernels per group).
/// Gradients are random (filled once); both optimizers step the same network in turn, TorchSharp's first.
/// </summary>
internal static class OptimizerStep
{
    public static void Run(Options o, Dictionary<string, object?> r)
    {
        int warmup = o.Int("warmup", 3), runs = o.Int("runs", 20);
        var device = o.Str("device", "cpu") == "cuda" ? torch.CUDA : torch.CPU;
        random.manual_seed(0);
        using var net = new EmaNetR101(21, new TensorShape(3, 513, 513));
        net.to(device);
        net.train();
        var groups = ParameterGroups.Of(net);
        var recipe = new TrainingOptions();
        var parameters = net.parameters().ToArray();
        using (no_grad())
            foreach (var p in parameters)
                p.grad = randn_like(p).DetachFromDisposeScope();
        r["config"] = $"optimizer-step emanet-r101 {device.type}";
        r["device"] = device.type.ToString();
        r["parameter_tensors"] = parameters.Length;
        r["parameter_elements"] = parameters.Sum(p => p.numel());
        r["groups"] = new[] { groups.Decayed.Count, groups.Undecayed.Count, groups.Biases.Count };
        r["warmup"] = warmup;
        r["runs"] = runs;

        Action Step(SGD optimizer) => () =>
        {
            ParameterGroups.SetLearningRate(optimizer, recipe.LearningRate, recipe.BiasLearningRateMultiplier);
            optimizer.step();
            if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
        };

        Measure.Timing sgd;
#pragma warning disable RS0030 // the reference is TorchSharp's own SGD, measured as such (temporary Scalars per step; no other managed thread runs here).
        using (var reference = optim.SGD(new List<SGD.ParamGroup>
               {
                   new(groups.Decayed.Select(p => p.Parameter).ToArray(), lr: recipe.LearningRate, momentum: recipe.Momentum, weight_decay: recipe.WeightDecay),
                   new(groups.Undecayed.Select(p => p.Parameter).ToArray(), lr: recipe.LearningRate, momentum: recipe.Momentum, weight_decay: 0),
                   new(groups.Biases.Select(p => p.Parameter).ToArray(), lr: recipe.LearningRate * recipe.BiasLearningRateMultiplier, momentum: recipe.Momentum, weight_decay: 0),
               }, recipe.LearningRate, momentum: recipe.Momentum))
            sgd = Measure.Time(Step(reference), warmup, runs, "torchsharp SGD step");
#pragma warning restore RS0030

        var build = Stopwatch.StartNew();
        using var flat = groups.CreateOptimizer(recipe);   // copies the parameters and the gradients into its flat buffers
        r["flat_construction_s"] = build.Elapsed.TotalSeconds;
        var flatTiming = Measure.Time(Step(flat), warmup, runs, "FlatSgd step");
        var zero = Measure.Time(() => { flat.zero_grad(); if (device.type == DeviceType.CUDA) torch.cuda.synchronize(); }, 1, runs, "FlatSgd zero_grad");

        r["sgd_seconds"] = sgd.Seconds;
        r["sgd_median_ms"] = sgd.Median * 1e3;
        r["flat_seconds"] = flatTiming.Seconds;
        r["flat_median_ms"] = flatTiming.Median * 1e3;
        r["flat_zero_grad_median_ms"] = zero.Median * 1e3;
        r["speedup"] = sgd.Median / flatTiming.Median;
        r["median_s"] = flatTiming.Median;
        Console.Error.WriteLine($"  {parameters.Length} parameter tensors, {parameters.Sum(p => p.numel()):N0} elements: SGD {sgd.Median * 1e3:F2} ms/step, FlatSgd {flatTiming.Median * 1e3:F2} ms/step ({sgd.Median / flatTiming.Median:F2}x)");
    }
}
