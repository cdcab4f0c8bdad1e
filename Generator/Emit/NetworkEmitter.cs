using System;
using System.Collections.Generic;
using System.Linq;
using EMANet.Engine;
using EMANet.Generator.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace EMANet.Generator.Emit;

/// <summary>The two generated files of one network.</summary>
/// <param name="Network">
/// The network (hint name <c>FullName.g.cs</c>): a class deriving from <c>SegmentationNetwork</c> with a constructor that
/// builds each declared field (only the arguments that differ from the block's defaults) and the graph, written once
/// (<c>ForwardLayers</c>, shared by <c>forward</c> and <c>ForwardTraining</c>), each line commented with its output shape.
/// </param>
/// <param name="Declaration">
/// Its data (hint name <c>FullName.Declaration.g.cs</c>): the cost constants, the attributes as a
/// <c>NetworkDeclaration</c>, the <c>Descriptor</c> and the per-layer cost summary of the class's documentation.
/// The full cost table is not written: <c>Descriptor.CostTable</c> computes it on first use with the same engine.
/// </param>
internal sealed record EmittedNetwork(string Network, string Declaration);

/// <summary>
/// Writes one network's sources: a file that reads as the network (constructor and graph) and a file with its
/// declaration as data and its compile-time costs.
/// </summary>
internal static class NetworkEmitter
{
    private const string Torch = "global::TorchSharp.torch";
    private const string Tensor = "global::TorchSharp.torch.Tensor";
    private const string Engine = "global::EMANet.Engine";
    private const string Networks = "global::EMANet.Runtime.Networks";
    private const string Blocks = "global::EMANet.Runtime.Blocks";

    /// <summary>Hint-name suffix of the declaration file (after the network's full name).</summary>
    public const string DeclarationSuffix = ".Declaration.g.cs";

    /// <summary>
    /// Members the generated parts and the runtime base class (<c>SegmentationNetwork</c>, <c>nn.Module</c>'s own
    /// members aside) give a network; a layer field with one of these names would not compile or would hide one.
    /// </summary>
    public static readonly HashSet<string> GeneratedMemberNames = new HashSet<string>(StringComparer.Ordinal)
    {
        // Generated here (declaration file)
        "NetworkName", "ParameterCount", "MultiplyAccumulates", "Flops", "ActivationBytes", "Declaration", "Descriptor",
        // SegmentationNetwork
        "Classes", "InputShape", "OutputStride", "EmaUnits", "forward", "ForwardTraining", "ForwardLayers", "FuseForInference",
        "IsFusedForInference", "TrainingPrecision", "SetTrainingPrecision",
    };

    /// <summary>The sources, or null when the declaration has errors (the analyzer reports them).</summary>
    public static EmittedNetwork? Emit(NetworkModel model)
    {
        if (model.HasDeclarationErrors) return null;
        var analysis = ShapeEngine.Analyze(model.Declaration);
        if (analysis.HasErrors || analysis.Output == null) return null;
        var writer = new Writer(model, analysis);
        return new EmittedNetwork(writer.WriteNetwork(), writer.WriteDeclaration());
    }

    private sealed class Writer
    {
        private readonly NetworkModel _model;
        private readonly NetworkAnalysis _analysis;
        private readonly NetworkDeclaration _d;
        private readonly Dictionary<string, LayerOutput> _outputs = new(StringComparer.Ordinal);
        private readonly bool[] _auxiliary;
        private readonly Dictionary<string, string> _locals = new(StringComparer.Ordinal);
        private readonly HashSet<string> _backbonesWithFeatureReads;

        // Keys of the graph method's own names in _locals; '#' cannot start a layer reference.
        private const string WithAuxiliaryLocal = "#withAuxiliary";

        public Writer(NetworkModel model, NetworkAnalysis analysis)
        {
            _model = model;
            _analysis = analysis;
            _d = model.Declaration;
            foreach (var o in analysis.Outputs)
                if (!_outputs.ContainsKey(o.Name)) _outputs[o.Name] = o;
            _auxiliary = _d.Layers.Select(l => analysis.Layers.Where(r => Owns(l.Name, r.Name)).Any(r => r.Auxiliary)).ToArray();
            _backbonesWithFeatureReads = BackbonesWithFeatureReads();
            AllocateLocals();
        }

