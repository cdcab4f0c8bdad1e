using EMANet.Models;
using TorchSharp;
using EMANet.Runtime.Networks;
using static TorchSharp.torch;

namespace EMANet.Tests.Models;

/// <summary>Every declared network: parameter constant against the module, output shapes at two sizes.</summary>
public class DeclaredNetworkTests
{
    public static IEnumerable<object[]> Networks() =>
        NetworkCatalog.Discover(typeof(EmaNetR101).Assembly).Select(e => new object[] { e.Name });

    private static NetworkEntry Entry(string name) => NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetR101).Assembly), name);

    [Theory]
    [MemberData(nameof(Networks))]
    public void ParameterCount_EqualsModuleParametersPlusBases(string name)
    {
        var entry = Entry(name);
        using var module = entry.Create();
        long parameters = module.parameters().Sum(p => p.numel());
        long bases = module.EmaUnits.Sum(u => u.BasesBuffer.numel());
        // ParameterCount is the inference path's: an auxiliary head's parameters (built, trained) are not in it.
        long auxiliary = entry.Descriptor.Analyze().Layers.Where(r => r.Auxiliary).Sum(r => r.Parameters);
        Assert.Equal(entry.Descriptor.ParameterCount + auxiliary, parameters + bases);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_GivesClassesAtInputSize_AtTwoSizes(string name)
    {
        var entry = Entry(name);
        // The declared size, and a smaller odd size (full-size networks run at 513 only in the default case).
        foreach (var (input, classes) in new[] { (entry.Descriptor.InputShape, entry.Descriptor.Classes), (new TensorShape(3, 97, 81), 7) })
        {
            using var module = entry.Create(classes, input);
            module.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var generator = new TorchSharp.torch.Generator(7);   // not torch's global generator, which parallel tests seed
            var x = randn(new long[] { 1, input.Channels, input.Height, input.Width }, generator: generator);
            var y = module.forward(x);
            Assert.Equal(new long[] { 1, classes, input.Height, input.Width }, y.shape);
            Assert.False(y.isnan().any().item<bool>());
        }
    }

    [Fact]
    public void Construction_RefusesAnInputTheDeclarationCannotTake()
    {
        var error = Assert.Throws<ArgumentException>(() => new EmaNetTiny(0));
        Assert.Contains("EMA0003", error.Message);
        Assert.Contains("Classes = 0", error.Message);
    }

    [Fact]
    public void ToDtype_MovesTheBasesBuffer()
    {
        using var network = new EmaNetTiny();
        network.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, network.EmaUnits[0].BasesBuffer.dtype);
        Assert.Equal(ScalarType.Float64, network.state_dict()["emau.mu"].dtype);
    }
}
