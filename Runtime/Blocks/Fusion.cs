using EMANet.Runtime.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// A block that can fold its batch norms into the preceding convolutions for inference.
/// </summary>
/// <remarks>
/// After <see cref="FuseForInference"/> the block is <b>eval-only</b>: every BatchNorm has been
/// folded into the convolution before it (W' = W·γ/√(var+ε), b' = (b − mean)·γ/√(var+ε) + β)
/// and removed from the module (its state-dict keys are gone; the convolutions gain a bias) and
/// dropout is removed; the forward is the same one, over the rewritten tree. A forward in
/// training mode throws <see cref="InvalidOperationException"/>. Fusing is one-way: build a
/// fresh module (or reload a checkpoint into one) to train again.
/// </remarks>
public interface IFusableForInference
{
    /// <summary>Folds every BatchNorm into its convolution and switches to the fused, eval-only forward. Idempotent.</summary>
    void FuseForInference();

    /// <summary>Whether <see cref="FuseForInference"/> has run.</summary>
    bool IsFusedForInference { get; }
}

/// <summary>
/// Base of the blocks that support <see cref="IFusableForInference"/>. Fusion is a rewrite of the
/// block's module tree (<see cref="Fuse"/>), not a second forward: the block's one forward skips
/// the batch norms and dropouts that the rewrite removed.
/// </summary>
public abstract class FusableBlock : nn.Module<Tensor, Tensor>, IFusableForInference, IOnnxExportable
{
    protected FusableBlock(string name) : base(name) { }

    /// <summary>The block's eval-mode forward as ONNX nodes, over its current module tree (see <see cref="IOnnxExportable"/>).</summary>
    public abstract OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs);

    /// <inheritdoc />
    public bool IsFusedForInference { get; private set; }

    /// <inheritdoc />
    public void FuseForInference()
    {
        if (IsFusedForInference) return;
        eval();
        using (no_grad()) Fuse();
        IsFusedForInference = true;
    }

    /// <summary>
    /// Folds the block's batch norms into their convolutions and removes them (and any dropout)
    /// from the module tree: set the fields to null and call <see cref="ReplaceChild"/>. Called
    /// once, under no_grad, in eval mode.
    /// </summary>
    protected abstract void Fuse();

    /// <summary>Throws when a fused (eval-only) block is asked for a training forward; call first in forward.</summary>
    protected void ThrowIfFusedInTraining()
    {
        if (IsFusedForInference && training)
            throw new InvalidOperationException(
                $"{GetName()} was fused for inference (its batch norms are folded into the convolutions) and is eval-only; " +
                "call eval() before forward, or build an unfused module to train.");
    }

    /// <summary>
    /// Replaces (or, with null, removes) a registered child module, keeping the state-dict order.
    /// Disposes the old child unless <paramref name="disposeOld"/> is false (a container whose
    /// children moved into the replacement must not be disposed: it would dispose them too).
    /// </summary>
    protected void ReplaceChild(string name, nn.Module? replacement, bool disposeOld = true)
    {
        _internal_submodules.TryGetValue(name, out var old);
        if (replacement is null)
            _internal_submodules.Remove(name);
        else
            _internal_submodules[name] = replacement;
        if (disposeOld && old is not null && !ReferenceEquals(old, replacement)) old.Dispose();
    }

    /// <summary>Folds <paramref name="bn"/> into <paramref name="conv"/>, removes the child <paramref name="name"/> and nulls the field.</summary>
    protected void FoldAndRemove(Conv2d conv, ref BatchNorm2d? bn, string name)
    {
        if (bn is null) return;
        Fusion.FoldBatchNorm(conv, bn);
        ReplaceChild(name, null);
        bn = null;
    }

    /// <summary>Replaces the Sequential child <paramref name="name"/> by its folded copy (<see cref="Fusion.FoldSequential"/>).</summary>
    protected Sequential FoldChild(string name, Sequential sequence, BatchNorm2d? trailingNorm = null)
    {
        var fused = Fusion.FoldSequential(sequence, trailingNorm);
        ReplaceChild(name, fused, disposeOld: false);
        return fused;
    }
}

