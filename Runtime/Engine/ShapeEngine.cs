using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace EMANet.Engine;

/// <summary>
/// Propagates channels x height x width from the declared input through every layer, checks that
/// what meets agrees (residual adds, concatenations, the classifier), and counts every operation.
/// The compiler runs it on the declaration for diagnostics and constants; the runtime runs it for
/// other input sizes. It never throws on a bad declaration: problems become findings.
/// </summary>
public static class ShapeEngine
{
    public const string InputName = "input";

    /// <summary>A conv declared on a plain Conv2d member has no BN/ReLU/dropout children, so its parameters sit at the member's own name.</summary>
    public static bool IsBareConv(LayerDeclaration l) => l.MemberType == "Conv2d";

    public static NetworkAnalysis Analyze(NetworkDeclaration declaration, FeatureShape? input = null, int? classes = null) =>
        new Run(declaration, input ?? new FeatureShape(declaration.InputChannels, declaration.InputHeight, declaration.InputWidth), classes ?? declaration.Classes).Execute();

    private sealed class Run
    {
        private readonly NetworkDeclaration _d;
        private readonly FeatureShape _input;
        private readonly int _classes;
        private readonly CostLedger _ledger = new();
        private readonly List<EngineFinding> _findings = new();
        private readonly List<LayerOutput> _outputs = new();
        private readonly Dictionary<string, LayerOutput> _byName = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _declaredAt = new(StringComparer.Ordinal);
        private int _outputStride = 1;
        private int _layerIndex = -1;

        public Run(NetworkDeclaration d, FeatureShape input, int classes)
        {
            _d = d;
            _input = input;
            _classes = classes;
        }

        public NetworkAnalysis Execute()
        {
            CheckNetwork();
            var inputOut = new LayerOutput(InputName, -1, _input, "the network input (" + _input + ")") { SizeOrigin = "the network input" };
            _byName[InputName] = inputOut;
            var layers = _d.Layers;
            for (int i = 0; i < layers.Count; i++)
            {
                var name = layers[i].Name;
                if (name == InputName)
                    Error(DiagnosticIds.DuplicateLayerName, i, "Name", $"layer name '{name}' is the name of the network input (what From = \"input\" reads); rename the layer");
                else if (_declaredAt.ContainsKey(name))
                    Error(DiagnosticIds.DuplicateLayerName, i, "Name", $"layer name '{name}' is used twice (first by layer #{_declaredAt[name] + 1}); state-dict keys must be unique");
                else
                    _declaredAt[name] = i;
            }

            var auxiliary = AuxiliaryLayers(layers);
            LayerOutput? previous = inputOut;
            int mainLayer = -1;
            for (int i = 0; i < layers.Count; i++)
            {
                _layerIndex = i;
                _ledger.Auxiliary = auxiliary[i];
                var produced = !auxiliary[i] && ReadsAuxiliaryClassifier(layers, i) ? null : AnalyzeLayer(layers[i], previous);
                previous = produced;
                if (!auxiliary[i]) mainLayer = i;
            }

            FeatureShape? output = null;
            if (mainLayer < 0)
            {
                if (layers.Count == 0)
                    Error(DiagnosticIds.UnsupportedDeclaration, -1, null, $"network '{_d.Name}' declares no layers: add members with layer attributes such as [ResNet], [Conv] or [Classifier]");
                else
                    Error(DiagnosticIds.UnsupportedDeclaration, -1, null, $"network '{_d.Name}' has no main output: every layer feeds only auxiliary classifiers; end the inference path with a [Classifier] without Auxiliary = true");
            }
            else if (_byName.TryGetValue(layers[mainLayer].Name, out var main) && main.LayerIndex == mainLayer)
            {
                output = main.Shape;
                if (main.Shape.Channels != _classes)
                    Error(DiagnosticIds.ClassifierMismatch, mainLayer, null,
                        $"layer '{main.Name}' is the network's output but has {main.Shape.Channels} channels ({main.Origin}), while the network has Classes = {_classes}: end with a [Classifier]");
                else if (main.Shape.Height != _input.Height || main.Shape.Width != _input.Width)
                    Error(DiagnosticIds.OutputSizeMismatch, mainLayer, null,
                        $"layer '{main.Name}' is the network's output but is {main.Shape.Spatial} while the input is {_input.Spatial}: end with [Upsample(SizeOf = \"input\")]");
            }

            if (!_findings.Any(f => f.Severity == FindingSeverity.Error) && !TotalsFit())
                Error(DiagnosticIds.InvalidArgument, -1, null, $"network '{_d.Name}': its total parameters, FLOPs or memory overflow 64-bit counts; the declared sizes are too large");

            if (_outputStride > 1 && !Divides(_outputStride, _input.Height, _input.Width))
            {
                bool heightFits = Fits(_outputStride, _input.Height);
                int size = heightFits ? _input.Width : _input.Height;
                long below = (long)_outputStride * ((size - 1) / _outputStride) + 1;
                Warning(DiagnosticIds.InputNotDivisible, -1, heightFits ? "InputWidth" : "InputHeight",
                    $"input {_input.Spatial} is neither a multiple of the output stride {_outputStride} nor a multiple plus one (e.g. {below} or {below + _outputStride}): feature maps will be cropped unevenly at the border");
            }

            return new NetworkAnalysis(_d, _input, _classes, _ledger.Rows.ToArray(), _findings.ToArray(), _outputs.ToArray(),
                _findings.Any(f => f.Severity == FindingSeverity.Error) ? null : output, _outputStride, mainLayer);
        }

