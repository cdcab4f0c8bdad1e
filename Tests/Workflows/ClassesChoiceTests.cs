using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Workflows;
using EMANet.Tests.Evaluation;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Workflows;

/// <summary>
/// The classes a loaded network is built with: the weights' say (classifier out-channels or "classes" metadata) before
/// the dataset's and the declared 4 of <see cref="PixelClassifierTestNet"/>; a mismatch suggests --classes N.
/// </summary>
public class ClassesChoiceTests : IDisposable
{
    private readonly TempFolders _temp = new();
    private static readonly NetworkEntry Entry =
        NetworkCatalog.Find(NetworkCatalog.Discover(typeof(PixelClassifierTestNet).Assembly), "pixel-classifier-test");

    public void Dispose() => _temp.Dispose();

    private string SixClassWeights(IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = Path.Combine(_temp.New("six"), "six.safetensors");
        using var network = Entry.Create(6);
        WeightsFile.Write(path, network.state_dict(), metadata);
        return path;
    }

    private static long ClassifierOut(nn.Module network) => network.state_dict()["classifier.weight"].shape[0];

    [Fact]
    public void Classes_default_to_the_weights_classifier_out_channels()
    {
        var logged = new List<string>();
        using var network = TrainedNetwork.Load(Entry, SixClassWeights(), log: logged.Add);
        Assert.Equal(6, ClassifierOut(network));
        Assert.Equal("classes: 6 (from the weights' classifier classifier.weight out-channels)", logged[0]);
    }

    [Fact]
    public void Classes_default_to_the_weights_metadata_written_by_convert()
    {
        var logged = new List<string>();
        using var network = TrainedNetwork.Load(Entry, SixClassWeights(new Dictionary<string, string> { ["classes"] = "6" }), log: logged.Add);
        Assert.Equal(6, ClassifierOut(network));
        Assert.Equal("classes: 6 (from the weights' metadata)", logged[0]);
    }

    [Fact]
    public void A_mismatch_suggests_the_classes_option()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainedNetwork.Load(Entry, SixClassWeights(), classes: 4));
        Assert.Contains("pass --classes 6", error.Message);
    }

    [Fact]
    public void Without_a_classifier_in_the_weights_the_dataset_classes_are_used()
    {
        var path = Path.Combine(_temp.New("bias"), "bias.safetensors");
        using (var bias = zeros(5))
            WeightsFile.Write(path, [new KeyValuePair<string, Tensor>("classifier.bias", bias)]);
        var logged = new List<string>();
        using var network = TrainedNetwork.Load(Entry, path, strict: false, log: logged.Add, datasetClasses: 5);
        Assert.Equal(5, ClassifierOut(network));
        Assert.Equal("classes: 5 (from the dataset)", logged[0]);
    }
}