        /// <summary>
        /// Names the graph's locals: each layer's output after the layer, a backbone's stages as
        /// "backbone_layer1", plus the auxiliary flag parameter. Layer names win; a stage or helper
        /// name that would collide with one gets a numeric suffix.
        /// </summary>
        private void AllocateLocals()
        {
            var taken = new HashSet<string>(StringComparer.Ordinal);
            void Allocate(string key, string preferred)
            {
                string bare = preferred.TrimStart('@');
                string candidate = bare;
                for (int n = 2; taken.Contains(candidate); n++) candidate = bare + "_" + n;
                taken.Add(candidate);
                _locals[key] = candidate == bare && preferred.StartsWith("@", StringComparison.Ordinal) ? preferred : Id(candidate);
            }
            Allocate(ShapeEngine.InputName, "input");
            foreach (var l in _d.Layers)
                if (!_locals.ContainsKey(l.Name)) Allocate(l.Name, Id(l.Name));
            foreach (var l in _d.Layers.Where(l => l.Kind == LayerKind.ResNet && _backbonesWithFeatureReads.Contains(l.Name)))
            {
                Allocate(l.Name + "#features", l.Name + "_features");
                foreach (var stage in Stages)
                    Allocate(l.Name + "." + stage, l.Name + "_" + stage);
                _locals[l.Name + ".layer4"] = _locals[l.Name];
            }
            Allocate(WithAuxiliaryLocal, "withAuxiliary");
        }

        private static readonly string[] Stages = { "stem", "layer1", "layer2", "layer3" };

        private static bool Owns(string layer, string row) => row == layer || row.StartsWith(layer + ".", StringComparison.Ordinal);

        private IEnumerable<LayerCost> RowsOf(string layer) => _analysis.Layers.Where(r => Owns(layer, r.Name));

        private void OpenClass(CodeWriter w, string baseList)
        {
            if (_model.Namespace.Length > 0) w.Open("namespace " + _model.Namespace);
            w.Open($"partial class {_model.TypeName}{baseList}");
        }

        private void CloseClass(CodeWriter w)
        {
            w.Close();
            if (_model.Namespace.Length > 0) w.Close();
        }

        private void Header(CodeWriter w, string what)
        {
            w.Line("// <auto-generated/>");
            w.Line($"// Generated by EMANet.Generator from the attributes of {_model.TypeName}. Do not edit.");
            w.Line("// " + what);
            w.Line("#nullable enable");
            w.Line();
        }

        public string WriteNetwork()
        {
            var w = new CodeWriter();
            Header(w, $"The network; its declaration as data and its costs: {_model.FullName}{DeclarationSuffix}");
            w.Line($"[assembly: {Networks}.GeneratedNetworkAttribute(typeof(global::{_model.FullName}))]");
            w.Line();
            OpenClass(w, $" : {Networks}.SegmentationNetwork");
            WriteConstructor(w);
            WriteGraph(w);
            CloseClass(w);
            return w.ToString();
        }

        public string WriteDeclaration()
        {
            var w = new CodeWriter();
            Header(w, $"The declaration as data and the compile-time costs of {_model.TypeName} (the network: {_model.FullName}.g.cs).");
            if (_model.Namespace.Length > 0) w.Open("namespace " + _model.Namespace);
            WriteSummary(w);
            w.Open($"partial class {_model.TypeName}");
            WriteConstants(w);
            WriteDeclarationData(w);
            CloseClass(w);
            return w.ToString();
        }

        private void WriteSummary(CodeWriter w)
        {
            w.Line("/// <summary>");
            w.Line($"/// <c>{Xml(_d.Name)}</c>: {_analysis.Input} input, {_d.Classes} classes. {Literals.Human(_analysis.Parameters)} parameters, " +
                   $"{Literals.Human(_analysis.Flops)} FLOPs, {Literals.Bytes(_analysis.MemoryBytes)} of activations at batch 1.");
            w.Line("/// </summary>");
            w.Line("/// <remarks>");
            w.Line("/// <code>");
            w.Line($"/// {"layer",-22} {"output",-14} {"params",10} {"FLOPs",10} {"memory",10}");
            for (int i = 0; i < _d.Layers.Count; i++)
            {
                var l = _d.Layers[i];
                var rows = RowsOf(l.Name).ToArray();
                var shape = _outputs.TryGetValue(l.Name, out var o) ? o.Shape.ToString() : "";
                w.Line($"/// {Xml(l.Name) + (_auxiliary[i] ? " (aux)" : ""),-22} {shape,-14} {Literals.Human(rows.Sum(r => r.Parameters)),10} " +
                       $"{Literals.Human(rows.Sum(r => r.Flops)),10} {Literals.Bytes(rows.Sum(r => r.MemoryBytes)),10}");
            }
            w.Line("/// </code>");
            w.Line("/// Every operation: <c>Descriptor.CostTable</c>; at another input size: <c>Descriptor.Analyze(input, classes)</c>.");
            w.Line("/// </remarks>");
        }

