using EMANet.Runtime.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// The Expectation-Maximization Attention Unit (Li et al., ICCV 2019), in one of two published forms
/// (<see cref="EmaUnitStyle"/>). <see cref="EmaUnitStyle.Authors"/>, as EMANET.md section 2 states it:
/// state-dict keys conv1.{weight,bias}, conv2.0.weight, conv2.1.* (BN), mu (buffer); fusable (conv2.1
/// folds into conv2.0, keys conv2.0.{weight,bias}; eval-only afterwards). <see cref="EmaUnitStyle.MMSeg"/>,
/// mmsegmentation's EMAModule: the EM iterations and the reconstruction alone, one key, the buffer
/// <c>bases</c>. Input and output B x C x H x W.
/// </summary>
public sealed class EmaUnit : FusableBlock
{
    private const double Epsilon = 1e-6;

    // F.normalize's default: the norm is clamped at this before dividing (mmsegmentation's renormalisation).
    private const double MmsegNormalizeEpsilon = 1e-12;

    // Field names are the state-dict keys (RegisterComponents; null fields are not registered). The Authors style has
    // conv1, conv2 and the buffer mu; the MMSeg style only the buffer, named bases as mmsegmentation names it.
    private readonly Conv2d? conv1;
    private Sequential? conv2;
    private readonly Tensor? mu;
    private readonly Tensor? bases;

    // Mean over the batch of the last training forward's final bases, waiting for UpdateBases().
    private Tensor? _pendingBases;

    // Held for the unit's lifetime: a Scalar made on the fly is freed by its finalizer, possibly while libtorch reads it.
    private static readonly Scalar EpsilonScalar = Epsilon.ToScalar();
    private readonly Scalar _momentum;
    private readonly Scalar _oneMinusMomentum;

    /// <param name="momentum">Authors style: the weight of the old bases; MMSeg style: the weight of the new value (see <see cref="Momentum"/>).</param>
    /// <param name="renormalize">Authors style only: normalise the batch mean before the blend (the MMSeg style always does).</param>
    public EmaUnit(int channels, int bases = 64, int iterations = 3, double momentum = 0.9, bool renormalize = false, double batchNormMomentum = 0.1,
        EmaUnitStyle style = EmaUnitStyle.Authors)
        : base(nameof(EmaUnit))
    {
        if (style is not (EmaUnitStyle.Authors or EmaUnitStyle.MMSeg)) throw new ArgumentOutOfRangeException(nameof(style), style, "not an EmaUnitStyle");
        if (style == EmaUnitStyle.MMSeg && renormalize)
            throw new ArgumentException("renormalize is a choice of the Authors style; the MMSeg style always normalises the batch mean", nameof(renormalize));
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be positive");
        if (bases <= 0) throw new ArgumentOutOfRangeException(nameof(bases), bases, "bases must be positive");
        if (iterations <= 0) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be positive");
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1]");
        Channels = channels;
        Bases = bases;
        Iterations = iterations;
        Momentum = momentum;
        Style = style;
        Renormalize = renormalize || style == EmaUnitStyle.MMSeg;
        // Both styles blend as keep * old + (1 - keep) * new; the MMSeg style's momentum is the weight of the new value.
        double keep = style == EmaUnitStyle.MMSeg ? 1 - momentum : momentum;
        _momentum = keep.ToScalar();
        _oneMinusMomentum = (1 - keep).ToScalar();