        /// <summary>Whether every total the generator writes (sums over all rows, auxiliary ones included) fits a long.</summary>
        private bool TotalsFit()
        {
            try
            {
                // Enumerable.Sum over longs is checked.
                _ = _ledger.Rows.Sum(r => r.Parameters) + _ledger.Rows.Sum(r => r.Macs) + _ledger.Rows.Sum(r => r.Flops) + _ledger.Rows.Sum(r => r.MemoryBytes);
                return true;
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        private static bool Divides(int stride, int h, int w) => Fits(stride, h) && Fits(stride, w);

        private static bool Fits(int stride, int size) => size % stride == 0 || (size - 1) % stride == 0;

        private void CheckNetwork()
        {
            if (_input.Channels <= 0) Error(DiagnosticIds.InvalidArgument, -1, "InputChannels", $"network '{_d.Name}': InputChannels = {_input.Channels} must be positive");
            if (_input.Height <= 0) Error(DiagnosticIds.InvalidArgument, -1, "InputHeight", $"network '{_d.Name}': InputHeight = {_input.Height} must be positive");
            if (_input.Width <= 0) Error(DiagnosticIds.InvalidArgument, -1, "InputWidth", $"network '{_d.Name}': InputWidth = {_input.Width} must be positive");
            if (_classes <= 0) Error(DiagnosticIds.InvalidArgument, -1, "Classes", $"network '{_d.Name}': Classes = {_classes} must be positive");
        }

        /// <summary>A layer is auxiliary when it is an auxiliary classifier or everything that reads it is auxiliary.</summary>
        private static bool[] AuxiliaryLayers(EquatableArray<LayerDeclaration> layers)
        {
            var aux = new bool[layers.Count];
            var consumers = new List<int>[layers.Count];
            for (int i = 0; i < layers.Count; i++) consumers[i] = new List<int>();
            for (int i = 0; i < layers.Count; i++)
            {
                var reads = layers[i].Inputs.Count > 0 ? layers[i].Inputs.Select(RootName) : (i > 0 ? new[] { layers[i - 1].Name } : Array.Empty<string>());
                if (layers[i].Kind == LayerKind.Upsample && layers[i].SizeOf.Length > 0) reads = reads.Concat(new[] { RootName(layers[i].SizeOf) });
                foreach (var r in reads)
                    for (int j = 0; j < i; j++)
                        if (layers[j].Name == r) consumers[j].Add(i);
            }
            for (int i = layers.Count - 1; i >= 0; i--)
                aux[i] = layers[i].IsAuxiliaryClassifier
                         || (consumers[i].Count > 0 && consumers[i].All(c => aux[c]));
            return aux;
        }

        /// <summary>
        /// An auxiliary classifier runs in training only, so a layer of the inference path cannot read
        /// it (explicitly, through SizeOf, or as the previous layer). Reports and returns true if layer <paramref name="i"/> does.
        /// </summary>
        private bool ReadsAuxiliaryClassifier(EquatableArray<LayerDeclaration> layers, int i)
        {
            var l = layers[i];
            var reads = new List<(string Name, string? Argument)>();
            if (l.Inputs.Count == 0) { if (i > 0) reads.Add((layers[i - 1].Name, null)); }
            else
                for (int k = 0; k < l.Inputs.Count; k++)
                    reads.Add((RootName(l.Inputs[k]), l.Kind is LayerKind.Concat or LayerKind.Add ? $"Inputs[{k}]" : "From"));
            if (l.Kind == LayerKind.Upsample && l.SizeOf.Length > 0) reads.Add((RootName(l.SizeOf), "SizeOf"));
            foreach (var (name, argument) in reads)
                for (int j = 0; j < i; j++)
                    if (layers[j].Name == name && layers[j].IsAuxiliaryClassifier)
                    {
                        Error(DiagnosticIds.UnsupportedDeclaration, i, argument,
                            $"layer '{l.Name}' reads '{name}', an auxiliary classifier, which runs in training only; " +
                            (argument == null ? "declare auxiliary heads after the main output, or give this layer a From" : "read a layer of the inference path"));
                        return true;
                    }
            return false;
        }

        private static string RootName(string reference)
        {
            int dot = reference.IndexOf('.');
            return dot < 0 ? reference : reference.Substring(0, dot);
        }

        private LayerOutput? AnalyzeLayer(LayerDeclaration l, LayerOutput? previous)
        {
            var inputs = ResolveInputs(l, previous);
            if (inputs == null) return null;
            try
            {
                return l.Kind switch
                {
                    LayerKind.ResNet => ResNet(l, inputs[0]),
                    LayerKind.Conv => Conv(l, inputs[0]),
                    LayerKind.Classifier => Classifier(l, inputs[0]),
                    LayerKind.BatchNorm => Register(l, _ledger.BatchNorm(l.Name, inputs[0].Shape), inputs[0].Origin, inputs[0]),
                    LayerKind.ReLU => Register(l, _ledger.Relu(l.Name, inputs[0].Shape), inputs[0].Origin, inputs[0]),
                    LayerKind.Dropout => Dropout(l, inputs[0]),
                    LayerKind.MaxPool or LayerKind.AvgPool => Pool(l, inputs[0]),
                    LayerKind.GlobalAvgPool => Register(l, _ledger.GlobalAvgPool(l.Name, inputs[0].Shape), inputs[0].Origin, inputs[0], $"'{l.Name}' (global pooling)"),
                    LayerKind.Upsample => Upsample(l, inputs[0]),
                    LayerKind.Concat => Concat(l, inputs),
                    LayerKind.Add => Add(l, inputs),
                    LayerKind.EmaUnit => Ema(l, inputs[0]),
                    LayerKind.Aspp => Aspp(l, inputs[0]),
                    _ => Unsupported(l),
                };
            }
            catch (OverflowException)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, null, $"layer '{l.Name}': its sizes overflow 64-bit counts; the declared sizes are too large");
                return null;
            }
        }

