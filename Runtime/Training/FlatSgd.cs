using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>
/// SGD with momentum (dampening 0, no Nesterov) that updates each parameter group with a handful of
/// kernels over its flat buffers (on the CPU in cache-sized chunks) instead of several kernels per parameter tensor.
/// <para>
/// At construction every group gets three flat, contiguous buffers on the parameters' device and
/// dtype: parameters, gradients and momentum. Each parameter's values are copied into its segment
/// and the parameter is re-pointed at that segment (<c>set_</c>: the module keeps the same
/// <see cref="Parameter"/> object, whose storage is now the flat buffer); its <c>grad</c> is set to
/// the matching segment of the gradient buffer (zeroed) and its <see cref="SGD.State.momentum_buffer"/>
/// to the matching segment of the momentum buffer (zeros). Backward accumulates into an existing
/// gradient in place, so it fills the flat gradient buffer; <see cref="step"/> is then, per group,
/// <c>g = grad + wd·p</c> (only when wd ≠ 0), <c>buf = m·buf + g</c>, <c>p -= lr·buf</c>, reading
/// lr, momentum and weight decay from the group's options on every step (so
/// <see cref="ParameterGroups.SetLearningRate"/> works as with <see cref="SGD"/>).
/// </para>
/// <para>
/// One difference from <see cref="SGD"/> (and from PyTorch's SGD with gradients set to None): a
/// parameter that received no gradient has a zero gradient, not none, so weight decay and momentum
/// still move it. That is PyTorch's behaviour with <c>zero_grad(set_to_none=False)</c>. For every
/// parameter that receives a gradient each step the update is the same as <see cref="SGD"/>'s (the
/// first step's <c>buf = grad</c> equals <c>0·m + grad</c>).
/// </para>
/// <para>
/// Use this optimizer's <see cref="zero_grad"/>: it zeroes the flat gradient buffers and re-attaches
/// every parameter's gradient to its segment (a module's <c>zero_grad()</c>, which sets gradients to
/// none by default, detaches them until the next <see cref="zero_grad"/> of this optimizer). Moving the
/// module to another device or dtype after construction detaches the parameters from the buffers;
/// create the optimizer after <c>to(device)</c>. Checkpoints use <see cref="SGD"/>'s format (state
/// saved as "SGD"); <see cref="load_state_dict(BinaryReader)"/> reads state saved by either optimizer.
/// </para>
/// </summary>
public sealed class FlatSgd : SGD
{
    /// <summary>The optimizer name written into saved state: the format is <see cref="SGD"/>'s.</summary>
    public const string StateName = "SGD";

    private readonly FlatGroup[] _flat = [];
    private readonly bool _constructed;
    private bool _disposed;

