using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// The Expectation-Maximization Attention Unit (Li et al., ICCV 2019), as EMANET.md section 2
/// states it. State-dict keys: conv1.{weight,bias}, conv2.0.weight, conv2.1.* (BN), mu (buffer).
/// Fusable: conv2.1 folds into conv2.0 (keys conv2.0.{weight,bias}); eval-only afterwards.
/// </summary>
public sealed class EmaUnit : FusableBlock
{
    private const double Epsilon = 1e-6;
    // Held for the process (README.md, "TorchSharp Scalars"): a temporary Scalar can be finalized while libtorch reads it.
    private static readonly Scalar EpsilonScalar = Epsilon.ToScalar();
    private readonly Scalar _momentumScalar;
    private readonly Scalar _oneMinusMomentumScalar;

    // Field names are the state-dict keys (RegisterComponents).
    private readonly Conv2d conv1;
    private Sequential conv2;
    private Tensor mu;

    // Mean over the batch of the last training forward's final bases, waiting for UpdateBases().
    private Tensor? _pendingBases;

    public EmaUnit(int channels, int bases = 64, int iterations = 3, double momentum = 0.9, bool renormalize = false, double batchNormMomentum = 0.1)
        : base(nameof(EmaUnit))
    {
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be positive");
        if (bases <= 0) throw new ArgumentOutOfRangeException(nameof(bases), bases, "bases must be positive");
        if (iterations <= 0) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be positive");
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1]");
        Channels = channels;
        Bases = bases;
        Iterations = iterations;
        Momentum = momentum;
        Renormalize = renormalize;
        _momentumScalar = momentum.ToScalar();
        _oneMinusMomentumScalar = (1 - momentum).ToScalar();