        Tensor initial;
        using (no_grad())
        {
            using var std = Math.Sqrt(2.0 / bases).ToScalar();
            using var init = randn(new long[] { 1, channels, bases }).mul_(std);   // 1 x C x K: normal(0, std), as torch.normal computes it
            initial = L2NormalizeOverChannels(init);
        }
        if (style == EmaUnitStyle.MMSeg)
        {
            this.bases = initial;
        }
        else
        {
            mu = initial;
            conv1 = new Conv2d(channels, channels, 1, bias: true);
            conv2 = nn.Sequential(
                new Conv2d(channels, channels, 1, bias: false),
                new BatchNorm2d(channels, momentum: batchNormMomentum));
        }
        RegisterComponents();
        Initialization.InitializeConvAndNorm(this);
        // conv1 feeds only the no-grad EM iterations, so it never gets a gradient (EMANET.md: intended by
        // the authors). Marking it frozen says so: optimizers leave it out instead of holding a state
        // for it, and an optimizer that zero-fills missing gradients cannot decay it.
        if (conv1 is not null) Freezing.Freeze(conv1);
    }

    /// <summary>Which implementation's unit this is: its parts, key names, momentum convention and epsilons.</summary>
    public EmaUnitStyle Style { get; }

    public int Channels { get; }
    public int Bases { get; }
    public int Iterations { get; }

    /// <summary>
    /// Authors style: m in mu &lt;- m * mu + (1 - m) * mean over the batch of the final bases. MMSeg style: m in
    /// bases &lt;- (1 - m) * bases + m * normalize(mean), mmsegmentation's momentum (0.1 there).
    /// </summary>
    public double Momentum { get; }

    /// <summary>
    /// mmsegmentation's update (its EMAModule, decode_heads/ema_head.py): the batch mean of the final bases is
    /// L2-normalised over C (F.normalize, norm clamped at 1e-12) before the blend, and mu is not normalised after
    /// it, so mu drifts inside the unit ball. false (the default) is the authors' update (train.py), which blends
    /// the batch mean as it is. mmsegmentation's momentum 0.1 weighs the new value: it is <see cref="Momentum"/> 0.9.
    /// </summary>
    public bool Renormalize { get; }

    /// <summary>When set, the next forward keeps the responsibilities z (B x N x K) in <see cref="LastResponsibilities"/>.</summary>
    public bool CaptureResponsibilities { get; set; }

    /// <summary>The responsibilities of the last forward with <see cref="CaptureResponsibilities"/> set (owned by this unit).</summary>
    public Tensor? LastResponsibilities { get; private set; }

    /// <summary>Height and width of the feature map of the last captured <see cref="LastResponsibilities"/>.</summary>
    public (int Height, int Width) LastFeatureSize { get; private set; }

    /// <summary>The bases buffer, 1 x C x K (<c>mu</c> in the Authors style, <c>bases</c> in the MMSeg style).</summary>
    public Tensor BasesBuffer => mu ?? bases!;

    private bool MMSeg => Style == EmaUnitStyle.MMSeg;

    /// <summary>
    /// B x C x H x W to B x C x H x W. Authors style: conv1, T EM iterations from the bases <c>mu</c> (no
    /// gradient, as the authors), the reconstruction from the final bases and responsibilities, ReLU, conv2
    /// (+ BN until fused), the residual add and a ReLU. MMSeg style: the EM iterations from <c>bases</c> and
    /// the reconstruction only (mmsegmentation's EMAModule.forward). In training mode the batch mean of the
    /// final bases waits for <see cref="UpdateBases"/>.
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var scope = NewDisposeScope();
        // The EM iterations and the reconstruction run in the features' type: float32, or bfloat16 under mixed precision
        // (conv1, or the convolution before an MMSeg-style unit, returns bf16 there), as under PyTorch's CPU autocast (bmm
        // is on its bf16 list; softmax, the sums and norms then follow their bf16 input); the float32 bases buffer is cast to it.
        var x = conv1 is null ? input : conv1.call(input);          // B x C x H x W
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        x = x.view(b, c, h * w);                                    // B x C x N
        var current = BasesBuffer.to(x.dtype).expand(b, -1, -1);    // B x C x K (the authors repeat; a view suffices)
        Tensor z = null!;
        using (no_grad())
        {
            var xt = x.permute(0, 2, 1);                            // B x N x C
            for (int t = 0; t < Iterations; t++)
            {
                z = nn.functional.softmax(xt.bmm(current), 2);      // B x N x K   E-step: responsibilities
                var normalized = MMSeg
                    ? nn.functional.normalize(z, p: 1, dim: 1, eps: MmsegNormalizeEpsilon)   // F.normalize(z, dim=1, p=1)
                    : z.div(z.sum(1, keepdim: true).add_(EpsilonScalar, Scalars.One));       // z / (1e-6 + sum_N z)
                current = L2NormalizeOverChannels(x.bmm(normalized));   // B x C x K   M-step
            }
        }
        // The reconstruction carries gradient only through what follows; conv1 gets none (by design).
        var reconstructed = current.bmm(z.permute(0, 2, 1)).view(b, c, h, w);   // B x C x H x W
        if (conv2 is null)
        {
            KeepForUpdateAndCapture(current, z, h, w);
            return reconstructed.MoveToOuterDisposeScope();
        }
        reconstructed = reconstructed.relu_();
        var y = conv2.call(reconstructed);                          // B x C x H x W (conv2 ends in BN until fused)
        y = y.add_(input, Scalars.One).relu_();                     // B x C x H x W
        KeepForUpdateAndCapture(current, z, h, w);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>In training, the batch mean of the final bases for <see cref="UpdateBases"/>; when asked, the responsibilities.</summary>
    private void KeepForUpdateAndCapture(Tensor bases, Tensor z, long h, long w)
    {

        if (training)
        {
            using (no_grad())
            {
                _pendingBases?.Dispose();
                _pendingBases = bases.mean(new long[] { 0 }, keepdim: true).detach().DetachFromDisposeScope();   // 1 x C x K
            }
        }
        if (CaptureResponsibilities)
        {
            LastResponsibilities?.Dispose();
            LastResponsibilities = z.detach().clone().DetachFromDisposeScope();   // B x N x K
            LastFeatureSize = ((int)h, (int)w);
        }
    }

    /// <summary>
    /// The eval forward with the <see cref="Iterations"/> EM iterations unrolled: the bases start from the buffer
    /// (<c>mu</c>, or <c>bases</c> in the MMSeg style; an initializer, 1 x C x K, broadcast over the batch by MatMul), each
    /// iteration is MatMul, Softmax over K, the normalisation over N (ReduceSum plus eps, or mmseg's F.normalize: the sum
    /// clamped at 1e-12 with Max), Div, MatMul, then the L2 norm over C (ReduceL2 plus eps, or clamped with Max), as
    /// <see cref="forward"/>; the reconstruction is reshaped to the features' own shape (no constant sizes). The MMSeg
    /// style ends there (no conv2, residual or ReLU).
    /// </summary>
    public override OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var input = OnnxModules.Single(this, inputs);
        var features = conv1 is null ? input : g.Child("conv1", conv1, input);            // B x C x H x W
        var x = g.Node("Reshape", [features, g.Int64s(0, Channels, -1)]);                  // B x C x N
        var xt = g.Node("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1));            // B x N x C
        var bases = g.Parameter(MMSeg ? "bases" : "mu", BasesBuffer);                      // 1 x C x K
        var epsilon = g.Float((float)(MMSeg ? MmsegNormalizeEpsilon : Epsilon));
        OnnxValue z = default;
        for (int t = 0; t < Iterations; t++)
        {
            using var iteration = g.Scope("em" + t.ToString(System.Globalization.CultureInfo.InvariantCulture));
            z = g.Node("Softmax", [g.Node("MatMul", [xt, bases])], OnnxAttribute.Int("axis", 2));      // B x N x K
            var sum = g.Node("ReduceSum", [z, g.Int64s(1)], OnnxAttribute.Int("keepdims", 1));         // B x 1 x K
            var mass = g.Node(MMSeg ? "Max" : "Add", [sum, epsilon]);
            var unnormalized = g.Node("MatMul", [x, g.Node("Div", [z, mass])]);           // B x C x K
            var norm = g.Node("ReduceL2", [unnormalized], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));   // B x 1 x K
            bases = g.Node("Div", [unnormalized, g.Node(MMSeg ? "Max" : "Add", [norm, epsilon])]);
        }
        var reconstructed = g.Node("MatMul", [bases, g.Node("Transpose", [z], OnnxAttribute.Ints("perm", 0, 2, 1))]);   // B x C x N
        reconstructed = g.Node("Reshape", [reconstructed, g.Node("Shape", [features])]);                                  // B x C x H x W
        if (conv2 is null) return reconstructed;
        var y = g.Child("conv2", conv2, g.Node("Relu", [reconstructed]));
        return g.Node("Relu", [g.Node("Add", [y, input])]);
    }

    /// <summary>Authors style: folds conv2.1 into conv2.0. The MMSeg style has nothing to fold.</summary>
    protected override void Fuse()
    {
        if (conv2 is not null) conv2 = FoldChild("conv2", conv2);
    }

    /// <summary>
    /// The moving average of the bases (1 x C x K): mu &lt;- m * mu + (1 - m) * mean, where mean is the
    /// batch average of the last training forward's final bases (the authors' train.py), or that average
    /// L2-normalised over C when <see cref="Renormalize"/> is set (mmsegmentation's EMAModule). In the MMSeg
    /// style: bases &lt;- (1 - m) * bases + m * normalize(mean), mmsegmentation's own convention. Call once
    /// after each optimizer step; a no-op when no training forward has run since the last call.
    /// </summary>
    public void UpdateBases()
    {
        if (_pendingBases is null) return;
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            var target = BasesBuffer;
            var mean = _pendingBases.to(target.dtype, target.device);                                  // 1 x C x K
            if (Renormalize) mean = nn.functional.normalize(mean, p: 2, dim: 1, eps: MmsegNormalizeEpsilon);   // over C
            target.mul_(_momentum).add_(mean, _oneMinusMomentum);                                       // keep * old + (1 - keep) * new
        }
        _pendingBases.Dispose();
        _pendingBases = null;
    }

    /// <summary>
    /// Over C, 1 or B x C x K: bases / (1e-6 + ||bases||) in the Authors style (their _l2norm), F.normalize's
    /// bases / max(||bases||, 1e-12) in the MMSeg style.
    /// </summary>
    private Tensor L2NormalizeOverChannels(Tensor values) => MMSeg
        ? nn.functional.normalize(values, p: 2, dim: 1, eps: MmsegNormalizeEpsilon)
        : values.div(values.norm(1, keepdim: true).add_(EpsilonScalar, Scalars.One));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pendingBases?.Dispose();
            LastResponsibilities?.Dispose();
            _momentum.Dispose();
            _oneMinusMomentum.Dispose();
        }
        base.Dispose(disposing);
    }
}