    /// <summary>Creates the optimizer over <paramref name="groups"/> (each with its own options, as for <see cref="SGD"/>); the defaults fill options a group leaves unset.</summary>
    /// <exception cref="ArgumentException">dampening ≠ 0, Nesterov momentum, maximize, parameters of different dtypes or devices, a non-floating-point or non-leaf parameter, or a parameter in two groups.</exception>
    public FlatSgd(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false)
#pragma warning disable RS0030 // SGD's constructor is banned for its step (temporary Scalars); this class overrides step and never calls SGD's.
        : base(groups, lr, momentum, dampening, weight_decay, nesterov, maximize: false)
#pragma warning restore RS0030
    {
        // Checked after SGD's constructor: an exception thrown before it leaves an object whose finalizer (SGD.Dispose) fails.
        try
        {
            if (dampening != 0) throw new ArgumentException($"FlatSgd supports dampening 0 only, not {dampening}", nameof(dampening));
            if (nesterov) throw new ArgumentException("FlatSgd does not support Nesterov momentum", nameof(nesterov));
            var paramGroups = ParamGroups.Cast<ParamGroup>().ToArray();
            var all = paramGroups.SelectMany(g => g.Parameters).ToArray();
            CheckOptions(paramGroups);
            CheckParameters(all);
            var dtype = all.Length > 0 ? all[0].dtype : ScalarType.Float32;
            var device = all.Length > 0 ? all[0].device : CPU;
            _flat = paramGroups.Select(g => new FlatGroup(g.Parameters.ToArray(), dtype, device, _state)).ToArray();
            _constructed = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The flat parameter buffer of group <paramref name="group"/> (the parameters are views of it).</summary>
    public Tensor ParameterBuffer(int group) => _flat[group].Parameters;

    /// <summary>The flat gradient buffer of group <paramref name="group"/>.</summary>
    public Tensor GradientBuffer(int group) => _flat[group].Gradients;

    /// <summary>The flat momentum buffer of group <paramref name="group"/>.</summary>
    public Tensor MomentumBuffer(int group) => _flat[group].Momentum;

    /// <summary>Element offset and count of each parameter's segment in its group's buffers, in the group's parameter order.</summary>
    public IReadOnlyList<(long Offset, long Count)> Segments(int group) => _flat[group].Segments;

    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        if (_constructed) throw new InvalidOperationException("FlatSgd lays out its flat buffers at construction; it cannot take another parameter group");
        base.add_param_group(param_group);
    }

    /// <summary>One update of every group: a few kernels per group (see the class remarks).</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Tensor? loss = null;
        if (closure is not null)
            using (enable_grad())
                loss = closure();

        var groups = ParamGroups.Cast<ParamGroup>().ToArray();
        CheckOptions(groups);
        AttachMomentumState();
        using (no_grad())
        using (NewDisposeScope())
        {
            for (var i = 0; i < _flat.Length; i++)
            {
                var flat = _flat[i];
                if (flat.Count == 0) continue;
                var options = groups[i].Options;
                var lr = options.LearningRate!.Value;
                var momentum = options.momentum!.Value;
                var weightDecay = options.weight_decay!.Value;
                // The options may change between steps (the learning rate does): Scalars made and disposed here, held for the
                // calls (an implicit conversion's temporary can be finalized while libtorch reads it; README.md, "TorchSharp Scalars").
                using var weightDecayScalar = weightDecay.ToScalar();
                using var momentumScalar = momentum.ToScalar();
                using var minusLr = (-lr).ToScalar();
                flat.Update(weightDecay != 0 ? weightDecayScalar : null, momentum != 0 ? momentumScalar : null, minusLr);
            }
        }
        return loss!;
    }

