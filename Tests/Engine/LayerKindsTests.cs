using EMANet.Engine;
using EMANet.Runtime.Blocks;

namespace EMANet.Tests.Engine;

/// <summary><see cref="LayerKinds"/> is the one definition of each layer kind: complete, and naming types that exist.</summary>
public class LayerKindsTests
{
    [Fact]
    public void Every_layer_attribute_of_the_vocabulary_declares_exactly_one_kind()
    {
        var attributes = typeof(LayerAttribute).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(LayerAttribute)) && !t.IsAbstract)
            .Select(t => t.Name)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();
        var defined = LayerKinds.All.SelectMany(d => d.AttributeNames).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        Assert.Equal(attributes, defined);
        Assert.Equal(Enum.GetValues<LayerKind>().OrderBy(k => k), LayerKinds.All.Select(d => d.Kind).OrderBy(k => k));
    }

    [Fact]
    public void Every_member_type_exists()
    {
        var assemblies = new[] { typeof(ConvBlock).Assembly, typeof(TorchSharp.Modules.ReLU).Assembly };
        foreach (var definition in LayerKinds.All)
            foreach (var name in definition.MemberTypes)
                Assert.True(assemblies.Any(a => a.GetType(name) is not null), $"{definition.Kind}: member type {name} does not exist");
    }

    [Fact]
    public void An_unknown_attribute_is_no_layer()
    {
        Assert.Null(LayerKinds.ForAttribute("ObsoleteAttribute"));
        Assert.Equal(LayerKind.Conv, LayerKinds.ForAttribute("ConvBnReluAttribute")!.Kind);
    }
}
