using EMANet.Runtime.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

[Collection(nameof(TorchGlobalState))]
public class FlatSgdTests
{
    private static readonly double[] LearningRates = [0.1, 0.05, 0.2, 0.01, 0.07];

    // Options with a visible weight decay; the recipe's momentum 0.9 and bias multiplier 2.
    private static TrainingOptions Recipe => new() { LearningRate = 0.1, WeightDecay = 1e-2 };

    /// <summary>conv (bias) + BN + ReLU + conv (bias): all three recipe groups are non-empty.</summary>
    private static Sequential NewNetwork(long seed)
    {
        TorchGlobalState.Seed(seed);
        return nn.Sequential(
            ("conv1", nn.Conv2d(3, 4, 3, padding: 1)),
            ("bn1", new EMANet.Runtime.Blocks.BatchNorm2d(4)),
            ("relu", nn.ReLU()),
            ("conv2", nn.Conv2d(4, 3, 1)));
    }

    private static (Tensor Images, Tensor Labels) Batch(int step)
    {
        using var generator = new torch.Generator((ulong)(1000 + step));
        var images = randn(new long[] { 2, 3, 6, 6 }, generator: generator);
        var labels = randint(0, 3, new long[] { 2, 6, 6 }, generator: generator);
        return (images, labels);
    }

