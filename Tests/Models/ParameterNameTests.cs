using EMANet.Models;

namespace EMANet.Tests.Models;

/// <summary>State-dict keys of emanet-r101 against the list torchvision's naming rules imply (built here independently).</summary>
public class ParameterNameTests
{
    private static readonly string[] BatchNorm = { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" };

    private static IEnumerable<string> Bn(string prefix) => BatchNorm.Select(s => prefix + "." + s);

    private static IEnumerable<string> ExpectedResNet101DeepStem()
    {
        foreach (var conv in new[] { 0, 3, 6 }) yield return $"backbone.conv1.{conv}.weight";
        foreach (var key in Bn("backbone.conv1.1").Concat(Bn("backbone.conv1.4")).Concat(Bn("backbone.bn1"))) yield return key;
        int[] blocks = { 3, 4, 23, 3 };
        for (int stage = 1; stage <= 4; stage++)
            for (int b = 0; b < blocks[stage - 1]; b++)
            {
                var p = $"backbone.layer{stage}.{b}";
                for (int i = 1; i <= 3; i++)
                {
                    yield return $"{p}.conv{i}.weight";
                    foreach (var key in Bn($"{p}.bn{i}")) yield return key;
                }
                if (b == 0)
                {
                    yield return $"{p}.downsample.0.weight";
                    foreach (var key in Bn($"{p}.downsample.1")) yield return key;
                }
            }
    }

    private static IEnumerable<string> ExpectedHead() =>
        new[] { "fc0.conv.weight" }.Concat(Bn("fc0.bn"))
            .Concat(new[] { "emau.mu", "emau.conv1.weight", "emau.conv1.bias", "emau.conv2.0.weight" }).Concat(Bn("emau.conv2.1"))
            .Concat(new[] { "fc1.conv.weight" }).Concat(Bn("fc1.bn"))
            .Concat(new[] { "fc2.weight", "fc2.bias" });

    [Fact]
    public void EmaNetR101_StateDictKeys_FollowTorchVisionAndTheAuthors()
    {
        using var network = new EmaNetR101();
        var actual = network.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        var expected = ExpectedResNet101DeepStem().Concat(ExpectedHead()).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EmaBases_AreABufferNotAParameter()
    {
        using var network = new EmaNetTiny();
        Assert.DoesNotContain(network.named_parameters(), p => p.name == "emau.mu");
        Assert.Contains(network.named_buffers(), b => b.name == "emau.mu");
    }
}
