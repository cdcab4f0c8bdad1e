using EMANet.Runtime.Blocks;
using EMANet.Runtime.IO;
using TorchSharp;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

public sealed class StateDictLoaderTests
{
    private static nn.Module<Tensor, Tensor> ConvBn() => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3, bias: false)),
        ("bn", new BatchNorm2d(4)));

    private static Dictionary<string, Tensor> ConvBnSource() => new()
    {
        ["conv.weight"] = randn(4, 3, 3, 3, dtype: ScalarType.Float64),
        ["bn.weight"] = rand(4),
        ["bn.bias"] = randn(4),
        ["bn.running_mean"] = randn(4),
        ["bn.running_var"] = rand(4) + 0.5,
        ["bn.num_batches_tracked"] = tensor(1234L),
    };

    [Fact]
    public void BatchNorm2d_KeepsNumBatchesTrackedInItsStateDict()
    {
        using var module = ConvBn();
        Assert.Equal(new[] { "conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" },
            module.state_dict().Keys);
    }

    [Fact]
    public void Native_CopiesIntoParametersAndBuffers_ConvertingDtype()
    {
        using var scope = NewDisposeScope();
        var module = ConvBn();
        var source = ConvBnSource();
        var report = StateDictLoader.Load(module, source, WeightsLayout.Native, strict: true);

        Assert.True(report.IsComplete);
        Assert.Equal(6, report.Loaded.Count);
        Assert.Equal(WeightsLayout.Native, report.Mapping.Layout);
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var buffers = module.named_buffers().ToDictionary(p => p.name, p => p.buffer);
        Assert.Equal(ScalarType.Float32, parameters["conv.weight"].dtype);
        Assert.True(parameters["conv.weight"].allclose(source["conv.weight"].to(ScalarType.Float32)));
        AssertBitwiseEqual(source["bn.bias"], parameters["bn.bias"], "bn.bias");
        AssertBitwiseEqual(source["bn.running_mean"], buffers["bn.running_mean"], "bn.running_mean");
        AssertBitwiseEqual(source["bn.running_var"], buffers["bn.running_var"], "bn.running_var");
        Assert.Equal(1234L, buffers["bn.num_batches_tracked"].item<long>());
        Assert.True(parameters["conv.weight"].requires_grad);
    }

    [Fact]
    public void Strict_ListsEveryProblem_AndCopiesNothing()
    {
        using var scope = NewDisposeScope();
        var module = ConvBn();
        var source = ConvBnSource();
        source.Remove("bn.bias");
        source["bn.weight"] = ones(5);
        source["head.weight"] = ones(1);
        var before = module.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());

        var e = Assert.Throws<StateDictLoadException>(() => StateDictLoader.Load(module, source, WeightsLayout.Native, strict: true));
        Assert.Contains("missing keys (1): bn.bias", e.Message);
        Assert.Contains("unexpected keys (1): head.weight", e.Message);
        Assert.Contains("shape mismatch: bn.weight: the module has [4], the checkpoint [5]", e.Message);
        Assert.Equal(new[] { "bn.bias" }, e.Report.Missing);
        Assert.Equal(new[] { "head.weight" }, e.Report.Unexpected);
        var mismatch = Assert.Single(e.Report.ShapeMismatched);
        Assert.Equal("bn.weight", mismatch.Name);
        Assert.Equal(new long[] { 4 }, mismatch.Expected);
        Assert.Equal(new long[] { 5 }, mismatch.Got);
        foreach (var (key, value) in module.state_dict())
            AssertBitwiseEqual(before[key], value, $"{key} (must be unchanged after a failed strict load)");

        // Not strict: the matching keys are copied, the report lists the rest.
        var report = StateDictLoader.Load(module, source, WeightsLayout.Native, strict: false);
        Assert.False(report.IsComplete);
        Assert.Equal(new[] { "conv.weight", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" }, report.Loaded);
        AssertBitwiseEqual(source["bn.running_mean"], module.state_dict()["bn.running_mean"], "bn.running_mean");
        AssertBitwiseEqual(before["bn.bias"], module.state_dict()["bn.bias"], "bn.bias (missing, so unchanged)");
    }

    [Fact]
    public void NumBatchesTracked_MissingOnEitherSide_IsNoProblem()
    {
        using var scope = NewDisposeScope();
        var module = ConvBn();
        var source = ConvBnSource();
        source.Remove("bn.num_batches_tracked");
        var report = StateDictLoader.Load(module, source, WeightsLayout.Native, strict: true);
        Assert.Equal(new[] { "bn.num_batches_tracked" }, report.Defaulted);
        Assert.Empty(report.Missing);

        // A module without the counter (here a stand-in without it) ignores the checkpoint's.
        var keyed = new KeyedModule();
        keyed.Add("bn.running_mean", zeros(4), buffer: true);
        var withCounter = new Dictionary<string, Tensor> { ["bn.running_mean"] = ones(4), ["bn.num_batches_tracked"] = tensor(3L) };
        var report2 = StateDictLoader.Load(keyed, withCounter, WeightsLayout.Native, strict: true);
        Assert.Equal(new[] { "bn.num_batches_tracked" }, report2.Ignored);
        Assert.Empty(report2.Unexpected);
    }

    /// <summary>A stand-in network with the shapes of a fixture's keys (optionally renamed).</summary>
    private static KeyedModule ModuleLike(IReadOnlyDictionary<string, Tensor> keys, Func<string, string?> rename)
    {
        var module = new KeyedModule();
        foreach (var (key, t) in keys)
            if (rename(key) is { } name)
                module.Add(name, zeros(t.shape, t.dtype), KeyedModule.IsBufferName(name));
        return module;
    }

    [Fact]
    public void TorchVisionCheckpoint_GoesIntoTheBackbone_DroppingFc()
    {
        using var scope = NewDisposeScope();
        using var checkpoint = WeightsFile.Read(Fixture("torchvision_resnet18.pth"));
        var module = ModuleLike(checkpoint, k => k.StartsWith("fc.") ? null : "backbone." + k);
        module.Add("fc0.conv.weight", zeros(2, 64, 3, 3), buffer: false); // a head the checkpoint does not cover

        var report = StateDictLoader.Load(module, checkpoint, WeightsLayout.Auto, strict: true);
        Assert.Equal(WeightsLayout.TorchVisionResNet, report.Mapping.Layout);
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, report.Ignored);
        Assert.Equal(new[] { "fc0.conv.weight" }, report.NotCovered);
        Assert.Equal(120, report.Loaded.Count);
        var state = module.state_dict();
        foreach (var (key, value) in checkpoint.Where(p => !p.Key.StartsWith("fc.")))
            AssertBitwiseEqual(value, state["backbone." + key], key);
    }

    [Fact]
    public void DeepStemCheckpoint_IsDetected_AndAMissingBackboneKeyIsStillReported()
    {
        using var scope = NewDisposeScope();
        using var full = WeightsFile.Read(Fixture("emanet_small.safetensors"));
        // The authors' ImageNet checkpoint: the backbone's keys without prefix, plus an fc.
        var checkpoint = full.Where(p => p.Key.StartsWith("backbone."))
            .ToDictionary(p => p.Key["backbone.".Length..], p => p.Value);
        checkpoint["fc.weight"] = zeros(1000, 256);
        checkpoint["fc.bias"] = zeros(1000);
        var module = ModuleLike(full, k => k);

        var report = StateDictLoader.Load(module, checkpoint, WeightsLayout.Auto, strict: true);
        Assert.Equal(WeightsLayout.DeepStemResNet, report.Mapping.Layout);
        Assert.Equal(330, report.Loaded.Count);
        Assert.Equal(23, report.NotCovered.Count);
        AssertBitwiseEqual(full["backbone.conv1.6.weight"], module.state_dict()["backbone.conv1.6.weight"], "conv1.6");

        checkpoint.Remove("layer3.5.bn2.running_var");
        var e = Assert.Throws<StateDictLoadException>(() => StateDictLoader.Load(module, checkpoint, WeightsLayout.DeepStemResNet, strict: true));
        Assert.Equal(new[] { "backbone.layer3.5.bn2.running_var" }, e.Report.Missing);
    }

    [Fact]
    public void NativeCheckpoint_WithDataParallelPrefix_IsDetectedAndStripped()
    {
        using var scope = NewDisposeScope();
        using var pth = WeightsFile.Read(Fixture("emanet_small.pth"));
        var module = ModuleLike(pth, k => k);
        var report = StateDictLoader.Load(module, pth, WeightsLayout.Auto, strict: true);
        Assert.Equal(WeightsLayout.Native, report.Mapping.Layout);
        Assert.Equal(353, report.Loaded.Count);

        var wrapped = pth.ToDictionary(p => "module." + p.Key, p => p.Value);
        var report2 = StateDictLoader.Load(ModuleLike(pth, k => k), wrapped, WeightsLayout.Auto, strict: true);
        Assert.Equal("module.", report2.Mapping.StrippedPrefix);
        Assert.Equal(353, report2.Loaded.Count);
    }

    [Fact]
    public void EmaUnitBlock_TakesTheFixturesEmaKeys()
    {
        using var scope = NewDisposeScope();
        using var head = WeightsFile.Read(Fixture("ema_head.pth"));
        var emau = head.Where(p => p.Key.StartsWith("emau.")).ToDictionary(p => p.Key["emau.".Length..], p => p.Value);
        using var unit = new EmaUnit(32, bases: 8, iterations: 3);

        var report = StateDictLoader.Load(unit, emau, WeightsLayout.Native, strict: true);
        Assert.Equal(emau.Count, report.Loaded.Count);
        AssertBitwiseEqual(emau["mu"], unit.BasesBuffer, "mu");
        AssertBitwiseEqual(emau["conv2.1.running_var"], unit.state_dict()["conv2.1.running_var"], "conv2.1.running_var");
    }
}