    /// <summary>Zeroes the flat gradient buffers (one kernel per group) and re-attaches every parameter's gradient to its segment; gradients are never set to none.</summary>
    public override void zero_grad()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using (no_grad())
            foreach (var flat in _flat)
            {
                flat.AttachGradients();
                if (flat.Count > 0) flat.Gradients.zero_();
            }
    }

    /// <summary>Loads state saved by this optimizer or by <see cref="SGD"/> (same groups and parameters); momentum is copied into the flat buffers.</summary>
    public new void load_state_dict(BinaryReader reader)
    {
        var name = reader.ReadString();
        if (name != StateName && name != GetType().Name)
            throw new InvalidDataException($"Mismatched optimizer type: expected '{StateName}' (or '{GetType().Name}'), but found '{name}' in the loaded stream.");
        // TorchSharp's loader checks the saved name against the runtime type's; give it the rest under this type's name.
        using var renamed = new MemoryStream();
        using (var writer = new BinaryWriter(renamed, Encoding.UTF8, leaveOpen: true))
            writer.Write(GetType().Name);
        reader.BaseStream.CopyTo(renamed);
        renamed.Position = 0;
        using var renamedReader = new BinaryReader(renamed, Encoding.UTF8, leaveOpen: true);
        base.load_state_dict(renamedReader);
        AttachMomentumState();
    }

    /// <summary>Saves the state in <see cref="SGD"/>'s format under the name "SGD", so either optimizer can load it.</summary>
    public new void save_state_dict(BinaryWriter writer)
    {
        using var buffer = new MemoryStream();
        using (var inner = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            base.save_state_dict(inner);
        buffer.Position = 0;
        using (var reader = new BinaryReader(buffer, Encoding.UTF8, leaveOpen: true))
            reader.ReadString();
        writer.Write(StateName);
        writer.Flush();
        buffer.CopyTo(writer.BaseStream);
    }

    public override void load_state_dict(StateDictionary state_dict)
    {
        base.load_state_dict(state_dict);
        AttachMomentumState();
    }

    /// <summary>
    /// Makes every parameter's momentum state the view into its group's flat momentum buffer again
    /// after something replaced it (TorchSharp's state loading may swap in a new tensor object or a
    /// copy): a replaced buffer's values are copied into the segment, a removed one (none) becomes zeros.
    /// Called by <see cref="step"/> and after loading state; cheap when nothing changed (no kernels).
    /// </summary>
    public void AttachMomentumState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var flat in _flat) flat.AttachMomentum(_state);
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        // SGD disposes each state's momentum buffer (our views) and clears the state.
        base.Dispose(disposing);
        if (!disposing) return;
        // The parameters (and their gradients) keep the storage alive: they are views sharing it, refcounted.
        foreach (var flat in _flat) flat.Dispose();
    }

    private static void CheckOptions(IReadOnlyList<ParamGroup> groups)
    {
        for (var i = 0; i < groups.Count; i++)
        {
            var options = groups[i].Options;
            if (options.dampening is { } d && d != 0)
                throw new ArgumentException($"FlatSgd supports dampening 0 only; parameter group {i} has dampening {d}");
            if (options.nesterov == true)
                throw new ArgumentException($"FlatSgd does not support Nesterov momentum; parameter group {i} asks for it");
            if (options.maximize == true)
                throw new ArgumentException($"FlatSgd does not support maximize; parameter group {i} asks for it");
        }
    }

    private static void CheckParameters(IReadOnlyList<Parameter> all)
    {
        if (all.Count == 0) return;
        var seen = new HashSet<IntPtr>();
        var dtype = all[0].dtype;
        var device = all[0].device;
        foreach (var p in all)
        {
            if (!seen.Add(p.Handle)) throw new ArgumentException("FlatSgd: a parameter appears twice (in one group or in two); each needs its own segment");
            if (p.dtype != dtype)
                throw new ArgumentException($"FlatSgd needs one dtype for all parameters: found {dtype} and {p.dtype} (mixed dtypes)");
            if (p.device.type != device.type || p.device.index != device.index)
                throw new ArgumentException($"FlatSgd needs one device for all parameters: found {device} and {p.device} (mixed devices)");
            if (!p.is_floating_point()) throw new ArgumentException($"FlatSgd needs floating-point parameters, not {p.dtype}");
            if (!p.is_leaf) throw new ArgumentException("FlatSgd needs leaf parameters");
        }
    }

    /// <summary>One group's flat buffers and each parameter's views into them.</summary>
    private sealed class FlatGroup : IDisposable
    {
        private readonly Parameter[] _parameters;
        private readonly Tensor[] _gradientViews;
        private readonly Tensor?[] _momentumViews;

        // Elements per chunk of a CPU step: 4 MiB of float32 per buffer, so a chunk's parameters, gradients, momentum and
        // scratch (16 MiB) stay in the last-level cache between the step's kernels.
        private const long CpuChunkElements = 1L << 20;

        // The CPU step's scratch for grad + wd·p, min(Count, CpuChunkElements) elements; made on the first step with weight decay.
        private Tensor? _scratch;

        public FlatGroup(Parameter[] parameters, ScalarType dtype, Device device, TorchSharp.Utils.OrderedDict<IntPtr, OptimizerState> state)
        {
            _parameters = parameters;
            var segments = new (long Offset, long Count)[parameters.Length];
            long total = 0;
            for (var i = 0; i < parameters.Length; i++)
            {
                var count = parameters[i].numel();
                segments[i] = (total, count);
                total += count;
            }
            Segments = segments;
            Count = total;
            _gradientViews = new Tensor[parameters.Length];
            _momentumViews = new Tensor?[parameters.Length];

            using var noGrad = no_grad();
            Parameters = empty(total, dtype: dtype, device: device).DetachFromDisposeScope();
            Gradients = zeros(total, dtype: dtype, device: device).DetachFromDisposeScope();
            Momentum = zeros(total, dtype: dtype, device: device).DetachFromDisposeScope();
            for (var i = 0; i < parameters.Length; i++)
            {
                var p = parameters[i];
                var shape = p.shape;
                using (var view = Segment(Parameters, i))
                {
                    view.copy_(p);
                    p.set_(view);
                }
                var gradient = Segment(Gradients, i);
                using (var existing = p.grad)
                    if (existing is not null) gradient.copy_(existing);
                p.grad = gradient;
                _gradientViews[i] = gradient;
            }
            AttachMomentum(state);
        }

        public Tensor Parameters { get; }

        public Tensor Gradients { get; }

        public Tensor Momentum { get; }

        public long Count { get; }

        public IReadOnlyList<(long Offset, long Count)> Segments { get; }

        /// <summary>
        /// One step over the flat buffers: <c>g = grad + wd·p</c> (when <paramref name="weightDecay"/> is given),
        /// <c>buf = m·buf + g</c> (when <paramref name="momentum"/> is given, else <c>buf = g</c>), <c>p += (-lr)·buf</c>.
        /// On the CPU the buffers are walked in chunks of <see cref="CpuChunkElements"/> with <c>g</c> in a small scratch
        /// buffer kept by the group: a whole-group temporary for <c>g</c> (4 bytes a parameter, 214 MB for emanet-r101) was a
        /// fresh allocation every step whose page faults and zeroing cost more than the update itself (FlatSgd step of
        /// emanet-r101 on 2 cores: 110-120 ms whole-group, 26-27 ms in 1 M-element chunks), and the chunk's four reads and
        /// writes stay in the cache. Other devices use one whole-group temporary (their allocators cache it). The same
        /// kernels in the same order per element as the whole-group form, so the results are identical.
        /// </summary>
        public void Update(Scalar? weightDecay, Scalar? momentum, Scalar minusLr)
        {
            long chunk = Parameters.device.type == DeviceType.CPU ? Math.Min(CpuChunkElements, Count) : Count;
            Tensor? scratch = null;
            if (weightDecay is not null)
            {
                if (chunk != Count) scratch = _scratch ??= empty(chunk, dtype: Parameters.dtype, device: Parameters.device).DetachFromDisposeScope();
                else scratch = empty(chunk, dtype: Parameters.dtype, device: Parameters.device);   // in step's dispose scope
            }
            for (long offset = 0; offset < Count; offset += chunk)
            {
                long length = Math.Min(chunk, Count - offset);
                using var parameters = Parameters.narrow(0, offset, length);
                using var gradients = Gradients.narrow(0, offset, length);
                using var decayed = scratch?.narrow(0, 0, length);
                var gradient = decayed is null ? gradients : decayed.copy_(gradients).add_(parameters, weightDecay!);
                if (momentum is not null)
                {
                    using var buffer = Momentum.narrow(0, offset, length);
                    buffer.mul_(momentum).add_(gradient, Scalars.One);
                    parameters.add_(buffer, minusLr);
                }
                else
                {
                    parameters.add_(gradient, minusLr);
                }
            }
        }

        public void AttachGradients()
        {
            for (var i = 0; i < _parameters.Length; i++) _parameters[i].grad = _gradientViews[i];
        }

        public void AttachMomentum(TorchSharp.Utils.OrderedDict<IntPtr, OptimizerState> state)
        {
            for (var i = 0; i < _parameters.Length; i++)
            {
                var entry = (State)state[_parameters[i].Handle];
                var current = entry.momentum_buffer;
                var ours = _momentumViews[i];
                if (ours is not null && ReferenceEquals(current, ours) && !ours.IsInvalid) continue;

                using var noGrad = no_grad();
                var view = Segment(Momentum, i);
                if (current is null) view.zero_();
                else if (current.IsInvalid)
                {
                    // Our own view, disposed by someone: its values are still in the buffer. Anything else is lost.
                    if (!ReferenceEquals(current, ours))
                        throw new InvalidOperationException($"the momentum state of parameter {i} was replaced by a disposed tensor");
                }
                else if (!ReferenceEquals(current, ours))
                {
                    if (!current.shape.SequenceEqual(view.shape))
                        throw new ArgumentException($"a momentum buffer of shape [{string.Join(", ", current.shape)}] does not fit its parameter [{string.Join(", ", view.shape)}]");
                    view.copy_(current);
                    current.Dispose();
                }
                if (ours is not null && !ours.IsInvalid && !ReferenceEquals(ours, current)) ours.Dispose();
                entry.momentum_buffer = view;
                _momentumViews[i] = view;
            }
        }

        private Tensor Segment(Tensor buffer, int index)
        {
            var (offset, count) = Segments[index];
            using var narrow = buffer.narrow(0, offset, count);
            return narrow.view(_parameters[index].shape).DetachFromDisposeScope();
        }

        public void Dispose()
        {
            foreach (var g in _gradientViews) g.Dispose();
            Parameters.Dispose();
            Gradients.Dispose();
            Momentum.Dispose();
            _scratch?.Dispose();
        }
    }
}
