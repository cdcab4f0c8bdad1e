using EMANet.Runtime.Data;
using EMANet.Runtime.Training;
using EMANet.Runtime.Workflows;

namespace EMANet.Cli;

/// <summary>The built-in datasets (synthetic, fashion-mnist, voc, folder) as training data.</summary>
public sealed class DatasetProvider : IDataProvider
{
    public string Description => DatasetFactory.Usage;

    public int? DefaultClasses(string spec) => SegmentationDataSource.ClassesOf(spec);

    public bool CanOpen(string spec) => SegmentationDataSource.Understands(spec);

    public TrainingData Open(TrainingDataRequest request) => SegmentationDataSource.Open(request, message => Console.Error.WriteLine("warning: " + message));
}
