using System.Reflection;

namespace EMANet.Runtime.Networks;

/// <summary>Emitted by the generator once per network: lets <see cref="NetworkCatalog"/> find it.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class GeneratedNetworkAttribute(Type networkType) : Attribute
{
    public Type NetworkType { get; } = networkType;
}

/// <summary>One network of the catalogue: its descriptor and a factory.</summary>
public sealed record NetworkEntry(NetworkDescriptor Descriptor)
{
    public string Name => Descriptor.Name;

    /// <summary>Builds the network, with the declared classes and input unless overridden.</summary>
    /// <exception cref="ArgumentException">The declaration cannot take <paramref name="input"/> or <paramref name="classes"/> (see <see cref="NetworkGuard"/>).</exception>
    public SegmentationNetwork Create(int? classes = null, TensorShape? input = null)
    {
        var ctor = Descriptor.NetworkType.GetConstructor([typeof(int), typeof(TensorShape?)])
                   ?? throw new InvalidOperationException($"network type {Descriptor.NetworkType} has no (int classes, TensorShape? input) constructor");
        try
        {
            // The one conversion: DescriptorOf admitted only SegmentationNetwork types.
            return (SegmentationNetwork)ctor.Invoke([classes ?? Descriptor.Classes, input]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

/// <summary>The networks an assembly declares, found through <see cref="GeneratedNetworkAttribute"/>.</summary>
public static class NetworkCatalog
{
    public static IReadOnlyList<NetworkEntry> Discover(params Assembly[] assemblies) =>
        assemblies
            .SelectMany(a => a.GetCustomAttributes<GeneratedNetworkAttribute>())
            .Select(a => new NetworkEntry(DescriptorOf(a.NetworkType)))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToArray();

    /// <summary>Finds a network by name; the error lists the known names.</summary>
    public static NetworkEntry Find(IReadOnlyList<NetworkEntry> entries, string name) =>
        entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown network '{name}'; known networks: {string.Join(", ", entries.Select(e => e.Name))}");

    private static NetworkDescriptor DescriptorOf(Type type)
    {
        if (!typeof(SegmentationNetwork).IsAssignableFrom(type))
            throw new InvalidOperationException($"generated network {type} does not derive from {typeof(SegmentationNetwork)}; rebuild it with this version of the generator");
        return type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)?.GetValue(null) as NetworkDescriptor
               ?? throw new InvalidOperationException($"generated network {type} has no static Descriptor");
    }
}
