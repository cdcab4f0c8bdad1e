using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

[Collection(nameof(TorchGlobalState))]
public class ParameterGroupsTests
{
    [Fact]
    public void Conv_weights_decay_bn_weights_do_not_and_biases_get_twice_the_lr()
    {
        using var network = new TinyTestNet();
        var groups = ParameterGroups.Of(network);

        Assert.All(groups.Decayed, p => Assert.Equal(4, p.Parameter.dim()));
        Assert.All(groups.Undecayed, p => Assert.EndsWith("weight", p.Name));
        Assert.All(groups.Undecayed, p => Assert.Equal(1, p.Parameter.dim()));
        Assert.All(groups.Biases, p => Assert.EndsWith("bias", p.Name));
        Assert.Contains(groups.Decayed, p => p.Name == "backbone.conv1.0.weight");
        Assert.Contains(groups.Undecayed, p => p.Name == "backbone.bn1.weight");
        Assert.Contains(groups.Biases, p => p.Name == "backbone.bn1.bias");
        Assert.Contains(groups.Biases, p => p.Name == "fc2.bias");
        // the EMA unit's conv1 never gets a gradient (EMANET.md) and is frozen: no group holds it
        Assert.DoesNotContain(groups.Decayed.Concat(groups.Undecayed).Concat(groups.Biases), p => p.Name.StartsWith("emau.conv1."));
        Assert.Equal(network.parameters().Count(p => p.requires_grad), groups.Decayed.Count + groups.Undecayed.Count + groups.Biases.Count);
        Assert.Equal(network.parameters().Count() - 2, groups.Decayed.Count + groups.Undecayed.Count + groups.Biases.Count);
        // the EMA bases are a buffer, not a parameter
        Assert.DoesNotContain(groups.Decayed.Concat(groups.Undecayed).Concat(groups.Biases), p => p.Name.EndsWith(".mu"));

        var options = new TrainingOptions();
        using var sgd = groups.CreateOptimizer(options);
        var pg = sgd.ParamGroups.Cast<TorchSharp.Modules.SGD.ParamGroup>().ToArray();
        Assert.Equal(3, pg.Length);
        Assert.Equal(1e-4, pg[0].Options.weight_decay);
        Assert.Equal(0.0, pg[1].Options.weight_decay);
        Assert.Equal(0.0, pg[2].Options.weight_decay);
        Assert.All(pg, g => Assert.Equal(0.9, g.Momentum));
        ParameterGroups.SetLearningRate(sgd, 0.005, 2.0);
        Assert.Equal(new[] { 0.005, 0.005, 0.01 }, pg.Select(g => g.LearningRate));
    }
}