    /// <summary>The recipe's groups on TorchSharp's own SGD (what ParameterGroups.CreateOptimizer returned before FlatSgd).</summary>
    private static SGD ReferenceSgd(ParameterGroups groups, TrainingOptions options) => optim.SGD(new List<SGD.ParamGroup>
    {
        new(groups.Decayed.Select(p => p.Parameter).ToArray(), lr: options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
        new(groups.Undecayed.Select(p => p.Parameter).ToArray(), lr: options.LearningRate, momentum: options.Momentum, weight_decay: 0),
        new(groups.Biases.Select(p => p.Parameter).ToArray(), lr: options.LearningRate * options.BiasLearningRateMultiplier, momentum: options.Momentum, weight_decay: 0),
    }, options.LearningRate, momentum: options.Momentum);

    private static void TrainSteps(nn.Module<Tensor, Tensor> network, SGD optimizer, int from, int to)
    {
        network.train();
        for (var step = from; step < to; step++)
        {
            using var scope = NewDisposeScope();
            ParameterGroups.SetLearningRate(optimizer, LearningRates[step % LearningRates.Length], Recipe.BiasLearningRateMultiplier);
            var (images, labels) = Batch(step);
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(network.forward(images), labels);
            loss.backward();
            optimizer.step();
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what, double relative = 1e-6)
    {
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64);
        var difference = (e - actual.to(ScalarType.Float64)).abs().max().item<double>();
        var scale = Math.Max(e.abs().max().item<double>(), 1e-12);
        Assert.True(difference <= relative * scale, $"{what}: max difference {difference:G4}, scale {scale:G4}");
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    private static Tensor Momentum(SGD optimizer, Parameter parameter) =>
        optimizer.state_dict().State.Cast<SGD.State>().Single(s => ReferenceEquals(s, StateOf(optimizer, parameter))).momentum_buffer;

    private static SGD.State StateOf(SGD optimizer, Parameter parameter)
    {
        var dict = optimizer.state_dict();
        var index = optimizer.ParamGroups.Cast<SGD.ParamGroup>().SelectMany(g => g.Parameters).ToList().FindIndex(p => p.Handle == parameter.Handle);
        return (SGD.State)dict.State[index];
    }

    /// <summary>Where a tensor's first element lives: its storage's base address and its element offset in that storage.</summary>
    private static (IntPtr Storage, long Offset) Location(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return (tensor.storage<float>().data_ptr(), tensor.storage_offset());
    }

    /// <summary>Every parameter, gradient and momentum buffer of <paramref name="optimizer"/> is the contiguous segment of its group's flat buffer.</summary>
    private static void AssertAliased(FlatSgd optimizer)
    {
        var groups = optimizer.ParamGroups.Cast<SGD.ParamGroup>().ToArray();
        for (var g = 0; g < groups.Length; g++)
        {
            var parameters = groups[g].Parameters.ToArray();
            var segments = optimizer.Segments(g);
            Assert.Equal(parameters.Length, segments.Count);
            var (parameterBase, parameterBufferOffset) = Location(optimizer.ParameterBuffer(g));
            var (gradientBase, gradientBufferOffset) = Location(optimizer.GradientBuffer(g));
            var (momentumBase, momentumBufferOffset) = Location(optimizer.MomentumBuffer(g));
            Assert.Equal(0, parameterBufferOffset + gradientBufferOffset + momentumBufferOffset);
            Assert.Equal(segments.Sum(s => s.Count), optimizer.ParameterBuffer(g).numel());
            for (var i = 0; i < parameters.Length; i++)
            {
                var p = parameters[i];
                var (offset, count) = segments[i];
                Assert.Equal(count, p.numel());
                Assert.True(p.is_contiguous());
                Assert.Equal((parameterBase, offset), Location(p));
                using var grad = p.grad;
                Assert.NotNull(grad);
                Assert.True(grad!.is_contiguous());
                Assert.Equal((gradientBase, offset), Location(grad));
                var momentum = StateOf(optimizer, p).momentum_buffer;
                Assert.NotNull(momentum);
                Assert.Equal((momentumBase, offset), Location(momentum));
            }
        }
    }

    [Fact]
    public void Matches_torchsharp_sgd_over_five_steps_with_changing_learning_rates()
    {
        using var reference = NewNetwork(5);
        using var flatNet = NewNetwork(5);
        var referenceGroups = ParameterGroups.Of(reference);
        var flatGroups = ParameterGroups.Of(flatNet);
        Assert.All(new[] { flatGroups.Decayed.Count, flatGroups.Undecayed.Count, flatGroups.Biases.Count }, n => Assert.True(n > 0));
        using var referenceSgd = ReferenceSgd(referenceGroups, Recipe);
        using var flat = flatGroups.CreateOptimizer(Recipe);
        Assert.IsType<FlatSgd>(flat);

        TrainSteps(reference, referenceSgd, 0, 5);
        TrainSteps(flatNet, flat, 0, 5);

        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in flatNet.named_parameters())
            AssertClose(expected[name], parameter, name);
        foreach (var ((name, r), (_, f)) in referenceGroups.Decayed.Concat(referenceGroups.Undecayed).Concat(referenceGroups.Biases)
                     .Zip(flatGroups.Decayed.Concat(flatGroups.Undecayed).Concat(flatGroups.Biases)))
            AssertClose(Momentum(referenceSgd, r), Momentum(flat, f), "momentum of " + name);
        // the BN running statistics saw the same batches
        AssertClose(reference.state_dict()["bn1.running_var"], flatNet.state_dict()["bn1.running_var"], "bn1.running_var");
        AssertAliased(flat);
    }

    /// <summary>
    /// Groups larger than the CPU step's chunk (2^20 elements; the last chunk partial): the chunked update gives exactly
    /// TorchSharp's SGD, with weight decay (through the scratch buffer) and without, momentum and a changing learning rate.
    /// </summary>
    [Fact]
    public void Groups_larger_than_a_cpu_chunk_match_torchsharp_sgd_exactly()
    {
        TorchGlobalState.Seed(11);
        var sizes = new long[] { 700_000, 1_000, 900_001 };   // 1,601,001 elements a group: one whole chunk and a partial one
        Parameter[] NewParameters(long seed)
        {
            using var generator = new torch.Generator((ulong)seed);
            return sizes.Select(n => new Parameter(randn(new long[] { n }, generator: generator))).ToArray();
        }
        var referenceDecayed = NewParameters(1);
        var referencePlain = NewParameters(2);
        var flatDecayed = NewParameters(1);
        var flatPlain = NewParameters(2);
        using var reference = optim.SGD(new List<SGD.ParamGroup>
        {
            new(referenceDecayed, lr: 0.1, momentum: 0.9, weight_decay: 1e-2),
            new(referencePlain, lr: 0.1, momentum: 0.9, weight_decay: 0),
        }, 0.1, momentum: 0.9);
        using var flat = new FlatSgd(new List<SGD.ParamGroup>
        {
            new(flatDecayed, lr: 0.1, momentum: 0.9, weight_decay: 1e-2),
            new(flatPlain, lr: 0.1, momentum: 0.9, weight_decay: 0),
        }, 0.1, momentum: 0.9);
        for (var step = 0; step < 3; step++)
        {
            foreach (var (optimizer, parameters) in new (SGD, Parameter[])[] { (reference, referenceDecayed.Concat(referencePlain).ToArray()), (flat, flatDecayed.Concat(flatPlain).ToArray()) })
            {
                using var scope = NewDisposeScope();
                foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRates[step];
                optimizer.zero_grad();
                using var generator = new torch.Generator((ulong)(100 + step));
                foreach (var p in parameters)
                    (p * randn(p.shape, generator: generator)).sum().backward();   // gradient: the same random tensor for both
                optimizer.step();
            }
        }
        foreach (var (r, f) in referenceDecayed.Concat(referencePlain).Zip(flatDecayed.Concat(flatPlain)))
        {
            Assert.True(Same(r, f), $"parameter of {r.numel()} elements differs");
            Assert.True(Same(Momentum(reference, r), Momentum(flat, f)), $"momentum of {r.numel()} elements differs");
        }
    }

    [Fact]
    public void Parameters_gradients_and_momentum_live_in_the_flat_buffers()
    {
        using var network = NewNetwork(6);
        var before = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var handles = network.parameters().Select(p => p.Handle).ToArray();
        using var optimizer = ParameterGroups.Of(network).CreateOptimizer(Recipe);

        // Construction changes no value and keeps the module's parameter objects.
        Assert.Equal(handles, network.parameters().Select(p => p.Handle));
        foreach (var (key, tensor) in network.state_dict())
            Assert.True(Same(tensor, before[key]), key);
        AssertAliased(optimizer);
        for (var g = 0; g < 3; g++)
        {
            Assert.Equal(0, optimizer.GradientBuffer(g).abs().sum().item<float>());
            Assert.Equal(0, optimizer.MomentumBuffer(g).abs().sum().item<float>());
        }

        // Backward accumulates into the flat gradient buffer in place.
        var (images, labels) = Batch(0);
        network.train();
        nn.functional.cross_entropy(network.forward(images), labels).backward();
        AssertAliased(optimizer);
        var groups = optimizer.ParamGroups.Cast<SGD.ParamGroup>().ToArray();
        for (var g = 0; g < 3; g++)
        {
            Assert.True(optimizer.GradientBuffer(g).abs().sum().item<float>() > 0, $"group {g} got no gradient");
            using var concatenated = cat(groups[g].Parameters.Select(p => p.grad!.flatten()).ToArray());
            Assert.True(Same(concatenated, optimizer.GradientBuffer(g)));
        }

        // A second backward adds to it (autograd accumulates); zero_grad zeroes, never sets none.
        var first = optimizer.GradientBuffer(0).clone();
        nn.functional.cross_entropy(network.forward(images), labels).backward();
        AssertClose(first * 2, optimizer.GradientBuffer(0), "accumulated gradient", 1e-5);
        optimizer.zero_grad();
        foreach (var p in network.parameters())
        {
            using var grad = p.grad;
            Assert.NotNull(grad);
            Assert.Equal(0, grad!.abs().sum().item<float>());
        }
        AssertAliased(optimizer);

        // After the module's zero_grad (set to none by default) the optimizer's zero_grad re-attaches the segments.
        network.zero_grad();
        Assert.All(network.parameters(), p => Assert.Null(p.grad));
        optimizer.zero_grad();
        AssertAliased(optimizer);
        nn.functional.cross_entropy(network.forward(images), labels).backward();
        AssertAliased(optimizer);
        AssertClose(first, optimizer.GradientBuffer(0), "gradient after re-attaching", 1e-5);
        optimizer.step();
        AssertAliased(optimizer);
    }

    [Fact]
    public void A_parameter_without_gradient_gets_zero_gradient_so_decay_still_moves_it()
    {
        using var network = NewNetwork(7);
        using var optimizer = ParameterGroups.Of(network).CreateOptimizer(Recipe);
        var conv2 = (TorchSharp.Modules.Conv2d)network.named_children().Single(c => c.name == "conv2").module;
        var weight = conv2.weight!.clone();
        ParameterGroups.SetLearningRate(optimizer, 0.1, 2);
        optimizer.zero_grad();
        optimizer.step(); // no backward at all: gradient zero everywhere
        // p -= lr * (0 + wd * p) for the decayed group; biases and BN weights unchanged
        AssertClose(weight * (1 - 0.1 * 1e-2), conv2.weight!, "decayed weight");
    }

    [Fact]
    public void Parameters_stay_valid_after_the_optimizer_is_disposed()
    {
        using var network = NewNetwork(8);
        var optimizer = ParameterGroups.Of(network).CreateOptimizer(Recipe);
        TrainSteps(network, optimizer, 0, 2);
        var trained = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        optimizer.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        foreach (var (key, tensor) in network.state_dict())
            Assert.True(Same(tensor, trained[key]), key);
        // still trainable with a new optimizer (which lays out new buffers)
        using var second = ParameterGroups.Of(network).CreateOptimizer(Recipe);
        foreach (var (key, tensor) in network.state_dict())
            Assert.True(Same(tensor, trained[key]), key);
        TrainSteps(network, second, 2, 3);
        AssertAliased(second);
        Assert.Contains(network.state_dict(), kv => !Same(kv.Value, trained[kv.Key]));
    }

    [Fact]
    public void Checkpoint_round_trip_equals_uninterrupted_training()
    {
        // Uninterrupted: 4 steps.
        using var uninterrupted = NewNetwork(9);
        using var optimizerA = ParameterGroups.Of(uninterrupted).CreateOptimizer(Recipe);
        TrainSteps(uninterrupted, optimizerA, 0, 4);

        // 2 steps, then model and optimizer state saved.
        using var first = NewNetwork(9);
        byte[] optimizerState;
        Dictionary<string, Tensor> modelState;
        using (var optimizerB = ParameterGroups.Of(first).CreateOptimizer(Recipe))
        {
            TrainSteps(first, optimizerB, 0, 2);
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                optimizerB.save_state_dict(writer);
            optimizerState = stream.ToArray();
            modelState = first.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        }

        // A fresh network initialised differently; the optimizer created before the model is restored (as the Trainer does).
        using var resumed = NewNetwork(99);
        using var optimizerC = ParameterGroups.Of(resumed).CreateOptimizer(Recipe);
        resumed.load_state_dict(modelState);
        AssertAliased(optimizerC);
        using (var reader = new BinaryReader(new MemoryStream(optimizerState)))
            optimizerC.load_state_dict(reader);
        AssertAliased(optimizerC);
        Assert.True(optimizerC.MomentumBuffer(0).abs().sum().item<float>() > 0);
        TrainSteps(resumed, optimizerC, 2, 4);
        AssertAliased(optimizerC);

        var expected = uninterrupted.state_dict();
        foreach (var (key, tensor) in resumed.state_dict())
            AssertClose(expected[key], tensor, key);
        for (var g = 0; g < 3; g++)
            AssertClose(optimizerA.MomentumBuffer(g), optimizerC.MomentumBuffer(g), $"momentum of group {g}");
    }

    [Fact]
    public void Loading_through_torchsharps_own_loader_is_repaired_by_the_next_step()
    {
        using var network = NewNetwork(11);
        using var optimizer = ParameterGroups.Of(network).CreateOptimizer(Recipe);
        TrainSteps(network, optimizer, 0, 2);
        var momentum = optimizer.MomentumBuffer(0).clone();
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            ((OptimizerHelper)optimizer).save_state_dict(writer); // TorchSharp's writer: named "FlatSgd"
        optimizer.MomentumBuffer(0).zero_();
        stream.Position = 0;
        var parameter = optimizer.ParamGroups.Cast<SGD.ParamGroup>().First().Parameters.First();
        var view = StateOf(optimizer, parameter).momentum_buffer;
        using (var reader = new BinaryReader(stream))
            ((OptimizerHelper)optimizer).load_state_dict(reader); // non-virtual: FlatSgd's re-attaching is bypassed

        // TorchSharp loads into the existing buffer in place, then swaps in a new tensor object from
        // to(device, disposeAfter: true) on the same storage, disposing ours.
        var loaded = StateOf(optimizer, parameter).momentum_buffer;
        Assert.False(ReferenceEquals(view, loaded));
        Assert.True(view.IsInvalid);
        Assert.Equal(Location(optimizer.MomentumBuffer(0)), Location(loaded));
        Assert.True(Same(momentum, optimizer.MomentumBuffer(0)));
        // step (and FlatSgd.load_state_dict) put the views back.
        TrainSteps(network, optimizer, 2, 3);
        AssertAliased(optimizer);
    }

    [Fact]
    public void State_is_interchangeable_with_torchsharp_sgd()
    {
        using var network = NewNetwork(10);
        var groups = ParameterGroups.Of(network);
        byte[] saved;
        using (var reference = ReferenceSgd(groups, Recipe))
        {
            TrainSteps(network, reference, 0, 2);
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream)) reference.save_state_dict(writer);
            saved = stream.ToArray();
        }
        using var flat = groups.CreateOptimizer(Recipe);
        using (var reader = new BinaryReader(new MemoryStream(saved)))
            flat.load_state_dict(reader);
        AssertAliased(flat);
        Assert.True(flat.MomentumBuffer(0).abs().sum().item<float>() > 0);

