using System.Collections;
using System.Reflection;
using EMANet.Engine;
using EMANet.Models;
using EMANet.Runtime.Networks;
using EMANet.Tests.Training;

namespace EMANet.Tests.Engine;

/// <summary>
/// The attributes are the user's vocabulary; the parser reads them into <see cref="LayerDeclaration"/>s, falling back to
/// its own copy of each default for a property the user left unset. For every layer of every declared network (Models
/// and the tests' networks), every attribute property, set or not, must reach the declaration with the attribute's value:
/// so a parser default that differs from the attribute's (or a property the parser forgets) fails here.
/// </summary>
public class AttributeDefaultsTests
{
    /// <summary>Attribute properties whose declaration property has another name.</summary>
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal) { ["Probability"] = "Dropout" };

    public static IEnumerable<object[]> Networks() =>
        NetworkCatalog.Discover(typeof(EmaNetR101).Assembly, typeof(TinyTestNet).Assembly).Select(e => new object[] { e.Name });

    [Theory]
    [MemberData(nameof(Networks))]
    public void Every_attribute_property_reaches_the_declaration(string name)
    {
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetR101).Assembly, typeof(TinyTestNet).Assembly), name);
        var type = entry.Descriptor.NetworkType;
        foreach (var layer in entry.Descriptor.Declaration.Layers)
        {
            var field = type.GetField(layer.Name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                        ?? throw new InvalidOperationException($"{type.Name} has no field '{layer.Name}'");
            var attribute = field.GetCustomAttributes<LayerAttribute>().Single();
            foreach (var property in attribute.GetType().GetProperties(BindingFlags.Instance | BindingFlags.Public))
            {
                if (property.DeclaringType == typeof(Attribute)) continue;   // TypeId
                object? value = property.GetValue(attribute);
                if (property.Name == nameof(LayerAttribute.From))
                {
                    if (value is string { Length: > 0 } from) Assert.Equal(from, Assert.Single(layer.Inputs));
                    continue;
                }
                var declared = typeof(LayerDeclaration).GetProperty(Renamed.GetValueOrDefault(property.Name, property.Name));
                Assert.True(declared is not null, $"{attribute.GetType().Name}.{property.Name} has no LayerDeclaration property of that name");
                AssertSame(value, declared!.GetValue(layer), $"{name}: layer '{layer.Name}' [{attribute.GetType().Name}] {property.Name}");
            }
        }
    }

    private static void AssertSame(object? attribute, object? declared, string what)
    {
        if (attribute is IEnumerable items and not string)
        {
            var expected = items.Cast<object>().ToArray();
            var actual = ((IEnumerable)declared!).Cast<object>().ToArray();
            Assert.True(expected.SequenceEqual(actual), $"{what}: attribute [{string.Join(", ", expected)}], declaration [{string.Join(", ", actual)}]");
            return;
        }
        Assert.True(Equals(attribute, declared), $"{what}: attribute {attribute}, declaration {declared}");
    }

    [Fact]
    public void ConvBnRelu_says_what_it_builds()
    {
        var attribute = new ConvBnReluAttribute(64, 3);
        Assert.True(attribute.Norm);
        Assert.True(attribute.Relu);
        Assert.False(attribute.Bias);
    }
}
