using EMANet.Runtime.IO;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

/// <summary>
/// The fixtures hold exactly the keys and shapes the project's naming rules give (EMANET.md
/// sections 1-2), enumerated here independently of the Python that wrote them.
/// </summary>
public sealed class FixtureKeyTests
{
    private static IEnumerable<(string, long[])> Conv(string name, long cout, long cin, long k, bool bias = false)
    {
        yield return ($"{name}.weight", new[] { cout, cin, k, k });
        if (bias) yield return ($"{name}.bias", new[] { cout });
    }

    private static IEnumerable<(string, long[])> BatchNorm(string name, long c) => new[]
    {
        ($"{name}.weight", new[] { c }), ($"{name}.bias", new[] { c }), ($"{name}.running_mean", new[] { c }),
        ($"{name}.running_var", new[] { c }), ($"{name}.num_batches_tracked", Array.Empty<long>()),
    };

    private static IEnumerable<(string, long[])> ConvBnRelu(string name, long cout, long cin, long k) =>
        Conv($"{name}.conv", cout, cin, k).Concat(BatchNorm($"{name}.bn", cout));

    /// <summary>fc0, emau (C=32, K=8), fc1, fc2 (5 classes).</summary>
    private static IEnumerable<(string, long[])> Head(long inChannels) =>
        ConvBnRelu("fc0", 32, inChannels, 3)
            .Append(("emau.mu", new long[] { 1, 32, 8 }))
            .Concat(Conv("emau.conv1", 32, 32, 1, bias: true))
            .Concat(Conv("emau.conv2.0", 32, 32, 1))
            .Concat(BatchNorm("emau.conv2.1", 32))
            .Concat(ConvBnRelu("fc1", 16, 32, 3))
            .Concat(Conv("fc2", 5, 16, 1, bias: true));

    /// <summary>Deep-stem ResNet-50 at width 0.125: planes 8, 16, 32, 64, blocks 3, 4, 6, 3.</summary>
    private static IEnumerable<(string, long[])> DeepStemResNet50Small(string p)
    {
        var keys = Conv($"{p}conv1.0", 8, 3, 3).Concat(BatchNorm($"{p}conv1.1", 8))
            .Concat(Conv($"{p}conv1.3", 8, 8, 3)).Concat(BatchNorm($"{p}conv1.4", 8))
            .Concat(Conv($"{p}conv1.6", 16, 8, 3)).Concat(BatchNorm($"{p}bn1", 16)).ToList();
        long inplanes = 16;
        int[] blocks = { 3, 4, 6, 3 };
        long[] planes = { 8, 16, 32, 64 };
        for (int l = 0; l < 4; l++)
        {
            for (int b = 0; b < blocks[l]; b++)
            {
                string n = $"{p}layer{l + 1}.{b}";
                long q = planes[l];
                keys.AddRange(Conv($"{n}.conv1", q, inplanes, 1).Concat(BatchNorm($"{n}.bn1", q))
                    .Concat(Conv($"{n}.conv2", q, q, 3)).Concat(BatchNorm($"{n}.bn2", q))
                    .Concat(Conv($"{n}.conv3", 4 * q, q, 1)).Concat(BatchNorm($"{n}.bn3", 4 * q)));
                if (b == 0) keys.AddRange(Conv($"{n}.downsample.0", 4 * q, inplanes, 1).Concat(BatchNorm($"{n}.downsample.1", 4 * q)));
                inplanes = 4 * q;
            }
        }
        return keys;
    }