/// <summary>Batch-norm folding, shared by the blocks.</summary>
public static class Fusion
{
    /// <summary>
    /// Folds <paramref name="bn"/>'s running statistics and affine transform into
    /// <paramref name="conv"/> in place: W' = W·s, b' = (b − mean)·s + β with s = γ/√(var + ε).
    /// The per-channel factors are computed in float64 and rounded once to the conv's dtype; the
    /// weight is scaled in place (no copy of it is made). The conv gains a bias if it had none.
    /// </summary>
    public static void FoldBatchNorm(Conv2d conv, BatchNorm2d bn)
    {
        if (bn.running_mean is null || bn.running_var is null)
            throw new InvalidOperationException("cannot fold a BatchNorm without running statistics (track_running_stats = false)");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var weight = conv.weight;
        var dtype = weight.dtype;
        using var eps = bn.eps.ToScalar();   // held for the call (README.md, "TorchSharp Scalars")
        var scale = bn.running_var.to(float64).add(eps, Scalars.One).rsqrt();
        if (bn.weight is not null) scale = scale * bn.weight.to(float64);
        var bias = conv.bias is null ? zeros_like(bn.running_mean, dtype: float64) : conv.bias.to(float64);
        bias = (bias - bn.running_mean.to(float64)) * scale;
        if (bn.bias is not null) bias = bias.add(bn.bias.to(float64), Scalars.One);
        weight.mul_(scale.to(dtype).to(weight.device).view(-1, 1, 1, 1));
        var folded = bias.to(dtype).to(weight.device).DetachFromDisposeScope();
        if (conv.bias is null)
            conv.bias = nn.Parameter(folded, requires_grad: weight.requires_grad);
        else
        {
            conv.bias.copy_(folded);
            folded.Dispose();
        }
    }

    /// <summary>
    /// A copy of <paramref name="sequence"/> for inference: each BatchNorm2d folded into the Conv2d
    /// before it and dropped, dropout dropped, ReLUs made in-place; the remaining children keep their
    /// names (so "conv2.0" stays "conv2.0"). The kept children are moved, not copied; the dropped ones
    /// are disposed. Leaves <paramref name="sequence"/> holding references it must not use again.
    /// </summary>
    public static Sequential FoldSequential(Sequential sequence, BatchNorm2d? trailingNorm = null)
    {
        var children = sequence.named_children().Select(c => (c.name, module: c.module)).ToList();
        var kept = new List<(string, nn.Module<Tensor, Tensor>)>();
        Conv2d? lastConv = null;
        foreach (var (name, module) in children)
        {
            switch (module)
            {
                case Conv2d conv:
                    lastConv = conv;
                    kept.Add((name, conv));
                    break;
                case BatchNorm2d bn when lastConv is not null && kept.Count > 0 && ReferenceEquals(kept[^1].Item2, lastConv):
                    FoldBatchNorm(lastConv, bn);
                    bn.Dispose();
                    break;
                case BatchNorm2d:
                    throw new InvalidOperationException($"BatchNorm '{name}' does not follow a convolution; cannot fold it");
                case ReLU:
                    kept.Add((name, nn.ReLU(inplace: true)));
                    module.Dispose();
                    break;
                case Dropout or Dropout2d:
                    module.Dispose();
                    break;
                default:
                    kept.Add((name, (nn.Module<Tensor, Tensor>)module));
                    break;
            }
        }
        if (trailingNorm is not null)
        {
            if (kept.Count == 0 || kept[^1].Item2 is not Conv2d last)
                throw new InvalidOperationException("the trailing BatchNorm does not follow a convolution; cannot fold it");
            FoldBatchNorm(last, trailingNorm);
        }
        return nn.Sequential(kept.ToArray());
    }
}