        using var back = new MemoryStream();
        using (var writer = new BinaryWriter(back, System.Text.Encoding.UTF8, leaveOpen: true)) flat.save_state_dict(writer);
        back.Position = 0;
        using var copy = NewNetwork(10);
        using var other = ReferenceSgd(ParameterGroups.Of(copy), Recipe);
        using (var reader = new BinaryReader(back)) other.load_state_dict(reader);
        foreach (var ((_, f), (name, o)) in groups.Decayed.Zip(ParameterGroups.Of(copy).Decayed))
            AssertClose(Momentum(flat, f), Momentum(other, o), "momentum of " + name, 0);
    }

    [Fact]
    public void Trainer_resume_keeps_parameters_in_the_flat_buffers()
    {
        using var temp = new TempFolders();
        var folder = temp.New("flatsgd-resume");
        var options = SyntheticData.Options(4) with { CheckpointInterval = 2 };
        TorchGlobalState.Seed(61);
        using (var network = new TinyTestNet())
        using (var trainer = new Trainer(network, options, SyntheticData.Source(5), folder))
        {
            Assert.IsType<FlatSgd>(trainer.Optimizer);
            Assert.False(trainer.Train(stopAtIteration: 2).Completed);
        }
        var checkpoint = TrainingCheckpoint.Load(Path.Combine(folder, Trainer.CheckpointFileName));
        TorchGlobalState.Seed(62);
        using var copy = new TinyTestNet();
        using var resumed = new Trainer(copy, options, SyntheticData.Source(5), null, checkpoint);
        var optimizer = Assert.IsType<FlatSgd>(resumed.Optimizer);
        AssertAliased(optimizer);
        Assert.True(optimizer.MomentumBuffer(0).abs().sum().item<float>() > 0);
        Assert.True(resumed.Train().Completed);
        AssertAliased(optimizer);
    }

    [Fact]
    public void Rejects_mixed_dtypes_and_devices_dampening_and_nesterov()
    {
        using var scope = NewDisposeScope();
        var a = new Parameter(zeros(3));
        var b = new Parameter(zeros(new long[] { 3 }, ScalarType.Float64));
        var dtypes = Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a], lr: 0.1), new SGD.ParamGroup([b], lr: 0.1)], 0.1, momentum: 0.9));
        Assert.Contains("mixed dtypes", dtypes.Message);

        var meta = new Parameter(empty(new long[] { 3 }, device: META));
        var devices = Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a, meta], lr: 0.1)], 0.1, momentum: 0.9));
        Assert.Contains("mixed devices", devices.Message);

        Assert.Contains("dampening", Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a], lr: 0.1)], 0.1, momentum: 0.9, dampening: 0.1)).Message);
        Assert.Contains("dampening", Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a], lr: 0.1, momentum: 0.9, dampening: 0.5)], 0.1)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a], lr: 0.1)], 0.1, momentum: 0.9, nesterov: true)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a], lr: 0.1, momentum: 0.9, nesterov: true)], 0.1)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new FlatSgd([new SGD.ParamGroup([a], lr: 0.1), new SGD.ParamGroup([a], lr: 0.1)], 0.1)).Message);
    }
}
