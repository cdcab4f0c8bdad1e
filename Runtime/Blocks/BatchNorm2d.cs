using EMANet.Runtime.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Batch normalisation over the channels of a B x C x H x W input: PyTorch's <c>nn.BatchNorm2d</c>, with the same state-dict keys
/// (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>, in that order) and the same
/// training and evaluation behaviour, computed by <c>nn.functional.batch_norm</c>.
/// <para>
/// Why the project owns it: TorchSharp's <c>BatchNorm2d</c> counts batches with <c>num_batches_tracked.add_(1)</c>, which makes two
/// temporary <see cref="Scalar"/>s freed only by their finalizers; with a collection on another thread (the background batch loader)
/// libtorch may read a freed Scalar ("Unknown scalar type"). Here the count is incremented with <see cref="Scalars.One"/>
/// (README.md, "TorchSharp Scalars"). It is a drop-in: the members the product and TorchSharp's <c>Module.to</c> use have the
/// names and types of TorchSharp's <c>NormBase</c>.
/// </para>
/// <para>
/// Training with running statistics: <c>num_batches_tracked</c> += 1, then the running mean and (unbiased) variance move by the factor
/// <see cref="momentum"/>, or by 1 / <c>num_batches_tracked</c> (a cumulative average) when <see cref="momentum"/> is null; the batch's
/// (biased) statistics normalise the input. Evaluation: the running statistics normalise the input (the batch's when the module keeps none).
/// </para>
/// </summary>
public sealed class BatchNorm2d : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private Parameter? _weight;
    private Parameter? _bias;
    private Tensor? _runningMean;
    private Tensor? _runningVar;
    private Tensor? _numBatchesTracked;

    /// <summary>Creates the module: weight 1, bias 0 (when <paramref name="affine"/>), running mean 0, running variance 1 and a count of 0 (int64, when <paramref name="track_running_stats"/>).</summary>
    /// <param name="num_features">C, the number of channels (positive).</param>
    /// <param name="eps">Added to the variance before the square root (positive).</param>
    /// <param name="momentum">The running statistics' update factor in [0, 1], or null for a cumulative average (PyTorch's meaning).</param>
    /// <param name="affine">Learn a per-channel scale (<c>weight</c>) and shift (<c>bias</c>).</param>
    /// <param name="track_running_stats">Keep running statistics (used in evaluation).</param>
    /// <param name="device">Device of the parameters and buffers (the default device when null).</param>
    /// <param name="dtype">Floating-point dtype of the parameters and statistics (the default when null); the count is always int64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="num_features"/> ≤ 0, <paramref name="eps"/> ≤ 0 or <paramref name="momentum"/> outside [0, 1].</exception>
    public BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool track_running_stats = true,
        Device? device = null, ScalarType? dtype = null)
        : base(nameof(BatchNorm2d))
    {
        if (num_features <= 0) throw new ArgumentOutOfRangeException(nameof(num_features), num_features, "BatchNorm2d: the number of channels must be positive");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "BatchNorm2d: eps must be positive");
        CheckMomentum(momentum);
        this.num_features = num_features;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.track_running_stats = track_running_stats;
        if (affine)
        {
            weight = nn.Parameter(ones(num_features, dtype, device));
            bias = nn.Parameter(zeros(num_features, dtype, device));
        }
        if (track_running_stats)
        {
            running_mean = zeros(num_features, dtype, device);
            running_var = ones(num_features, dtype, device);
            num_batches_tracked = zeros(Array.Empty<long>(), ScalarType.Int64, device);
        }
    }

    /// <summary>C, the number of channels.</summary>
    public long num_features { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double eps { get; set; }

    /// <summary>The running statistics' update factor, or null for a cumulative average (1 / <c>num_batches_tracked</c>).</summary>
    public double? momentum
    {
        get => _momentum;
        set { CheckMomentum(value); _momentum = value; }
    }
    private double? _momentum;

    /// <summary>Whether the module has a learnt scale and shift.</summary>
    public bool affine { get; }

    /// <summary>Whether the module keeps running statistics.</summary>
    public bool track_running_stats { get; }

    /// <summary>The per-channel scale γ (C), or null without <see cref="affine"/>. Setting replaces (and disposes) the old parameter.</summary>
    public Parameter? weight
    {
        get => _weight;
        set
        {
            if (ReferenceEquals(value, _weight)) return;
            _weight?.Dispose();
            _weight = value?.DetachFromDisposeScope() as Parameter;
            ConditionallyRegisterParameter(nameof(weight), _weight);
        }
    }

    /// <summary>The per-channel shift β (C), or null without <see cref="affine"/>. Setting replaces (and disposes) the old parameter.</summary>
    public Parameter? bias
    {
        get => _bias;
        set
        {
            if (ReferenceEquals(value, _bias)) return;
            _bias?.Dispose();
            _bias = value?.DetachFromDisposeScope() as Parameter;
            ConditionallyRegisterParameter(nameof(bias), _bias);
        }
    }

    /// <summary>The running mean (C), or null without <see cref="track_running_stats"/>.</summary>
    public Tensor? running_mean
    {
        get => _runningMean;
        set => _runningMean = SwapBuffer(nameof(running_mean), _runningMean, value);
    }

    /// <summary>The running (unbiased) variance (C), or null without <see cref="track_running_stats"/>.</summary>
    public Tensor? running_var
    {
        get => _runningVar;
        set => _runningVar = SwapBuffer(nameof(running_var), _runningVar, value);
    }

    /// <summary>The number of training batches seen (a 0-d int64 tensor), or null without <see cref="track_running_stats"/>.</summary>
    public Tensor? num_batches_tracked
    {
        get => _numBatchesTracked;
        set => _numBatchesTracked = SwapBuffer(nameof(num_batches_tracked), _numBatchesTracked, value);
    }

    /// <summary>Normalises <paramref name="input"/> (B x C x H x W); in training also updates the running statistics (see the class remarks).</summary>
    /// <exception cref="ArgumentException">The input is not 4-D or its channel count is not <see cref="num_features"/>.</exception>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4)
            throw new ArgumentException($"BatchNorm2d expects a 4-D input (B x C x H x W), got {input.dim()}-D [{string.Join(", ", input.shape)}]", nameof(input));
        if (input.shape[1] != num_features)
            throw new ArgumentException($"BatchNorm2d has {num_features} channels, but the input has {input.shape[1]} (shape [{string.Join(", ", input.shape)}])", nameof(input));

        double factor = momentum ?? 0.0;
        if (training && track_running_stats && _numBatchesTracked is not null)
        {
            using (no_grad())
                _numBatchesTracked.add_(Scalars.One, Scalars.One);
            if (momentum is null) factor = 1.0 / _numBatchesTracked.item<long>();
        }
        // PyTorch: batch statistics in training, and in evaluation when there are no running statistics to use.
        bool useBatchStatistics = training || (_runningMean is null && _runningVar is null);
        bool passRunningStatistics = !training || track_running_stats;
        return nn.functional.batch_norm(input,
            passRunningStatistics ? _runningMean : null, passRunningStatistics ? _runningVar : null,
            _weight, _bias, useBatchStatistics, factor, eps);
    }

    /// <summary>
    /// ONNX BatchNormalization in inference mode (the running statistics; scale 1 and shift 0 without <see cref="affine"/>).
    /// Exported networks are fused first, so this appears only for a batch norm no convolution precedes.
    /// </summary>
    /// <exception cref="NotSupportedException">The module keeps no running statistics (its eval forward uses the batch's).</exception>
    public OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var x = OnnxModules.Single(this, inputs);
        if (_runningMean is null || _runningVar is null)
            throw new NotSupportedException("ONNX export: a BatchNorm2d without running statistics normalises by the batch's; not exportable");
        using var scope = NewDisposeScope();
        var scale = _weight is null ? g.Parameter("weight", ones(num_features)) : g.Parameter("weight", _weight);
        var shift = _bias is null ? g.Parameter("bias", zeros(num_features)) : g.Parameter("bias", _bias);
        return g.Node("BatchNormalization", [x, scale, shift, g.Parameter("running_mean", _runningMean), g.Parameter("running_var", _runningVar)],
            OnnxAttribute.Float("epsilon", (float)eps));
    }

    /// <summary>Running mean 0, running variance 1, count 0 (no-op without <see cref="track_running_stats"/>).</summary>
    public void reset_running_stats()
    {
        using var noGrad = no_grad();
        if (_runningMean is not null) nn.init.zeros_(_runningMean);
        if (_runningVar is not null) nn.init.ones_(_runningVar);
        if (_numBatchesTracked is not null) nn.init.zeros_(_numBatchesTracked);
    }

    /// <summary><see cref="reset_running_stats"/>, then weight 1 and bias 0.</summary>
    public void reset_parameters()
    {
        reset_running_stats();
        using var noGrad = no_grad();
        if (_weight is not null) nn.init.ones_(_weight);
        if (_bias is not null) nn.init.zeros_(_bias);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _weight?.Dispose();
            _bias?.Dispose();
            _runningMean?.Dispose();
            _runningVar?.Dispose();
            _numBatchesTracked?.Dispose();
        }
        base.Dispose(disposing);
    }

    private Tensor? SwapBuffer(string name, Tensor? old, Tensor? value)
    {
        if (ReferenceEquals(old, value)) return old;
        old?.Dispose();
        var kept = value?.DetachFromDisposeScope();
        ConditionallyRegisterBuffer(name, kept);
        return kept;
    }

    private static void CheckMomentum(double? momentum)
    {
        if (momentum is { } m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "BatchNorm2d: momentum must be in [0, 1] or null (cumulative average)");
    }
}