    /// <summary>torchvision ResNet-18 layout with widths 8, 16, 32, 64 and a 10-class fc.</summary>
    private static IEnumerable<(string, long[])> TorchVisionResNet18Small()
    {
        var keys = Conv("conv1", 8, 3, 7).Concat(BatchNorm("bn1", 8)).ToList();
        long inplanes = 8;
        long[] planes = { 8, 16, 32, 64 };
        for (int l = 0; l < 4; l++)
        {
            for (int b = 0; b < 2; b++)
            {
                string n = $"layer{l + 1}.{b}";
                long q = planes[l];
                keys.AddRange(Conv($"{n}.conv1", q, inplanes, 3).Concat(BatchNorm($"{n}.bn1", q))
                    .Concat(Conv($"{n}.conv2", q, q, 3)).Concat(BatchNorm($"{n}.bn2", q)));
                if (b == 0 && l > 0) keys.AddRange(Conv($"{n}.downsample.0", q, inplanes, 1).Concat(BatchNorm($"{n}.downsample.1", q)));
                inplanes = q;
            }
        }
        keys.Add(("fc.weight", new long[] { 10, 64 }));
        keys.Add(("fc.bias", new long[] { 10 }));
        return keys;
    }

    public static IEnumerable<object[]> Expected()
    {
        yield return new object[] { "ema_head", Head(64).ToList() };
        yield return new object[] { "emanet_small", DeepStemResNet50Small("backbone.").Concat(Head(256)).ToList() };
        yield return new object[] { "torchvision_resnet18", TorchVisionResNet18Small().ToList() };
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public void Fixture_HasExactlyTheSpecifiedKeysShapesAndDtypes(string name, List<(string Key, long[] Shape)> expected)
    {
        foreach (var file in new[] { name + ".pth", name + ".safetensors" })
        {
            using var read = WeightsFile.Read(Fixture(file));
            Assert.Equal(expected.Select(e => e.Key), read.Keys);
            foreach (var (key, shape) in expected)
            {
                Assert.True(shape.SequenceEqual(read[key].shape), $"{file}: {key} has [{string.Join(", ", read[key].shape)}], expected [{string.Join(", ", shape)}]");
                var dtype = key.EndsWith("num_batches_tracked") ? ScalarType.Int64 : ScalarType.Float32;
                Assert.Equal(dtype, read[key].dtype);
            }
        }
    }

    [Theory]
    [InlineData("ema_head")]
    [InlineData("emanet_small")]
    [InlineData("torchvision_resnet18")]
    public void Fixture_HasRandomBatchNormStatisticsAndNormalisedBases(string name)
    {
        using var scope = NewDisposeScope();
        using var read = WeightsFile.Read(Fixture(name + ".safetensors"));
        int norms = 0;
        foreach (var (key, t) in read)
        {
            if (key.EndsWith("running_var"))
            {
                Assert.True(t.min().item<float>() >= 0.5f && t.max().item<float>() <= 2f, $"{key} outside [0.5, 2]");
                Assert.True(t.std().item<float>() > 0.05f, $"{key} is not random");
                norms++;
            }
            if (key.EndsWith("running_mean")) Assert.True(t.abs().max().item<float>() > 0, $"{key} is all zero");
            if (key.EndsWith("num_batches_tracked")) Assert.True(t.item<long>() > 0, $"{key} is zero");
        }
        Assert.True(norms > 0);
        if (read.ContainsKey("emau.mu"))
        {
            using var n = read["emau.mu"].norm(1);
            Assert.All(n.data<float>().ToArray(), v => Assert.InRange(v, 0.9999f, 1.0001f));
        }
    }

    [Theory]
    [InlineData("ema_head", new long[] { 1, 64, 9, 11 }, new long[] { 1, 5, 9, 11 })]
    [InlineData("emanet_small", new long[] { 1, 3, 65, 65 }, new long[] { 1, 5, 65, 65 })]
    [InlineData("torchvision_resnet18", new long[] { 1, 3, 64, 64 }, new long[] { 1, 64, 2, 2 })]
    public void Fixture_InputAndOutputArrays_HaveTheSpecifiedShapes(string name, long[] input, long[] output)
    {
        using var scope = NewDisposeScope();
        using var x = NpyFile.Read(Fixture(name + "_input.npy"));
        using var y = NpyFile.Read(Fixture(name + "_output.npy"));
        Assert.Equal(input, x.shape);
        Assert.Equal(output, y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.True(y.std().item<float>() > 0.1f, "the reference output is degenerate");
        Assert.False(y.isnan().any().item<bool>());
    }
}