        /// <summary>Text for a /// comment: XML-escaped, and nothing that would end the comment line (line breaks, other control characters).</summary>
        private static string Xml(string text) => Literals.EscapeControl(text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;"));

        private void WriteConstants(CodeWriter w)
        {
            w.Line("/// <summary>The network's stable name.</summary>");
            w.Line($"public const string NetworkName = {Literals.String(_d.Name)};");
            w.Line();
            w.Line($"/// <summary>Parameters of the inference path (conv weights and biases, BN weights and biases, EMA bases), at {_analysis.Input} and {_d.Classes} classes.</summary>");
            w.Line($"public const long ParameterCount = {Literals.Long(_analysis.Parameters)};");
            w.Line();
            w.Line($"/// <summary>Multiply-accumulates of one forward pass at batch 1 ({_analysis.Input}): convolutions and the EM matrix products.</summary>");
            w.Line($"public const long MultiplyAccumulates = {Literals.Long(_analysis.Macs)};");
            w.Line();
            w.Line("/// <summary>FLOPs of one forward pass at batch 1, counted by the paper's rules (README: cost conventions).</summary>");
            w.Line($"public const long Flops = {Literals.Long(_analysis.Flops)};");
            w.Line();
            w.Line("/// <summary>Float32 bytes of every operation's output in one forward pass at batch 1.</summary>");
            w.Line($"public const long ActivationBytes = {Literals.Long(_analysis.MemoryBytes)};");
            w.Line();
        }

        private void WriteConstructor(CodeWriter w)
        {
            w.Line("/// <summary>Builds the network; weights initialised as the EMANet authors do.</summary>");
            w.Line($"/// <param name=\"classes\">Output classes (declared: {_d.Classes}).</param>");
            w.Line($"/// <param name=\"input\">Input shape (declared: {_analysis.Input}); checked by the shape engine.</param>");
            w.Open($"public {_model.TypeName}(int classes = {_d.Classes}, {Networks}.TensorShape? input = null) : base(Descriptor, classes, input)");
            var previous = ShapeEngine.InputName;
            foreach (var l in _d.Layers)
            {
                var source = l.Inputs.Count > 0 ? l.Inputs[0] : previous;
                var output = _outputs[l.Name];
                var rows = RowsOf(l.Name).ToArray();
                w.Line($"this.{Id(l.Name)} = {Construct(l, source)}; // {output.Shape}, {Literals.Human(rows.Sum(r => r.Parameters))} params");
                if (l.Frozen) w.Line($"{Blocks}.Freezing.Freeze(this.{Id(l.Name)}); // Frozen = true: no gradient, left out by the optimizer");
                previous = l.Name;
            }
            w.Line("RegisterComponents();");
            w.Close();
            w.Line();
        }

        /// <summary>Channels flowing out of <paramref name="source"/>, as an expression of the constructor's arguments where they depend on them.</summary>
        private string ChannelsOf(string source)
        {
            if (source == ShapeEngine.InputName) return "InputShape.Channels";
            var layer = _d.Layers.FirstOrDefault(l => l.Name == source);
            if (layer != null && layer.Kind == LayerKind.Classifier) return "classes";
            return Literals.Int(_outputs[source].Shape.Channels);
        }

        /// <summary>
        /// "new Block(positional..., name: value, ...)" with the named arguments of <paramref name="optional"/> that
        /// <paramref name="l"/> sets to something other than the block's default, then <paramref name="trailing"/>.
        /// </summary>
        private static string New(string type, LayerDeclaration l, IEnumerable<string> positional, IReadOnlyList<BlockArgument> optional, params string[] trailing)
        {
            var arguments = positional
                .Concat(optional.Where(a => !a.IsDefaultFor(l)).Select(a => a.Name + ": " + Value(a.ValueFor(l))))
                .Concat(trailing);
            return $"new {type}({string.Join(", ", arguments)})";
        }

        /// <summary>A C# literal for a <see cref="BlockArgument"/> value.</summary>
        private static string Value(object value) => value switch
        {
            int i => Literals.Int(i),
            long n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            double d => Literals.Double(d),
            bool b => Literals.Bool(b),
            ResNetStem stem => "global::EMANet.ResNetStem." + stem,
            EmaUnitStyle style => "global::EMANet.EmaUnitStyle." + style,
            EquatableArray<int> ints => Literals.Ints(ints),
            _ => throw new InvalidOperationException("no literal for a block argument of type " + value.GetType()),
        };

        private string Construct(LayerDeclaration l, string source)
        {
            string inChannels = ChannelsOf(source);
            switch (l.Kind)
            {
                case LayerKind.ResNet:
                    return New($"{Blocks}.ResNet", l, new[] { Literals.Int(l.Depth) }, BlockConstructors.ResNet, "inputChannels: " + inChannels);
                case LayerKind.Conv when ShapeEngine.IsBareConv(l):
                    return New($"{Blocks}.Conv2d", l, new[] { inChannels, Literals.Int(l.OutChannels), Literals.Int(l.Kernel) }, BlockConstructors.Conv2d);
                case LayerKind.Conv:
                    return New($"{Blocks}.ConvBlock", l, new[] { inChannels, Literals.Int(l.OutChannels), Literals.Int(l.Kernel) }, BlockConstructors.ConvBlock);
                case LayerKind.Classifier:
                    return $"new {Blocks}.Conv2d({inChannels}, classes, 1)";
                case LayerKind.BatchNorm:
                    return $"new {Blocks}.BatchNorm2d({inChannels})";
                case LayerKind.ReLU:
                    return $"{Torch}.nn.ReLU()";
                case LayerKind.Dropout:
                    return $"{Torch}.nn.Dropout2d({Literals.Double(l.Dropout)})";
                case LayerKind.MaxPool:
                    return $"{Torch}.nn.MaxPool2d({l.Kernel}, {l.Stride}, {PoolPadding(l)})";
                case LayerKind.AvgPool:
                    return $"{Torch}.nn.AvgPool2d({l.Kernel}, {l.Stride}, {PoolPadding(l)})";
                case LayerKind.GlobalAvgPool:
                    return $"{Torch}.nn.AdaptiveAvgPool2d(1)";
                case LayerKind.Upsample:
                    return New($"{Blocks}.BilinearUpsample", l, Array.Empty<string>(), BlockConstructors.BilinearUpsample);
                case LayerKind.Concat:
                    return $"new {Blocks}.Concatenate()";
                case LayerKind.Add:
                    return $"new {Blocks}.ResidualAdd()";
                case LayerKind.EmaUnit:
                    return New($"{Blocks}.EmaUnit", l, new[] { inChannels }, BlockConstructors.EmaUnit);
                case LayerKind.Aspp:
                    return New($"{Blocks}.Aspp", l, new[] { inChannels }, BlockConstructors.Aspp);
                default:
                    throw new InvalidOperationException("unknown layer kind " + l.Kind);
            }
        }

        private static int PoolPadding(LayerDeclaration l) => l.Padding < 0 ? (l.Kernel - 1) / 2 : l.Padding;

        private static string Id(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None && name == "var" ? "@" + name : name;

        /// <summary>The local holding a layer's (or stage's, or the input's) output in the graph.</summary>
        private string Local(string reference) => _locals[reference];

        /// <summary>ResNets whose stages are read by later layers (main or auxiliary): the graph takes every stage from them.</summary>
        private HashSet<string> BackbonesWithFeatureReads()
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var l in _d.Layers)
                foreach (var r in l.Inputs.Concat(l.SizeOf.Length > 0 ? new[] { l.SizeOf } : Array.Empty<string>()))
                {
                    int dot = r.IndexOf('.');
                    if (dot > 0) set.Add(r.Substring(0, dot));
                }
            return set;
        }

