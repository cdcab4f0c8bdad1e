using EMANet.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

public class PolyLearningRateTests
{
    [Fact]
    public void Closed_form_values()
    {
        Assert.Equal(0.009, PolyLearningRate.At(0.009, 0, 30000, 0.9));
        Assert.Equal(0.009 * Math.Pow(0.5, 0.9), PolyLearningRate.At(0.009, 15000, 30000, 0.9), 15);
        Assert.Equal(0.0, PolyLearningRate.At(0.009, 30000, 30000, 0.9));
        // The authors recompute every 10 iterations.
        Assert.Equal(PolyLearningRate.At(1, 10, 100, 0.9), PolyLearningRate.At(1, 19, 100, 0.9, updateInterval: 10));
        Assert.Equal(1.0, PolyLearningRate.At(1, 9, 100, 0.9, updateInterval: 10));
    }

    [Fact]
    public void Matches_torchsharp_PolynomialLR_stepped_once_per_iteration()
    {
        using var parameter = new TorchSharp.Modules.Parameter(zeros(1));
        using var sgd = optim.SGD(new[] { parameter }, 0.009);
        var scheduler = optim.lr_scheduler.PolynomialLR(sgd, total_iters: 50, power: 0.9);
        for (var it = 0; it < 50; it++)
        {
            Assert.Equal(PolyLearningRate.At(0.009, it, 50, 0.9), sgd.ParamGroups.First().LearningRate, 12);
            sgd.step();
            scheduler.step();
        }
    }
}
