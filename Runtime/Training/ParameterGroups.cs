using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>
/// Splits a network's trainable parameters into the recipe's three SGD groups (the authors'
/// "1x", "1y" and "2x"): convolution weights (lr, weight decay), normalisation weights (lr, no
/// decay), and biases of convolutions and normalisations (2 x lr, no decay). Parameters of other
/// module kinds go to the decayed group when they are matrices or larger, else to the
/// normalisation-style group. Every trainable parameter lands in exactly one group.
/// </summary>
public sealed class ParameterGroups
{
    private ParameterGroups(IReadOnlyList<(string Name, Parameter Parameter)> decayed, IReadOnlyList<(string Name, Parameter Parameter)> undecayed, IReadOnlyList<(string Name, Parameter Parameter)> biases)
    {
        Decayed = decayed;
        Undecayed = undecayed;
        Biases = biases;
    }

    /// <summary>Convolution weights: base lr, weight decay.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Decayed { get; }

    /// <summary>BatchNorm weights: base lr, no decay.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Undecayed { get; }

    /// <summary>Biases: lr x multiplier, no decay.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Biases { get; }

    public static ParameterGroups Of(nn.Module module)
    {
        var decayed = new List<(string, Parameter)>();
        var undecayed = new List<(string, Parameter)>();
        var biases = new List<(string, Parameter)>();
        var seen = new HashSet<IntPtr>();
        foreach (var (moduleName, child) in module.named_modules().Prepend(("", module)))
        {
            foreach (var (parameterName, parameter) in child.named_parameters(recurse: false))
            {
                if (!parameter.requires_grad || !seen.Add(parameter.Handle)) continue;
                var name = moduleName.Length == 0 ? parameterName : moduleName + "." + parameterName;
                var isNorm = child is EMANet.Runtime.Blocks.BatchNorm2d or NormBase;
                if (parameterName == "bias") biases.Add((name, parameter));
                else if (isNorm) undecayed.Add((name, parameter));
                else if (child is Convolution || parameter.dim() > 1) decayed.Add((name, parameter));
                else undecayed.Add((name, parameter));
            }
        }
        var total = module.parameters().Count(p => p.requires_grad);
        if (decayed.Count + undecayed.Count + biases.Count != total)
            throw new InvalidOperationException($"parameter grouping found {decayed.Count + undecayed.Count + biases.Count} of the module's {total} trainable parameters");
        return new ParameterGroups(decayed, undecayed, biases);
    }

    /// <summary>
    /// The SGD optimizer of the recipe at the base learning rate (the trainer sets each step's lr): a
    /// <see cref="FlatSgd"/>, which updates each group with a few whole-group kernels. Create it after the
    /// network is on its device: the parameters are re-pointed into the optimizer's flat buffers.
    /// </summary>
    public FlatSgd CreateOptimizer(TrainingOptions options)
    {
        var groups = new List<SGD.ParamGroup>
        {
            new(Decayed.Select(p => p.Parameter).ToArray(), lr: options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
            new(Undecayed.Select(p => p.Parameter).ToArray(), lr: options.LearningRate, momentum: options.Momentum, weight_decay: 0),
            new(Biases.Select(p => p.Parameter).ToArray(), lr: options.LearningRate * options.BiasLearningRateMultiplier, momentum: options.Momentum, weight_decay: 0),
        };
        return new FlatSgd(groups, options.LearningRate, momentum: options.Momentum);
    }

    /// <summary>Sets this step's learning rates on the three groups created by <see cref="CreateOptimizer"/>.</summary>
    public static void SetLearningRate(SGD optimizer, double learningRate, double biasMultiplier)
    {
        var i = 0;
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = i == 2 ? learningRate * biasMultiplier : learningRate;
            i++;
        }
        if (i != 3) throw new InvalidOperationException($"expected the recipe's 3 parameter groups, found {i}");
    }
}