        /// <summary>
        /// The graph, once: the inference path in declaration order, then (training only) the auxiliary heads. A layer
        /// of the inference path never reads an auxiliary one (the engine makes a layer auxiliary only when every
        /// reader is), so running the auxiliary heads last keeps every read after its write.
        /// </summary>
        private void WriteGraph(CodeWriter w)
        {
            var withAuxiliary = Local(WithAuxiliaryLocal);
            var main = Local(_d.Layers[_analysis.MainOutputLayer].Name);
            var auxiliary = _d.Layers.Where(l => l.IsAuxiliaryClassifier).Select(l => Local(l.Name)).ToArray();
            w.Line("/// <summary>");
            w.Line("/// The graph of <c>forward</c> and <c>ForwardTraining</c>, one line per layer" + (auxiliary.Length > 0 ? "; the auxiliary heads run with" : "") +
                   (auxiliary.Length > 0 ? $" <paramref name=\"{withAuxiliary}\"/> only." : "."));
            w.Line("/// Shapes and FLOPs in the comments are at the declared input, batch 1.");
            w.Line("/// </summary>");
            w.Open($"protected override ({Tensor} Main, {Tensor}? Auxiliary) ForwardLayers({Tensor} input, bool {withAuxiliary})");
            var previous = ShapeEngine.InputName;
            for (int i = 0; i < _d.Layers.Count; i++)
            {
                if (!_auxiliary[i]) WriteLayer(w, _d.Layers[i], previous);
                previous = _d.Layers[i].Name;
            }
            if (auxiliary.Length == 0)
            {
                w.Line($"return ({main}, null);");
            }
            else
            {
                w.Line($"if (!{withAuxiliary}) return ({main}, null);");
                previous = ShapeEngine.InputName;
                for (int i = 0; i < _d.Layers.Count; i++)
                {
                    if (_auxiliary[i]) WriteLayer(w, _d.Layers[i], previous);
                    previous = _d.Layers[i].Name;
                }
                w.Line($"return ({main}, {auxiliary[0]});");
            }
            w.Close();
        }

