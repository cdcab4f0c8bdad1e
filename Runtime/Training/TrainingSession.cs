using EMANet.Runtime.Networks;
using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>What a data provider is asked for: the batches of one run.</summary>
/// <param name="Spec">The --data text, for the provider to parse.</param>
/// <param name="Input">Network input (crop size and channels).</param>
/// <param name="Classes">Classes the labels must index (plus the ignore index).</param>
/// <param name="Options">The run's options (batch size, seed, ignore index).</param>
public sealed record TrainingDataRequest(string Spec, TensorShape Input, int Classes, TrainingOptions Options)
{
    /// <summary>Validate on the first this many images of the validation split only; null = all of them. Not part of the recipe.</summary>
    public int? ValidationLimit { get; init; }

    /// <summary>The network's output stride (<see cref="ISegmentationNetwork.OutputStride"/>): whole-image validation pads to a multiple of it plus one.</summary>
    public int OutputStride { get; init; } = 8;
}

/// <summary>The data of one run: training batches and, optionally, a validation returning mIoU in 0..1.</summary>
public sealed record TrainingData(IBatchSource Batches, Func<nn.Module<Tensor, Tensor>, double>? Evaluate = null);

/// <summary>One training run from a catalogue entry: the whole of <c>emanet train</c> behind the argument parsing.</summary>
public sealed record TrainingSessionRequest
{
    public required NetworkEntry Network { get; init; }

    /// <summary>Classes; null = the checkpoint's on a resume, else the declared.</summary>
    public int? Classes { get; init; }

    /// <summary>Input; null = the checkpoint's on a resume, else the declared.</summary>
    public TensorShape? Input { get; init; }

    /// <summary>Turns the base options (defaults, or the checkpoint's on a resume) into this run's: the settings given explicitly.</summary>
    public Func<TrainingOptions, TrainingOptions> Options { get; init; } = o => o;

    /// <summary>Opens the data once the network's input, classes and the options are known.</summary>
    public required Func<TrainingDataRequest, TrainingData> Data { get; init; }

    /// <summary>The --data text handed to <see cref="Data"/>.</summary>
    public required string DataSpec { get; init; }

    public required string OutputDirectory { get; init; }

    /// <summary>A checkpoint file to continue from.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Passed to the data provider as <see cref="TrainingDataRequest.ValidationLimit"/>.</summary>
    public int? ValidationLimit { get; init; }

    /// <summary>Extra monitors (console progress, ...).</summary>
    public IReadOnlyList<ITrainingMonitor> Monitors { get; init; } = [];
}

public static class TrainingSession
{
    /// <summary>
    /// Builds the network (initialised from torch's generator seeded with the run seed), restores
    /// the checkpoint when resuming, opens the data, and trains to the end of the run or until
    /// <paramref name="cancellation"/> (then a checkpoint is written and the result says where).
    /// </summary>
    public static TrainingResult Run(TrainingSessionRequest request, CancellationToken cancellation = default)
    {
        var checkpoint = request.ResumeFrom is null ? null : TrainingCheckpoint.Load(request.ResumeFrom);
        var options = request.Options(checkpoint?.Run.Training ?? new TrainingOptions()).Validate();
        var classes = request.Classes ?? checkpoint?.Run.Classes ?? request.Network.Descriptor.Classes;
        var input = request.Input ?? (checkpoint is null ? request.Network.Descriptor.InputShape : TensorShape.Parse(checkpoint.Run.Input));

        manual_seed(options.Seed);
        using var network = request.Network.Create(classes, input);
        var data = request.Data(new TrainingDataRequest(request.DataSpec, input, classes, options) { ValidationLimit = request.ValidationLimit, OutputStride = network.OutputStride });
        using var trainer = new Trainer(network, options, data.Batches, request.OutputDirectory, checkpoint);
        foreach (var monitor in request.Monitors) trainer.Monitors.Add(monitor);
        return trainer.Train(data.Evaluate, cancellation: cancellation);
    }
}
