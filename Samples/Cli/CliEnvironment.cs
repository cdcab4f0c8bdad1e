using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;

namespace EMANet.Cli;

/// <summary>
/// Opens the training data named by <c>emanet train --data SPEC</c>. A dataset library plugs in
/// by implementing this (typically: <c>CanOpen</c> asks its parser whether it knows the spec,
/// <c>Open</c> builds the augmented batch loader and the validation callback) and by being added
/// to <see cref="CliEnvironment.Default"/>'s <see cref="CliEnvironment.DataProviders"/>.
/// </summary>
public interface IDataProvider
{
    /// <summary>A short line for help and errors, e.g. "voc:ROOT  PASCAL VOC 2012 + SBD trainaug".</summary>
    string Description { get; }

    /// <summary>Whether this provider understands <paramref name="spec"/>.</summary>
    bool CanOpen(string spec);

    /// <summary>The classes a network trained on <paramref name="spec"/> should have by default (null: the network's declared classes).</summary>
    int? DefaultClasses(string spec) => null;

    /// <summary>The batches (and validation) of the run described by <paramref name="request"/>.</summary>
    TrainingData Open(TrainingDataRequest request);
}

/// <summary>What the commands work on: the network catalogue and the data providers.</summary>
public sealed record CliEnvironment(IReadOnlyList<NetworkEntry> Networks, IReadOnlyList<IDataProvider> DataProviders)
{
    /// <summary>The networks of EMANet.Models and the built-in datasets.</summary>
    public static CliEnvironment Default { get; } = new(
        NetworkCatalog.Discover(typeof(EMANet.Models.EmaNetR101).Assembly),
        [new DatasetProvider()]);

    /// <summary>The entry named <paramref name="name"/>; an unknown name is a usage error (exit 2) listing the known ones.</summary>
    public NetworkEntry FindNetwork(string name)
    {
        try
        {
            return NetworkCatalog.Find(Networks, name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public IDataProvider FindDataProvider(string spec) =>
        DataProviders.FirstOrDefault(p => p.CanOpen(spec))
        ?? throw new UsageException(DataProviders.Count == 0
            ? $"--data '{spec}': this build has no data provider registered (CliEnvironment.DataProviders is empty)"
            : $"--data '{spec}' is not understood; known: {string.Join("; ", DataProviders.Select(p => p.Description))}");
}