        private void WriteLayer(CodeWriter w, LayerDeclaration l, string previous)
        {
            var inputs = l.Inputs.Count > 0 ? l.Inputs.ToArray() : new[] { previous };
            var rows = RowsOf(l.Name).ToArray();
            string comment = $" // {_outputs[l.Name].Shape}  {Literals.Human(rows.Sum(r => r.Flops))} FLOPs";
            string field = "this." + Id(l.Name);
            string x = Local(inputs[0]);
            if (l.Kind == LayerKind.ResNet && _backbonesWithFeatureReads.Contains(l.Name))
            {
                var features = Local(l.Name + "#features");
                w.Line($"var {features} = {field}.ForwardFeatures({x});");
                foreach (var stage in Stages)
                    w.Line($"var {Local(l.Name + "." + stage)} = {features}.{char.ToUpperInvariant(stage[0]) + stage.Substring(1)}; // {_outputs[l.Name + "." + stage].Shape}");
                w.Line($"var {Local(l.Name)} = {features}.Layer4;{comment}");
            }
            else if (l.Kind == LayerKind.Upsample)
            {
                var target = l.SizeOf.Length > 0 ? Local(l.SizeOf) : Literals.Double(l.Scale);
                w.Line($"var {Local(l.Name)} = {field}.forward({x}, {target});{comment}");
            }
            else if (l.Kind is LayerKind.Concat or LayerKind.Add)
            {
                w.Line($"var {Local(l.Name)} = {field}.forward({string.Join(", ", inputs.Select(Local))});{comment}");
            }
            else
            {
                w.Line($"var {Local(l.Name)} = {field}.call({x});{comment}");   // call, not forward: the module's hooks fire
            }
        }

        private void WriteDeclarationData(CodeWriter w)
        {
            w.Line("/// <summary>The attributes as data: what the shape engine analyses, here and at run time.</summary>");
            w.Open($"public static {Engine}.NetworkDeclaration Declaration {{ get; }} = new {Engine}.NetworkDeclaration");
            w.Line($"Name = {Literals.String(_d.Name)},");
            w.Line($"Classes = {_d.Classes},");
            w.Line($"InputChannels = {_d.InputChannels},");
            w.Line($"InputHeight = {_d.InputHeight},");
            w.Line($"InputWidth = {_d.InputWidth},");
            w.Open($"Layers = new {Engine}.EquatableArray<{Engine}.LayerDeclaration>(new {Engine}.LayerDeclaration[]");
            foreach (var l in _d.Layers)
                w.Line($"new {Engine}.LayerDeclaration {{ {string.Join(", ", LayerProperties(l))} }},");
            w.Close("),");
            w.Close(";");
            w.Line();
            // In the same file as Declaration and after it: static initialisers run in textual order only within one part.
            w.Line("/// <summary>Name, declaration and costs; <c>Descriptor.CostTable</c> is every operation, <c>Descriptor.Analyze(...)</c> the table at other sizes.</summary>");
            w.Line($"public static new {Networks}.NetworkDescriptor Descriptor {{ get; }} = new {Networks}.NetworkDescriptor(Declaration, typeof({_model.TypeName}), ParameterCount, MultiplyAccumulates, Flops, ActivationBytes);");
        }