        private LayerOutput? Unsupported(LayerDeclaration l)
        {
            Error(DiagnosticIds.UnsupportedDeclaration, _layerIndex, null, $"layer '{l.Name}' has an unknown kind {(int)l.Kind}");
            return null;
        }

        private List<LayerOutput>? ResolveInputs(LayerDeclaration l, LayerOutput? previous)
        {
            if (l.Inputs.Count == 0)
                return previous == null ? null : new List<LayerOutput> { previous };
            var result = new List<LayerOutput>();
            bool ok = true;
            bool list = l.Kind is LayerKind.Concat or LayerKind.Add;
            for (int index = 0; index < l.Inputs.Count; index++)
            {
                var found = Lookup(l, l.Inputs[index], list ? $"Inputs[{index}]" : "From", size: false);
                if (found == null) ok = false;
                else result.Add(found);
            }
            return ok ? result : null;
        }

        /// <summary>
        /// The output <paramref name="reference"/> names ("input", a layer, "backbone.layer1"), or null
        /// after reporting why not. A reference to an earlier layer that failed is not reported again:
        /// that layer's own diagnostic says why.
        /// </summary>
        private LayerOutput? Lookup(LayerDeclaration l, string reference, string argument, bool size)
        {
            if (_byName.TryGetValue(reference, out var found)) return found;
            string verb = size ? "takes its size from" : "reads";
            string root = RootName(reference);
            bool declared = _declaredAt.TryGetValue(root, out var at);
            if (declared && at >= _layerIndex)
                Error(DiagnosticIds.ForwardReference, _layerIndex, argument,
                    at == _layerIndex
                        ? $"layer '{l.Name}' {verb} its own output '{reference}'"
                        : $"layer '{l.Name}' {verb} '{reference}', which is declared later (layer #{at + 1}); layers run in declaration order");
            else if (declared && !_byName.ContainsKey(root))
                return null;
            else if (declared || root == InputName)
                Error(DiagnosticIds.UnknownLayer, _layerIndex, argument,
                    $"layer '{l.Name}' {verb} '{reference}', but '{root}' has no such output; known outputs: " +
                    string.Join(", ", _byName.Keys.Where(k => k == root || k.StartsWith(root + ".", StringComparison.Ordinal))));
            else
                Error(DiagnosticIds.UnknownLayer, _layerIndex, argument,
                    $"layer '{l.Name}' {verb} '{reference}', which is not a layer of network '{_d.Name}'; known so far: {string.Join(", ", _byName.Keys)}");
            return null;
        }

        /// <summary>
        /// Records a layer's output. <paramref name="from"/> is what it read: where the output keeps
        /// that spatial size, the size's origin carries over; otherwise <paramref name="resize"/>
        /// (default: the layer's name) says what set it.
        /// </summary>
        private LayerOutput Register(LayerDeclaration l, FeatureShape shape, string origin, LayerOutput from, string? resize = null) =>
            Register(l.Name, shape, origin,
                shape.Height == from.Shape.Height && shape.Width == from.Shape.Width ? from.SizeOrigin : resize ?? $"'{l.Name}'");