        conv1 = nn.Conv2d(channels, channels, 1, bias: true);
        conv2 = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias: false),
            new BatchNorm2d(channels, momentum: batchNormMomentum));
        using (no_grad())
        {
            using var std = Math.Sqrt(2.0 / bases).ToScalar();
            using var init = randn(new long[] { 1, channels, bases }).mul_(std);   // normal(0, std), as torch.normal computes it
            mu = L2NormalizeOverChannels(init);
        }
        RegisterComponents();
        Initialization.InitializeConvAndNorm(this);
        // conv1 feeds only the no-grad EM iterations, so it never gets a gradient (EMANET.md: intended by
        // the authors). Marking it frozen says so: optimizers leave it out instead of holding a state
        // for it, and an optimizer that zero-fills missing gradients cannot decay it.
        foreach (var parameter in conv1.parameters()) parameter.requires_grad = false;
    }

    public int Channels { get; }
    public int Bases { get; }
    public int Iterations { get; }

    /// <summary>m in mu &lt;- m * mu + (1 - m) * mean over the batch of the final bases.</summary>
    public double Momentum { get; }

    /// <summary>Re-normalise mu over C after the momentum update (open-mmlab does; the authors do not).</summary>
    public bool Renormalize { get; }

    /// <summary>When set, the next forward keeps the responsibilities z (B x N x K) in <see cref="LastResponsibilities"/>.</summary>
    public bool CaptureResponsibilities { get; set; }

    /// <summary>The responsibilities of the last forward with <see cref="CaptureResponsibilities"/> set (owned by this unit).</summary>
    public Tensor? LastResponsibilities { get; private set; }

    /// <summary>Height and width of the feature map of the last captured <see cref="LastResponsibilities"/>.</summary>
    public (int Height, int Width) LastFeatureSize { get; private set; }

    /// <summary>The bases buffer, 1 x C x K.</summary>
    public Tensor BasesBuffer => mu;

    public override Tensor forward(Tensor input)
    {
        if (IsFusedForInference) return FusedForward(input);
        using var scope = NewDisposeScope();
        var identity = input;
        var x = Run(conv1, input);   // the EM iterations below stay float32 under mixed precision
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        x = x.view(b, c, h * w);
        Tensor bases = mu.repeat(b, 1, 1);
        Tensor z;
        using (no_grad())
        {
            z = Responsibilities(x, bases);
            for (int t = 0; t < Iterations; t++)
            {
                if (t > 0) z = Responsibilities(x, bases);
                var normalized = z / z.sum(1, keepdim: true).add(EpsilonScalar, Scalars.One);
                bases = L2NormalizeOverChannels(x.bmm(normalized));
            }
        }
        // Reconstruction carries gradient only through what follows; conv1 gets none (by design).
        var reconstructed = bases.matmul(z.permute(0, 2, 1)).view(b, c, h, w);
        reconstructed = reconstructed.relu_();   // in place: the product's backward needs its operands, not its result
        var output = Run(conv2, reconstructed).add_(identity, Scalars.One).relu_();   // conv2 ends in BN, whose backward needs its input

        if (training)
        {
            using (no_grad())
            {
                _pendingBases?.Dispose();
                _pendingBases = bases.mean(new long[] { 0 }, keepdim: true).detach().MoveToOuterDisposeScope();
                _pendingBases.DetachFromDisposeScope();
            }
        }
        if (CaptureResponsibilities)
        {
            LastResponsibilities?.Dispose();
            LastResponsibilities = z.detach().clone().DetachFromDisposeScope();
            LastFeatureSize = ((int)h, (int)w);
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>The eval-only path after fusion: the same computation, no gradient, no bases copy per image, in-place ReLUs and residual add.</summary>
    private Tensor FusedForward(Tensor input)
    {
        EnsureFusedForwardAllowed();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = conv1.forward(input);
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        x = x.view(b, c, h * w);
        var xt = x.permute(0, 2, 1);
        Tensor bases = mu.expand(b, -1, -1);
        Tensor z = null!;
        for (int t = 0; t < Iterations; t++)
        {
            z = nn.functional.softmax(xt.bmm(bases), 2);
            var normalized = z / z.sum(1, keepdim: true).add_(EpsilonScalar, Scalars.One);
            var m = x.bmm(normalized);
            normalized.Dispose();
            bases = m.div_(m.norm(1, keepdim: true).add_(EpsilonScalar, Scalars.One));
            if (t < Iterations - 1) z.Dispose();
        }
        var reconstructed = bases.bmm(z.permute(0, 2, 1)).view(b, c, h, w).relu_();
        if (CaptureResponsibilities)
        {
            LastResponsibilities?.Dispose();
            LastResponsibilities = z.clone().DetachFromDisposeScope();
        }
        var output = conv2.forward(reconstructed).add_(input, Scalars.One).relu_();
        return output.MoveToOuterDisposeScope();
    }

    protected override void Fuse()
    {
        var fused = Fusion.FoldSequential(conv2);
        ReplaceChild("conv2", fused, disposeOld: false);
        conv2 = fused;
    }

    /// <summary>
    /// The moving average of the bases: mu &lt;- m * mu + (1 - m) * (bases of the last training
    /// forward, averaged over the batch). Call once after each optimizer step; a no-op when no
    /// training forward has run since the last call.
    /// </summary>
    public void UpdateBases()
    {
        if (_pendingBases is null) return;
        using (no_grad())
        {
            mu.mul_(_momentumScalar).add_(_pendingBases.to(mu.dtype, mu.device), _oneMinusMomentumScalar);
            if (Renormalize)
            {
                using var normalized = L2NormalizeOverChannels(mu);
                mu.copy_(normalized);
            }
        }
        _pendingBases.Dispose();
        _pendingBases = null;
    }

    private Tensor Responsibilities(Tensor x, Tensor bases) =>
        nn.functional.softmax(x.permute(0, 2, 1).bmm(bases), 2);

    private static Tensor L2NormalizeOverChannels(Tensor bases) =>
        bases / bases.norm(1, keepdim: true).add(EpsilonScalar, Scalars.One);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pendingBases?.Dispose();
            LastResponsibilities?.Dispose();
            _momentumScalar.Dispose();
            _oneMinusMomentumScalar.Dispose();
        }
        base.Dispose(disposing);
    }
}