        private static IEnumerable<string> LayerProperties(LayerDeclaration l)
        {
            var d = new LayerDeclaration();
            yield return "Name = " + Literals.String(l.Name);
            yield return $"Kind = {Engine}.LayerKind.{l.Kind}";
            yield return "MemberType = " + Literals.String(l.MemberType);
            if (l.Inputs.Count > 0) yield return $"Inputs = new {Engine}.EquatableArray<string>({Literals.Strings(l.Inputs)})";
            if (l.OutChannels != d.OutChannels) yield return "OutChannels = " + l.OutChannels;
            if (l.Kernel != d.Kernel) yield return "Kernel = " + l.Kernel;
            if (l.Stride != d.Stride) yield return "Stride = " + l.Stride;
            if (l.Dilation != d.Dilation) yield return "Dilation = " + l.Dilation;
            if (l.Padding != d.Padding) yield return "Padding = " + l.Padding;
            if (l.Groups != d.Groups) yield return "Groups = " + l.Groups;
            if (l.Bias != d.Bias) yield return "Bias = " + Literals.Bool(l.Bias);
            if (l.Norm != d.Norm) yield return "Norm = " + Literals.Bool(l.Norm);
            if (l.Relu != d.Relu) yield return "Relu = " + Literals.Bool(l.Relu);
            if (l.Dropout != d.Dropout) yield return "Dropout = " + Literals.Double(l.Dropout);
            if (l.Frozen != d.Frozen) yield return "Frozen = " + Literals.Bool(l.Frozen);
            if (l.Depth != d.Depth) yield return "Depth = " + l.Depth;
            if (l.Stem != d.Stem) yield return "Stem = global::EMANet.ResNetStem." + l.Stem;
            if (l.OutputStride != d.OutputStride) yield return "OutputStride = " + l.OutputStride;
            if (l.WidthMultiplier != d.WidthMultiplier) yield return "WidthMultiplier = " + Literals.Double(l.WidthMultiplier);
            if (l.MultiGrid != d.MultiGrid) yield return $"MultiGrid = new {Engine}.EquatableArray<int>({Literals.Ints(l.MultiGrid)})";
            if (l.StemWidths != d.StemWidths) yield return $"StemWidths = new {Engine}.EquatableArray<int>({Literals.Ints(l.StemWidths)})";
            if (l.ContractDilation != d.ContractDilation) yield return "ContractDilation = " + Literals.Bool(l.ContractDilation);
            if (l.Bases != d.Bases) yield return "Bases = " + l.Bases;
            if (l.Iterations != d.Iterations) yield return "Iterations = " + l.Iterations;
            if (l.Momentum != d.Momentum) yield return "Momentum = " + Literals.Double(l.Momentum);
            if (l.Renormalize != d.Renormalize) yield return "Renormalize = " + Literals.Bool(l.Renormalize);
            if (l.Style != d.Style) yield return "Style = global::EMANet.EmaUnitStyle." + l.Style;
            if (l.Scale != d.Scale) yield return "Scale = " + Literals.Double(l.Scale);
            if (l.SizeOf != d.SizeOf) yield return "SizeOf = " + Literals.String(l.SizeOf);
            if (l.AlignCorners != d.AlignCorners) yield return "AlignCorners = " + Literals.Bool(l.AlignCorners);
            if (l.Rates != d.Rates) yield return $"Rates = new {Engine}.EquatableArray<int>({Literals.Ints(l.Rates)})";
            if (l.ImagePooling != d.ImagePooling) yield return "ImagePooling = " + Literals.Bool(l.ImagePooling);
            if (l.Auxiliary != d.Auxiliary) yield return "Auxiliary = " + Literals.Bool(l.Auxiliary);
        }
    }
}
