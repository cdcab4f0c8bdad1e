using EMANet.Engine;
using EMANet.Models;

namespace EMANet.Tests.Engine;

/// <summary>
/// The paper's cost table (EMANET.md section 4) must come out of the engine: ResNet-101 deep stem,
/// OS 8, 513x513, and the head increments fc0 + emau (bases counted), each within 1%.
/// </summary>
public class PaperCostTableTests
{
    private static void Within1Percent(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 0.01 * expected, $"{what}: expected {expected:N0} within 1%, got {actual:N0}");

    [Fact]
    public void ResNet101Backbone_MatchesPaper()
    {
        var analysis = EmaNetR101.Descriptor.Analyze();
        var backbone = analysis.Under("backbone").ToArray();
        Within1Percent(190.6e9, backbone.Sum(r => r.Flops), "backbone FLOPs");
        Within1Percent(42.6e6, backbone.Sum(r => r.Parameters), "backbone params");
    }

    [Fact]
    public void ResNet101Backbone_ModuleMemory_MatchesPaper()
    {
        // 2.603G = 2603 MB of 2^20 bytes, counted per leaf module instance (last call).
        var backbone = EmaNetR101.Descriptor.Analyze().Under("backbone");
        Within1Percent(2603 * 1048576.0, NetworkAnalysis.ModuleMemoryOf(backbone), "backbone module memory");
    }

    [Theory]
    [InlineData(typeof(EmaNetR101), 43.1e9, 10.0e6)]
    [InlineData(typeof(EmaNetR101C256), 21.1e9, 4.87e6)]
    public void EmaHeadIncrement_MatchesPaper(Type network, double flops, double parameters)
    {
        var descriptor = (EMANet.Runtime.Networks.NetworkDescriptor)network.GetProperty("Descriptor", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly)!.GetValue(null)!;
        var analysis = descriptor.Analyze();
        var head = analysis.Under("fc0").Concat(analysis.Under("emau")).ToArray();
        Within1Percent(flops, head.Sum(r => r.Flops), "head FLOPs");
        Within1Percent(parameters, head.Sum(r => r.Parameters), "head params");
    }

    [Fact]
    public void EmaUnitCounts_EveryMatrixProductOfTheIterations()
    {
        // (2T + 1) * N * C * K multiply-adds for T = 3, N = 65*65, C = 512, K = 64.
        var rows = EmaNetR101.Descriptor.Analyze().Under("emau").Where(r => r.Kind is "EStep" or "MStep" or "Reconstruct");
        Assert.Equal(7L * 65 * 65 * 512 * 64, rows.Sum(r => r.Macs));
    }

    [Fact]
    public void HandCountedConvolution_MatchesLedger()
    {
        // fc0: 3x3, 2048 -> 512 at 65x65, no bias: 9 * 2048 * 512 * 4225 MACs; + BN 2/elem + ReLU 1/elem.
        var rows = EmaNetR101.Descriptor.Analyze().Under("fc0").ToArray();
        long macs = 9L * 2048 * 512 * 65 * 65;
        Assert.Equal(macs, rows.Single(r => r.Kind == "Conv2d").Macs);
        Assert.Equal(macs + 3L * 512 * 65 * 65, rows.Sum(r => r.Flops));
        Assert.Equal(9L * 2048 * 512 + 2 * 512, rows.Sum(r => r.Parameters));
    }
}