        private LayerOutput Register(string name, FeatureShape shape, string origin, string sizeOrigin)
        {
            var output = new LayerOutput(name, _layerIndex, shape, origin) { SizeOrigin = sizeOrigin };
            _outputs.Add(output);
            if (!_byName.ContainsKey(name)) _byName[name] = output;
            return output;
        }

        private bool Positive(LayerDeclaration l, string argument, int value)
        {
            if (value > 0) return true;
            Error(DiagnosticIds.InvalidArgument, _layerIndex, argument, $"layer '{l.Name}': {argument} = {value} must be positive");
            return false;
        }

        private bool CheckCollapse(LayerDeclaration l, FeatureShape from, FeatureShape to, string what, string? argument = null)
        {
            if (to.Height > 0 && to.Width > 0) return true;
            Error(DiagnosticIds.SpatialCollapse, _layerIndex, argument,
                $"layer '{l.Name}' ({what}) turns a {from.Spatial} map into {to.Height}x{to.Width}: the input {_input.Spatial} is too small for it");
            return false;
        }

        private LayerOutput? ResNet(LayerDeclaration l, LayerOutput input)
        {
            bool ok = true;
            if (Array.IndexOf(ResNetPlan.SupportedDepths, l.Depth) < 0)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Depth", $"layer '{l.Name}': ResNet depth {l.Depth} is not one of 18, 34, 50, 101, 152");
                ok = false;
            }
            if (l.OutputStride is not (8 or 16 or 32))
            {
                Error(DiagnosticIds.OutputStrideUnreachable, _layerIndex, "OutputStride",
                    $"layer '{l.Name}': output stride {l.OutputStride} cannot be reached; the stem and layer2 divide by 8, and dilating layer3/layer4 instead of striding gives only 8, 16 or 32");
                ok = false;
            }
            if (!(l.WidthMultiplier > 0) || l.WidthMultiplier > 64)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "WidthMultiplier", $"layer '{l.Name}': WidthMultiplier = {Format(l.WidthMultiplier)} must be in (0, 64]");
                ok = false;
            }
            if (l.Stem is not (ResNetStem.Deep or ResNetStem.TorchVision))
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Stem", $"layer '{l.Name}': Stem = {(int)l.Stem} is not a ResNetStem value");
                ok = false;
            }
            for (int g = 0; g < l.MultiGrid.Count; g++)
                if (l.MultiGrid[g] <= 0 || l.MultiGrid[g] > 64)
                {
                    Error(DiagnosticIds.InvalidArgument, _layerIndex, $"MultiGrid[{g}]", $"layer '{l.Name}': MultiGrid[{g}] = {l.MultiGrid[g]} must be in 1..64");
                    ok = false;
                }
            if (ok && l.StemWidths.Count > 0 && l.StemWidths.Count != ResNetPlan.StemConvolutions(l.Stem))
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "StemWidths",
                    $"layer '{l.Name}': StemWidths has {l.StemWidths.Count} values but the {(l.Stem == ResNetStem.Deep ? "deep stem has three convolutions" : "torchvision stem has one convolution")}; give {ResNetPlan.StemConvolutions(l.Stem)} widths, or none for the default");
                ok = false;
            }
            for (int w = 0; w < l.StemWidths.Count; w++)
                if (l.StemWidths[w] <= 0 || l.StemWidths[w] > 65536)
                {
                    Error(DiagnosticIds.InvalidArgument, _layerIndex, $"StemWidths[{w}]", $"layer '{l.Name}': StemWidths[{w}] = {l.StemWidths[w]} must be in 1..65536");
                    ok = false;
                }
            if (!ok) return null;

            var plan = ResNetPlan.Create(l.Depth, l.Stem, l.OutputStride, l.WidthMultiplier, l.MultiGrid.ToArray(), l.StemWidths.ToArray(), l.ContractDilation);
            string p = l.Name + ".";
            var x = input.Shape;
            var start = x;
            if (plan.Stem == ResNetStem.Deep)
            {
                x = _ledger.Conv(p + "conv1.0", x, plan.StemWidths[0], 3, 2);
                x = _ledger.BatchNorm(p + "conv1.1", x);
                x = _ledger.Relu(p + "conv1.2", x);
                x = _ledger.Conv(p + "conv1.3", x, plan.StemWidths[1], 3);
                x = _ledger.BatchNorm(p + "conv1.4", x);
                x = _ledger.Relu(p + "conv1.5", x);
                x = _ledger.Conv(p + "conv1.6", x, plan.StemWidths[2], 3);
            }
            else
            {
                x = _ledger.Conv(p + "conv1", x, plan.StemWidths[0], 7, 2, 1, 3);
            }
            x = _ledger.BatchNorm(p + "bn1", x);
            x = _ledger.Relu(p + "relu", x);
            x = _ledger.MaxPool(p + "maxpool", x, 3, 2, 1);
            if (!CheckCollapse(l, start, x, "stem")) return null;
            string depthText = "ResNet-" + l.Depth + (l.WidthMultiplier != 1.0 ? " x" + Format(l.WidthMultiplier) : "");
            int stride = 4;
            Register(p + "stem", x, $"{depthText} stem, {x.Channels} channels", $"'{p}stem' (stride 4)");

            foreach (var stage in plan.Stages)
            {
                var stageInput = x;
                for (int b = 0; b < stage.Blocks.Count; b++)
                {
                    var block = stage.Blocks[b];
                    string bp = p + stage.Name + "." + b + ".";
                    var identity = x;
                    if (plan.Bottleneck)
                    {
                        x = _ledger.Conv(bp + "conv1", x, block.Planes, 1);
                        x = _ledger.BatchNorm(bp + "bn1", x);
                        x = _ledger.Relu(bp + "relu", x);
                        x = _ledger.Conv(bp + "conv2", x, block.Planes, 3, block.Stride, block.Dilation);
                        x = _ledger.BatchNorm(bp + "bn2", x);
                        x = _ledger.Relu(bp + "relu", x);
                        x = _ledger.Conv(bp + "conv3", x, block.OutChannels, 1);
                        x = _ledger.BatchNorm(bp + "bn3", x);
                    }
                    else
                    {
                        x = _ledger.Conv(bp + "conv1", x, block.Planes, 3, block.Stride, block.Dilation);
                        x = _ledger.BatchNorm(bp + "bn1", x);
                        x = _ledger.Relu(bp + "relu", x);
                        x = _ledger.Conv(bp + "conv2", x, block.OutChannels, 3, 1, block.Dilation);
                        x = _ledger.BatchNorm(bp + "bn2", x);
                    }
                    if (block.Downsample)
                    {
                        identity = _ledger.Conv(bp + "downsample.0", identity, block.OutChannels, 1, block.Stride);
                        identity = _ledger.BatchNorm(bp + "downsample.1", identity);
                    }
                    x = _ledger.Sum(bp + "add", x);
                    x = _ledger.Relu(bp + "relu", x);
                }
                if (!CheckCollapse(l, stageInput, x, stage.Name)) return null;
                stride *= stage.Blocks[0].Stride;
                Register(p + stage.Name, x,
                    $"{depthText} {stage.Name}: {stage.Blocks.Count} blocks of {stage.Blocks[0].Planes} planes x {plan.Expansion} = {x.Channels} channels",
                    $"'{p}{stage.Name}' (stride {stride})");
            }
            _outputStride = l.OutputStride;
            return Register(l.Name, x, $"{depthText} output (layer4), {x.Channels} channels", $"'{l.Name}' at output stride {l.OutputStride}");
        }

        private bool CheckConvArguments(LayerDeclaration l, LayerOutput input)
        {
            bool ok = Positive(l, "Kernel", l.Kernel) & Positive(l, "Stride", l.Stride) & Positive(l, "Dilation", l.Dilation) & Positive(l, "Groups", l.Groups);
            if (l.Padding < -1)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Padding", $"layer '{l.Name}': Padding = {l.Padding} must be -1 (same) or at least 0");
                ok = false;
            }
            if (!ok) return false;
            if (input.Shape.Channels % l.Groups != 0)
            {
                Error(DiagnosticIds.ChannelMismatch, _layerIndex, "Groups", $"layer '{l.Name}': Groups = {l.Groups} does not divide its {input.Shape.Channels} input channels ('{input.Name}': {input.Origin})");
                return false;
            }
            if (l.Padding == -1 && (l.Dilation * (l.Kernel - 1)) % 2 != 0)
            {
                Error(DiagnosticIds.SizeNotKept, _layerIndex, "Kernel",
                    $"layer '{l.Name}': kernel {l.Kernel} with dilation {l.Dilation} spans {l.Dilation * (l.Kernel - 1) + 1} pixels, an even width that no symmetric padding centres; use an odd kernel or set Padding explicitly");
                return false;
            }
            return true;
        }

        private LayerOutput? Conv(LayerDeclaration l, LayerOutput input)
        {
            bool ok = Positive(l, "OutChannels", l.OutChannels);
            ok &= CheckConvArguments(l, input);
            if (l.Dropout < 0 || l.Dropout >= 1)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Dropout", $"layer '{l.Name}': Dropout = {Format(l.Dropout)} must be in [0, 1)");
                ok = false;
            }
            if (ok && l.OutChannels % l.Groups != 0)
            {
                Error(DiagnosticIds.ChannelMismatch, _layerIndex, "Groups", $"layer '{l.Name}': Groups = {l.Groups} does not divide OutChannels = {l.OutChannels}");
                ok = false;
            }
            if (!ok) return null;
            bool bare = IsBareConv(l);
            string convName = bare ? l.Name : l.Name + ".conv";
            var x = _ledger.Conv(convName, input.Shape, l.OutChannels, l.Kernel, l.Stride, l.Dilation, l.Padding, l.Groups, l.Bias);
            if (!CheckCollapse(l, input.Shape, x, "convolution", "Kernel")) return null;
            if (l.Padding >= 0 && l.Stride == 1 && (x.Height != input.Shape.Height || x.Width != input.Shape.Width))
                Warning(DiagnosticIds.PaddingChangesSize, _layerIndex, "Padding",
                    $"layer '{l.Name}': Padding = {l.Padding} with kernel {l.Kernel} and dilation {l.Dilation} turns {input.Shape.Spatial} into {x.Spatial} at stride 1; 'same' padding would be {CostLedger.SamePadding(l.Kernel, l.Dilation)}");
            if (l.Norm) x = _ledger.BatchNorm(l.Name + ".bn", x);
            if (l.Relu) x = _ledger.Relu(l.Name + ".relu", x);
            if (l.Dropout > 0) x = _ledger.Dropout(l.Name + ".dropout", x);
            return Register(l, x, $"'{l.Name}' OutChannels = {l.OutChannels}", input, ResizeOf(l));
        }

        /// <summary>What a convolution or pooling layer did to the size, for messages: "'b' Stride = 2".</summary>
        private static string ResizeOf(LayerDeclaration l)
        {
            var parts = new List<string>();
            if (l.Kind is LayerKind.MaxPool or LayerKind.AvgPool || l.Padding >= 0) parts.Add("Kernel = " + l.Kernel);
            if (l.Stride != 1 || l.Kind is LayerKind.MaxPool or LayerKind.AvgPool) parts.Add("Stride = " + l.Stride);
            if (l.Dilation != 1 && l.Padding >= 0) parts.Add("Dilation = " + l.Dilation);
            if (l.Padding >= 0) parts.Add("Padding = " + l.Padding);
            return $"'{l.Name}' " + string.Join(", ", parts);
        }

        private LayerOutput? Classifier(LayerDeclaration l, LayerOutput input)
        {
            if (!l.AlignCorners && !l.Auxiliary)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "AlignCorners",
                    $"layer '{l.Name}': AlignCorners applies to an auxiliary classifier (the resize of its logits for the loss); the main logits are resized by an [Upsample] layer with its own AlignCorners");
                return null;
            }
            var x = _ledger.Conv(l.Name, input.Shape, _classes, 1, bias: true);
            return Register(l, x, $"'{l.Name}', the classifier: Classes = {_classes}", input);
        }

        private LayerOutput? Dropout(LayerDeclaration l, LayerOutput input)
        {
            if (l.Dropout < 0 || l.Dropout >= 1)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Dropout", $"layer '{l.Name}': Dropout = {Format(l.Dropout)} must be in [0, 1)");
                return null;
            }
            return Register(l, _ledger.Dropout(l.Name, input.Shape), input.Origin, input);
        }

        private LayerOutput? Pool(LayerDeclaration l, LayerOutput input)
        {
            bool ok = Positive(l, "Kernel", l.Kernel) & Positive(l, "Stride", l.Stride);
            int padding = l.Padding < 0 ? (l.Kernel - 1) / 2 : l.Padding;
            if (ok && padding * 2 > l.Kernel)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Padding", $"layer '{l.Name}': Padding = {padding} is more than half the kernel {l.Kernel} (PyTorch refuses that)");
                ok = false;
            }
            if (!ok) return null;
            var x = l.Kind == LayerKind.MaxPool
                ? _ledger.MaxPool(l.Name, input.Shape, l.Kernel, l.Stride, padding)
                : _ledger.AvgPool(l.Name, input.Shape, l.Kernel, l.Stride, padding);
            if (!CheckCollapse(l, input.Shape, x, l.Kind == LayerKind.MaxPool ? "max pooling" : "average pooling", "Kernel")) return null;
            return Register(l, x, input.Origin, input, ResizeOf(l));
        }

        private LayerOutput? Upsample(LayerDeclaration l, LayerOutput input)
        {
            int h, w;
            if (l.SizeOf.Length > 0)
            {
                var target = Lookup(l, l.SizeOf, "SizeOf", size: true);
                if (target == null) return null;
                h = target.Shape.Height;
                w = target.Shape.Width;
            }
            else
            {
                if (!(l.Scale > 0) || l.Scale > 1024)
                {
                    Error(DiagnosticIds.InvalidArgument, _layerIndex, "Scale", $"layer '{l.Name}': set SizeOf = \"<layer>\" or a Scale in (0, 1024]; Scale = {Format(l.Scale)}");
                    return null;
                }
                h = checked((int)Math.Floor(input.Shape.Height * l.Scale));
                w = checked((int)Math.Floor(input.Shape.Width * l.Scale));
                if (!CheckCollapse(l, input.Shape, new FeatureShape(input.Shape.Channels, h, w), "resize", "Scale")) return null;
            }
            return Register(l, _ledger.Upsample(l.Name, input.Shape, h, w), input.Origin, input,
                l.SizeOf.Length > 0 ? $"'{l.Name}' SizeOf = \"{l.SizeOf}\"" : $"'{l.Name}' Scale = {Format(l.Scale)}");
        }

        private LayerOutput? Concat(LayerDeclaration l, List<LayerOutput> inputs)
        {
            if (inputs.Count < 2)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Inputs", $"layer '{l.Name}': a concatenation needs at least two inputs, got {inputs.Count}");
                return null;
            }
            var first = inputs[0];
            for (int j = 1; j < inputs.Count; j++)
            {
                var other = inputs[j];
                if (other.Shape.Height != first.Shape.Height || other.Shape.Width != first.Shape.Width)
                {
                    Error(DiagnosticIds.SpatialMismatch, _layerIndex, $"Inputs[{j}]",
                        $"layer '{l.Name}' concatenates '{first.Name}' ({first.Shape.Spatial}: {first.SizeOrigin}) with '{other.Name}' ({other.Shape.Spatial}: {other.SizeOrigin}): maps must have the same height and width");
                    return null;
                }
            }
            int channels = inputs.Sum(i => i.Shape.Channels);
            var shape = new FeatureShape(channels, first.Shape.Height, first.Shape.Width);
            return Register(l, _ledger.Concat(l.Name, shape), $"'{l.Name}' = {string.Join(" + ", inputs.Select(i => i.Name + " (" + i.Shape.Channels + ")"))} channels", first);
        }

        private LayerOutput? Add(LayerDeclaration l, List<LayerOutput> inputs)
        {
            if (inputs.Count < 2)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Inputs", $"layer '{l.Name}': a residual add needs at least two inputs, got {inputs.Count}");
                return null;
            }
            var first = inputs[0];
            for (int j = 1; j < inputs.Count; j++)
            {
                var other = inputs[j];
                if (other.Shape.Channels != first.Shape.Channels)
                {
                    Error(DiagnosticIds.ChannelMismatch, _layerIndex, $"Inputs[{j}]",
                        $"layer '{l.Name}' adds '{first.Name}' with {first.Shape.Channels} channels ({first.Origin}) to '{other.Name}' with {other.Shape.Channels} channels ({other.Origin})");
                    return null;
                }
                if (other.Shape.Height != first.Shape.Height || other.Shape.Width != first.Shape.Width)
                {
                    Error(DiagnosticIds.SpatialMismatch, _layerIndex, $"Inputs[{j}]",
                        $"layer '{l.Name}' adds '{first.Name}' ({first.Shape.Spatial}: {first.SizeOrigin}) to '{other.Name}' ({other.Shape.Spatial}: {other.SizeOrigin}): maps must have the same height and width");
                    return null;
                }
            }
            return Register(l, _ledger.Sum(l.Name, first.Shape, inputs.Count), first.Origin, first);
        }

        private LayerOutput? Ema(LayerDeclaration l, LayerOutput input)
        {
            bool ok = true;
            if (l.Bases < 1 || l.Bases > 4096)
            {
                Error(DiagnosticIds.EmaOutOfRange, _layerIndex, "Bases", $"layer '{l.Name}': Bases = {l.Bases} is out of range 1..4096 (the paper uses 64)");
                ok = false;
            }
            if (l.Iterations < 1 || l.Iterations > 50)
            {
                Error(DiagnosticIds.EmaOutOfRange, _layerIndex, "Iterations", $"layer '{l.Name}': Iterations = {l.Iterations} is out of range 1..50 (the paper uses 3)");
                ok = false;
            }
            if (!(l.Momentum >= 0 && l.Momentum <= 1))
            {
                Error(DiagnosticIds.EmaOutOfRange, _layerIndex, "Momentum", $"layer '{l.Name}': Momentum = {Format(l.Momentum)} must be in [0, 1] (the paper uses 0.9)");
                ok = false;
            }
            if (l.Style is not (EmaUnitStyle.Authors or EmaUnitStyle.MMSeg))
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Style", $"layer '{l.Name}': Style = {(int)l.Style} is not an EmaUnitStyle value");
                ok = false;
            }
            else if (l.Style == EmaUnitStyle.MMSeg && l.Renormalize)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Renormalize",
                    $"layer '{l.Name}': Renormalize is a choice of the Authors style; the MMSeg style always normalises the batch mean before the blend (mmsegmentation's EMAModule): remove it");
                ok = false;
            }
            if (!ok) return null;

            string p = l.Name + ".";
            var x = input.Shape;
            bool mmseg = l.Style == EmaUnitStyle.MMSeg;
            checked
            {
                long c = x.Channels, k = l.Bases, n = x.Pixels;
                if (!mmseg) _ledger.Conv(p + "conv1", x, x.Channels, 1, bias: true);
                _ledger.Add(p + (mmseg ? "bases" : "mu"), "Bases", new FeatureShape(x.Channels, 1, l.Bases), c * k, 0, 0, countMemory: false);
                for (int t = 0; t < l.Iterations; t++)
                {
                    // E-step: z = softmax_K(x^T mu): N*C*K products, then exp, sum and divide per element.
                    _ledger.Add(p + "e_step", "EStep", new FeatureShape(l.Bases, x.Height, x.Width), 0, n * c * k, n * c * k + 3 * n * k);
                    // M-step: z / (1e-6 + sum_N z), mu = x z, mu / (1e-6 + ||mu||_C).
                    _ledger.Add(p + "m_step", "MStep", new FeatureShape(x.Channels, 1, l.Bases), 0, c * n * k, c * n * k + 2 * n * k + k + 3 * c * k + 2 * k);
                }
                _ledger.Add(p + "reconstruct", "Reconstruct", x, 0, c * k * n, c * k * n);
            }
            // mmsegmentation's EMAModule ends here: its head declares the ReLU, ema_out_conv and the residual add as layers.
            if (mmseg) return Register(l, x, input.Origin, input);
            _ledger.Relu(p + "relu", x);
            _ledger.Conv(p + "conv2.0", x, x.Channels, 1);
            _ledger.BatchNorm(p + "conv2.1", x);
            _ledger.Sum(p + "add", x);
            _ledger.Relu(p + "relu", x);
            return Register(l, x, input.Origin, input);
        }

        private LayerOutput? Aspp(LayerDeclaration l, LayerOutput input)
        {
            bool ok = Positive(l, "OutChannels", l.OutChannels);
            for (int r = 0; r < l.Rates.Count; r++)
                if (l.Rates[r] <= 0)
                {
                    Error(DiagnosticIds.InvalidArgument, _layerIndex, $"Rates[{r}]", $"layer '{l.Name}': Rates[{r}] = {l.Rates[r]} must be positive");
                    ok = false;
                }
            if (l.Dropout < 0 || l.Dropout >= 1)
            {
                Error(DiagnosticIds.InvalidArgument, _layerIndex, "Dropout", $"layer '{l.Name}': Dropout = {Format(l.Dropout)} must be in [0, 1)");
                ok = false;
            }
            if (!ok) return null;
            string p = l.Name + ".convs.";
            var x = input.Shape;
            int branch = 0;
            _ledger.Conv(p + branch + ".0", x, l.OutChannels, 1);
            _ledger.BatchNorm(p + branch + ".1", new FeatureShape(l.OutChannels, x.Height, x.Width));
            _ledger.Relu(p + branch + ".2", new FeatureShape(l.OutChannels, x.Height, x.Width));
            foreach (var rate in l.Rates)
            {
                branch++;
                var y = _ledger.Conv(p + branch + ".0", x, l.OutChannels, 3, 1, rate);
                _ledger.BatchNorm(p + branch + ".1", y);
                _ledger.Relu(p + branch + ".2", y);
            }
            if (l.ImagePooling)
            {
                branch++;
                var pooled = _ledger.GlobalAvgPool(p + branch + ".0", x);
                pooled = _ledger.Conv(p + branch + ".1", pooled, l.OutChannels, 1);
                _ledger.BatchNorm(p + branch + ".2", pooled);
                _ledger.Relu(p + branch + ".3", pooled);
                _ledger.Upsample(p + branch + ".upsample", pooled, x.Height, x.Width);
            }
            var cat = _ledger.Concat(l.Name + ".concat", new FeatureShape(checked(l.OutChannels * (branch + 1)), x.Height, x.Width));
            var y2 = _ledger.Conv(l.Name + ".project.0", cat, l.OutChannels, 1);
            _ledger.BatchNorm(l.Name + ".project.1", y2);
            _ledger.Relu(l.Name + ".project.2", y2);
            if (l.Dropout > 0) _ledger.Dropout(l.Name + ".project.3", y2);
            return Register(l, y2, $"'{l.Name}' OutChannels = {l.OutChannels}", input);
        }

        // Error and Warning say at the call site what a finding is; the severity itself comes from the one table (DiagnosticSeverities).
        private void Error(string id, int layer, string? argument, string message) =>
            _findings.Add(new EngineFinding(id, DiagnosticSeverities.Of(id), layer, argument, message));

        private void Warning(string id, int layer, string? argument, string message) =>
            _findings.Add(new EngineFinding(id, DiagnosticSeverities.Of(id), layer, argument, message));

        private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
    }
}
