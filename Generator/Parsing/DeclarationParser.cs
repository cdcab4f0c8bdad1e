using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using EMANet.Engine;
using EMANet.Generator.Emit;
using EMANet.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EMANet.Generator.Parsing;

/// <summary>
/// Reads a network class's attributes into a <see cref="NetworkDeclaration"/>. Never throws on
/// user input: values it cannot use become <see cref="ParseProblem"/>s.
/// </summary>
internal static class DeclarationParser
{
    /// <summary>Members the generated parts and the base class declare; a layer field with one of these names would not compile.</summary>
    private static readonly HashSet<string> GeneratedMemberNames = NetworkEmitter.GeneratedMemberNames;

    public static ParsedNetwork Parse(INamedTypeSymbol type, AttributeData networkAttribute, CancellationToken cancellationToken)
    {
        var problems = new List<ParseProblem>();
        var networkLocations = LocationsOf(networkAttribute, type.Locations.FirstOrDefault() ?? Location.None, null);
        var declaration = ReadNetwork(networkAttribute, type);

        bool isPartial = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken))
            .OfType<ClassDeclarationSyntax>()
            .Any(c => c.Modifiers.Any(SyntaxKind.PartialKeyword));
        if (type.IsRecord)
            problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, type.Locations.FirstOrDefault() ?? Location.None,
                $"network '{type.Name}'",
                "it is a record; declare it as a partial class (the generated part gives it TorchSharp's Module base class and a constructor, which a record's value semantics do not fit)"));
        else if (!isPartial)
            problems.Add(new ParseProblem(DiagnosticIds.NotPartial, type.Locations.FirstOrDefault() ?? Location.None, type.Name));
        if (type.ContainingType != null)
            problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, type.Locations.FirstOrDefault() ?? Location.None,
                $"network class '{type.Name}'", $"it is nested in '{type.ContainingType.Name}'; declare networks as top-level classes"));
        if (type.IsGenericType)
            problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, type.Locations.FirstOrDefault() ?? Location.None,
                $"network class '{type.Name}'", "it is generic; networks cannot have type parameters"));
        // The generated part supplies SegmentationNetwork; any other base class is the user's.
        if (type.BaseType != null && type.BaseType.SpecialType != SpecialType.System_Object && type.BaseType.ToDisplayString() != WellKnownNames.NetworkBaseClass)
            problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, type.Locations.FirstOrDefault() ?? Location.None,
                $"network class '{type.Name}'", $"it derives from '{type.BaseType.Name}'; the generator supplies the base class ({WellKnownNames.NetworkBaseClass})"));

        var layers = new List<LayerDeclaration>();
        var layerLocations = new List<AttributeLocations>();
        foreach (var field in type.GetMembers().OfType<IFieldSymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var layerAttributes = field.GetAttributes().Where(IsLayerAttribute).ToArray();
            if (layerAttributes.Length == 0) continue;
            var attribute = layerAttributes[0];
            var fieldLocation = field.Locations.FirstOrDefault() ?? Location.None;
            var locations = LocationsOf(attribute, fieldLocation, fieldLocation);
            if (GeneratedMemberNames.Contains(field.Name))
                problems.Add(new ParseProblem(DiagnosticIds.DuplicateLayerName, fieldLocation, $"field '{field.Name}'",
                    $"it has the name of a member the generator adds to '{type.Name}' ({string.Join(", ", GeneratedMemberNames.OrderBy(n => n, StringComparer.Ordinal))}); rename the field"));
            if (layerAttributes.Length > 1)
                problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, LocationsOf(layerAttributes[1], locations.Attribute, null).Attribute,
                    $"field '{field.Name}'", $"it has {layerAttributes.Length} layer attributes; a field declares exactly one layer"));
            if (field.IsStatic)
                problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, locations.Attribute,
                    $"field '{field.Name}'", "it is static; layers are instance fields"));
            var layer = ReadLayer(attribute, field, problems, locations);
            if (layer == null) continue;
            layers.Add(layer);
            layerLocations.Add(locations);
        }

        ReportLayersInSeveralParts(type, problems, cancellationToken);

        declaration = declaration with { Layers = new EquatableArray<LayerDeclaration>(layers.ToArray()) };
        var model = new NetworkModel(
            type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            SyntaxFacts.GetText(type.DeclaredAccessibility == Accessibility.NotApplicable ? Accessibility.Internal : type.DeclaredAccessibility),
            declaration,
            problems.Count > 0);
        return new ParsedNetwork(model, problems, layerLocations, networkLocations);
    }

    /// <summary>
    /// Layer fields spread over several partial declarations have no order of their own: the
    /// compiler lists the parts in the order of its syntax trees (the file order of the build), so
    /// renaming a file could reorder the network. One part must hold every layer field.
    /// </summary>
    private static void ReportLayersInSeveralParts(INamedTypeSymbol type, List<ParseProblem> problems, CancellationToken cancellationToken)
    {
        var parts = new List<(SyntaxNode Part, IFieldSymbol Field)>();
        foreach (var field in type.GetMembers().OfType<IFieldSymbol>())
        {
            if (!field.GetAttributes().Any(IsLayerAttribute)) continue;
            var syntax = field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken);
            var part = syntax?.Ancestors().OfType<TypeDeclarationSyntax>().FirstOrDefault();
            if (part != null && !parts.Any(p => p.Part == part)) parts.Add((part, field));
        }
        if (parts.Count < 2) return;
        var files = parts.Select(p => System.IO.Path.GetFileName(p.Part.SyntaxTree.FilePath)).Select(f => f.Length == 0 ? "(no file)" : f);
        var other = parts[1].Field;
        problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, other.Locations.FirstOrDefault() ?? Location.None, $"network class '{type.Name}'",
            $"its layer fields are declared in {parts.Count} partial declarations ({string.Join(", ", files)}); their order would follow the compiler's file order, " +
            $"so declare every layer field in one part (field '{other.Name}' is in another part than '{parts[0].Field.Name}')"));
    }

    /// <summary>
    /// The type a mistyped layer field should have, for the code fix (property <see cref="ParseProblem.ExpectedTypeKey"/>, a metadata
    /// name): the allowed type of the declared type's simple name (the project's Conv2d for TorchSharp's), else the first allowed one
    /// (ConvBlock for a [Conv]: it fits every Conv layer, with or without norm, ReLU or dropout).
    /// </summary>
    private static ImmutableDictionary<string, string?> ExpectedTypeProperty(IReadOnlyList<string> allowed, string declaredName, bool convExtras)
    {
        var sameName = allowed.FirstOrDefault(a => a.Substring(a.LastIndexOf('.') + 1) == declaredName);
        var expected = sameName != null && !(convExtras && declaredName == "Conv2d") ? sameName : allowed[0];
        return ImmutableDictionary<string, string?>.Empty.Add(ParseProblem.ExpectedTypeKey, expected);
    }

    internal static bool IsLayerAttribute(AttributeData attribute)
    {
        for (var t = attribute.AttributeClass?.BaseType; t != null; t = t.BaseType)
            if (t.ToDisplayString() == WellKnownNames.LayerAttributeBase) return true;
        return false;
    }

    /// <summary>The network's catalogue name: the attribute's, else the kebab-cased type name.</summary>
    public static string NetworkName(AttributeData attribute, INamedTypeSymbol type) =>
        GetString(Arguments(attribute), "Name") is { Length: > 0 } name ? name : KebabCase(type.Name);

    private static NetworkDeclaration ReadNetwork(AttributeData attribute, INamedTypeSymbol type)
    {
        var args = Arguments(attribute);
        return new NetworkDeclaration
        {
            Name = NetworkName(attribute, type),
            Classes = GetInt(args, "Classes", 21),
            InputChannels = GetInt(args, "InputChannels", 3),
            InputHeight = GetInt(args, "InputHeight", 513),
            InputWidth = GetInt(args, "InputWidth", 513),
        };
    }

    private static LayerDeclaration? ReadLayer(AttributeData attribute, IFieldSymbol field, List<ParseProblem> problems, AttributeLocations locations)
    {
        var attributeName = attribute.AttributeClass?.Name ?? "";
        var args = Arguments(attribute);
        // Attribute -> kind and the allowed member types: one definition per kind, in the engine (LayerKinds).
        var definition = LayerKinds.ForAttribute(attributeName);
        if (definition == null)
        {
            problems.Add(new ParseProblem(DiagnosticIds.UnsupportedDeclaration, locations.Attribute,
                $"field '{field.Name}'", $"attribute '{attributeName}' is not a layer this generator knows"));
            return null;
        }
        var kind = definition.Kind;

        var memberType = field.Type.ToDisplayString();
        var typeLocation = TypeLocationOf(field) ?? field.Locations.FirstOrDefault() ?? locations.Attribute;
        var allowed = definition.MemberTypes;
        bool convExtras = kind == LayerKind.Conv && (GetBool(args, "Norm", attributeName == "ConvBnReluAttribute") || GetBool(args, "Relu", attributeName == "ConvBnReluAttribute") || GetDouble(args, "Dropout", 0) != 0);
        if (field.Type.TypeKind != TypeKind.Error && !allowed.Contains(memberType.TrimEnd('?')))
        {
            // Same simple name, other namespace (TorchSharp's Conv2d or BatchNorm2d for the project's): name both in full.
            bool sameSimpleName = allowed.Any(a => a.Substring(a.LastIndexOf('.') + 1) == field.Type.Name);
            var declared = sameSimpleName ? memberType.TrimEnd('?') : field.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
            var expected = string.Join(" or ", allowed.Select(a => sameSimpleName ? a : a.Substring(a.LastIndexOf('.') + 1)));
            problems.Add(new ParseProblem(DiagnosticIds.MemberTypeMismatch, typeLocation,
                field.Name, declared, attributeName.Replace("Attribute", ""), "a " + expected)
                { Properties = ExpectedTypeProperty(allowed, field.Type.Name, convExtras) });
        }
        else if (kind == LayerKind.Conv && field.Type.Name == "Conv2d" && convExtras)
        {
            problems.Add(new ParseProblem(DiagnosticIds.MemberTypeMismatch, typeLocation,
                field.Name, "Conv2d", attributeName.Replace("Attribute", ""), "a ConvBlock: it asks for batch norm, ReLU or dropout, which a bare Conv2d does not have")
                { Properties = ExpectedTypeProperty(new[] { "EMANet.Runtime.Blocks.ConvBlock" }, field.Type.Name, convExtras: true) });
        }

        bool convBnRelu = attributeName == "ConvBnReluAttribute";
        var inputs = kind is LayerKind.Concat or LayerKind.Add
            ? GetStrings(args, "Inputs")
            : (GetString(args, "From") is { Length: > 0 } from ? new[] { from } : Array.Empty<string>());
        return new LayerDeclaration
        {
            Name = field.Name,
            Kind = kind,
            MemberType = field.Type.Name,
            Inputs = new EquatableArray<string>(inputs),
            OutChannels = GetInt(args, "OutChannels", kind == LayerKind.Aspp ? 256 : 0),
            Kernel = GetInt(args, "Kernel", 1),
            Stride = GetInt(args, "Stride", 1),
            Dilation = GetInt(args, "Dilation", 1),
            Padding = GetInt(args, "Padding", -1),
            Groups = GetInt(args, "Groups", 1),
            Bias = GetBool(args, "Bias", false),
            Norm = GetBool(args, "Norm", convBnRelu),
            Relu = GetBool(args, "Relu", convBnRelu),
            Frozen = GetBool(args, "Frozen", false),
            Dropout = kind == LayerKind.Dropout ? GetDouble(args, "Probability", 0) : GetDouble(args, "Dropout", kind == LayerKind.Aspp ? 0.1 : 0),
            Depth = GetInt(args, "Depth", 101),
            Stem = (ResNetStem)GetInt(args, "Stem", 0),
            OutputStride = GetInt(args, "OutputStride", 8),
            WidthMultiplier = GetDouble(args, "WidthMultiplier", 1.0),
            MultiGrid = new EquatableArray<int>(GetInts(args, "MultiGrid") ?? new[] { 1, 2, 4 }),
            StemWidths = new EquatableArray<int>(GetInts(args, "StemWidths") ?? Array.Empty<int>()),
            ContractDilation = GetBool(args, "ContractDilation", true),
            Bases = GetInt(args, "Bases", 64),
            Iterations = GetInt(args, "Iterations", 3),
            Momentum = GetDouble(args, "Momentum", 0.9),
            Renormalize = GetBool(args, "Renormalize", false),
            Style = (EmaUnitStyle)GetInt(args, "Style", 0),
            Scale = GetDouble(args, "Scale", 0),
            SizeOf = GetString(args, "SizeOf") ?? "",
            AlignCorners = GetBool(args, "AlignCorners", true),
            Rates = new EquatableArray<int>(GetInts(args, "Rates") ?? new[] { 12, 24, 36 }),
            ImagePooling = GetBool(args, "ImagePooling", true),
            Auxiliary = GetBool(args, "Auxiliary", false),
        };
    }

    /// <summary>Constructor and named arguments by property name (constructor parameters PascalCased).</summary>
    private static Dictionary<string, TypedConstant> Arguments(AttributeData attribute)
    {
        var result = new Dictionary<string, TypedConstant>(StringComparer.Ordinal);
        var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
        for (int i = 0; i < attribute.ConstructorArguments.Length && i < parameters.Length; i++)
            result[PropertyNameOf(parameters[i].Name)] = attribute.ConstructorArguments[i];
        foreach (var named in attribute.NamedArguments)
            result[named.Key] = named.Value;
        return result;
    }

    private static string PropertyNameOf(string parameterName) =>
        parameterName.Length == 0 ? parameterName : char.ToUpperInvariant(parameterName[0]) + parameterName.Substring(1);

    private static int GetInt(Dictionary<string, TypedConstant> args, string name, int fallback) =>
        args.TryGetValue(name, out var c) && c.Kind != TypedConstantKind.Error && c.Kind != TypedConstantKind.Array && c.Value is not null
            ? c.Value switch { int i => i, _ => fallback }
            : fallback;

    private static double GetDouble(Dictionary<string, TypedConstant> args, string name, double fallback) =>
        args.TryGetValue(name, out var c) && c.Kind != TypedConstantKind.Error && c.Kind != TypedConstantKind.Array && c.Value is not null
            ? c.Value switch { double d => d, float f => f, int i => i, _ => fallback }
            : fallback;

    private static bool GetBool(Dictionary<string, TypedConstant> args, string name, bool fallback) =>
        args.TryGetValue(name, out var c) && c.Kind != TypedConstantKind.Error && c.Kind != TypedConstantKind.Array && c.Value is bool b ? b : fallback;

    private static string? GetString(Dictionary<string, TypedConstant> args, string name) =>
        args.TryGetValue(name, out var c) && c.Kind != TypedConstantKind.Error && c.Kind != TypedConstantKind.Array ? c.Value as string : null;

    private static string[] GetStrings(Dictionary<string, TypedConstant> args, string name) =>
        args.TryGetValue(name, out var c) && c.Kind == TypedConstantKind.Array && !c.IsNull
            ? c.Values.Select(v => v.Value as string ?? "").ToArray()
            : Array.Empty<string>();

    private static int[]? GetInts(Dictionary<string, TypedConstant> args, string name) =>
        args.TryGetValue(name, out var c) && c.Kind == TypedConstantKind.Array
            ? (c.IsNull ? Array.Empty<int>() : c.Values.Select(v => v.Value is int i ? i : 0).ToArray())
            : null;

    /// <summary>The type in a field's declaration (<c>EmaUnit</c> in <c>private readonly EmaUnit x;</c>).</summary>
    private static Location? TypeLocationOf(IFieldSymbol field) =>
        field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax declaration }
            ? declaration.Type.GetLocation()
            : null;

    /// <summary>
    /// Where the attribute and each of its arguments are, keyed by property name; elements of array
    /// arguments (params or <c>new[] { ... }</c>) also as "Name[i]". <paramref name="member"/>, when
    /// given, is where "Name" points: the field that declares the layer.
    /// </summary>
    private static AttributeLocations LocationsOf(AttributeData attribute, Location fallback, Location? member)
    {
        var map = new Dictionary<string, Location>(StringComparer.Ordinal);
        if (member != null) map["Name"] = member;
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax)
            return new AttributeLocations(fallback, map);
        var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
        var arguments = syntax.ArgumentList?.Arguments ?? default;
        int position = 0;
        foreach (var argument in arguments)
        {
            string? key = null;
            int element = -1;
            if (argument.NameEquals != null) key = argument.NameEquals.Name.Identifier.ValueText;
            else if (argument.NameColon != null) key = PropertyNameOf(argument.NameColon.Name.Identifier.ValueText);
            else if (parameters.Length > 0)
            {
                int index = Math.Min(position, parameters.Length - 1);
                key = PropertyNameOf(parameters[index].Name);
                // A params array given element by element: the n-th extra argument is element n.
                if (parameters[index].IsParams && !IsArrayExpression(argument.Expression)) element = position - index;
            }
            if (argument.NameEquals == null) position++;
            if (key == null) continue;
            if (element >= 0) map[key + "[" + element + "]"] = argument.GetLocation();
            else
                foreach (var (item, i) in ElementsOf(argument.Expression).Select((e, i) => (e, i)))
                    map[key + "[" + i + "]"] = item.GetLocation();
            if (key == "Probability") map["Dropout"] = argument.GetLocation();
            if (map.ContainsKey(key))
                continue; // params arrays: keep the first element's location
            map[key] = argument.GetLocation();
        }
        return new AttributeLocations(syntax.GetLocation(), map);
    }

    private static bool IsArrayExpression(ExpressionSyntax expression) =>
        expression is ArrayCreationExpressionSyntax or ImplicitArrayCreationExpressionSyntax or CollectionExpressionSyntax;

    /// <summary>The elements of <c>new[] { ... }</c>, <c>new int[] { ... }</c> or <c>[ ... ]</c>; none for anything else.</summary>
    private static IEnumerable<SyntaxNode> ElementsOf(ExpressionSyntax expression) => expression switch
    {
        ArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions,
        ImplicitArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions,
        CollectionExpressionSyntax collection => collection.Elements,
        _ => Enumerable.Empty<SyntaxNode>(),
    };

    /// <summary>"EmaNetR101" -> "ema-net-r101"; used only when the attribute gives no name.</summary>
    public static string KebabCase(string name)
    {
        var chars = new List<char>();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && !char.IsUpper(name[i - 1])) chars.Add('-');
            chars.Add(char.ToLowerInvariant(c));
        }
        return new string(chars.ToArray());
    }
}
