using System.Collections.Generic;
using System.Collections.Immutable;
using EMANet.Generator.Model;
using Microsoft.CodeAnalysis;

namespace EMANet.Generator.Parsing;

/// <summary>
/// A problem found while reading the attributes, before the engine runs: the arguments of its
/// descriptor's message format (DiagnosticCatalog) and, for code fixes, properties.
/// </summary>
internal sealed record ParseProblem(string Id, Location Location, params string[] Arguments)
{
    /// <summary>Property of an EMA0002 diagnostic: the metadata name of the type the field should have.</summary>
    public const string ExpectedTypeKey = "ExpectedType";

    public ImmutableDictionary<string, string?> Properties { get; init; } = ImmutableDictionary<string, string?>.Empty;
}

/// <summary>
/// The parser's full result: the cacheable model plus, for the analyzer, where each attribute
/// and argument sits so that a finding can point at it. Never enters the incremental pipeline.
/// </summary>
internal sealed class ParsedNetwork
{
    public ParsedNetwork(NetworkModel model, IReadOnlyList<ParseProblem> problems, IReadOnlyList<AttributeLocations> layerLocations, AttributeLocations networkLocations)
    {
        Model = model;
        Problems = problems;
        LayerLocations = layerLocations;
        NetworkLocations = networkLocations;
    }

    public NetworkModel Model { get; }
    public IReadOnlyList<ParseProblem> Problems { get; }
    public IReadOnlyList<AttributeLocations> LayerLocations { get; }
    public AttributeLocations NetworkLocations { get; }

    /// <summary>Where a finding about layer <paramref name="layerIndex"/> (-1: the network) and <paramref name="argument"/> points.</summary>
    public Location LocationOf(int layerIndex, string? argument)
    {
        var attribute = layerIndex >= 0 && layerIndex < LayerLocations.Count ? LayerLocations[layerIndex] : NetworkLocations;
        return attribute.Of(argument);
    }
}

/// <summary>An attribute's location and its arguments' locations, by argument name.</summary>
internal sealed class AttributeLocations
{
    private readonly Dictionary<string, Location> _arguments;

    public AttributeLocations(Location attribute, Dictionary<string, Location> arguments)
    {
        Attribute = attribute;
        _arguments = arguments;
    }

    public Location Attribute { get; }

    /// <summary>The argument's location; for "Inputs[1]" the element's, else the whole argument's; else the attribute's.</summary>
    public Location Of(string? argument)
    {
        if (argument == null) return Attribute;
        if (_arguments.TryGetValue(argument, out var location)) return location;
        int bracket = argument.IndexOf('[');
        if (bracket > 0 && _arguments.TryGetValue(argument.Substring(0, bracket), out location)) return location;
        return Attribute;
    }
}
