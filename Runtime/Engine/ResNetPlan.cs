using System;
using System.Collections.Generic;
using System.Linq;

namespace EMANet.Engine;

/// <summary>One residual block of a ResNet stage.</summary>
public sealed record ResNetBlockPlan(int InChannels, int Planes, int OutChannels, int Stride, int Dilation, bool Downsample);

/// <summary>One stage (layer1 .. layer4) of a ResNet.</summary>
public sealed record ResNetStagePlan(string Name, IReadOnlyList<ResNetBlockPlan> Blocks)
{
    public int OutChannels => Blocks[Blocks.Count - 1].OutChannels;
}

/// <summary>
/// The block-by-block layout of a dilated ResNet: channels, strides and the dilation schedule
/// (EMANET.md section 1). Both the cost engine and the runtime's ResNet module build from it,
/// so that what is counted is what runs.
/// </summary>
public sealed class ResNetPlan
{
    public static readonly int[] SupportedDepths = { 18, 34, 50, 101, 152 };

    public int Depth { get; }
    public ResNetStem Stem { get; }
    public int OutputStride { get; }
    public bool Bottleneck { get; }
    public int Expansion => Bottleneck ? 4 : 1;

    /// <summary>Output channels of the stem convolutions: deep stem [w64, w64, w128], torchvision [w64], unless given.</summary>
    public IReadOnlyList<int> StemWidths { get; }

    public int StemChannels => StemWidths[StemWidths.Count - 1];

    public IReadOnlyList<ResNetStagePlan> Stages { get; }

    public int OutChannels => Stages[Stages.Count - 1].OutChannels;

    private ResNetPlan(int depth, ResNetStem stem, int outputStride, bool bottleneck, IReadOnlyList<int> stemWidths, IReadOnlyList<ResNetStagePlan> stages)
    {
        Depth = depth;
        Stem = stem;
        OutputStride = outputStride;
        Bottleneck = bottleneck;
        StemWidths = stemWidths;
        Stages = stages;
    }

    public static int[] BlockCounts(int depth) => depth switch
    {
        18 => new[] { 2, 2, 2, 2 },
        34 => new[] { 3, 4, 6, 3 },
        50 => new[] { 3, 4, 6, 3 },
        101 => new[] { 3, 4, 23, 3 },
        152 => new[] { 3, 8, 36, 3 },
        _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, "ResNet depth must be 18, 34, 50, 101 or 152"),
    };

    /// <summary>Channels scaled by the width multiplier, rounded, at least 1.</summary>
    public static int Scale(int channels, double multiplier) =>
        Math.Max(1, (int)Math.Round(channels * multiplier, MidpointRounding.AwayFromZero));

    /// <summary>How many stem widths a stem takes: three convolutions for the deep stem, one for torchvision's.</summary>
    public static int StemConvolutions(ResNetStem stem) => stem == ResNetStem.Deep ? 3 : 1;

    /// <summary>
    /// Builds the plan; the arguments must already be valid (the shape engine checks them).
    /// Strides and dilations per output stride: OS 32 plain; OS 16 dilates layer4 (dilation 2); OS 8
    /// dilates layer3 (2) and layer4 (4). With <paramref name="contractDilation"/> a dilated stage's
    /// first block runs at half the stage's dilation (the previous stage's; mmsegmentation's
    /// contract_dilation, torchvision's and the authors' rule), otherwise at the stage's; the later
    /// blocks of layer4 multiply the stage dilation by the multi-grid (none when it is empty).
    /// <paramref name="stemWidths"/>: the stem convolutions' widths as given; null or empty = deep
    /// [64, 64, 128] or torchvision [64], times <paramref name="widthMultiplier"/>.
    /// </summary>
    public static ResNetPlan Create(int depth, ResNetStem stem, int outputStride, double widthMultiplier, IReadOnlyList<int> multiGrid,
        IReadOnlyList<int>? stemWidths = null, bool contractDilation = true)
    {
        bool bottleneck = depth >= 50;
        int expansion = bottleneck ? 4 : 1;
        var counts = BlockCounts(depth);
        var widths = stemWidths is { Count: > 0 }
            ? stemWidths.ToArray()
            : stem == ResNetStem.Deep
                ? new[] { Scale(64, widthMultiplier), Scale(64, widthMultiplier), Scale(128, widthMultiplier) }
                : new[] { Scale(64, widthMultiplier) };

        int[] strides = outputStride switch
        {
            32 => new[] { 1, 2, 2, 2 },
            16 => new[] { 1, 2, 2, 1 },
            8 => new[] { 1, 2, 1, 1 },
            _ => throw new ArgumentOutOfRangeException(nameof(outputStride), outputStride, "output stride must be 8, 16 or 32"),
        };

        var stages = new List<ResNetStagePlan>();
        int inChannels = widths[widths.Length - 1];
        int dilation = 1;
        int[] planesBase = { 64, 128, 256, 512 };
        for (int s = 0; s < 4; s++)
        {
            int planes = Scale(planesBase[s], widthMultiplier);
            int stride = strides[s];
            int previousDilation = dilation;
            // A stage that would have had stride 2 but runs at stride 1 doubles the dilation.
            if (s > 0 && stride == 1) dilation *= 2;
            bool lastStage = s == 3;
            var blocks = new List<ResNetBlockPlan>();
            for (int b = 0; b < counts[s]; b++)
            {
                int blockStride = b == 0 ? stride : 1;
                int blockDilation = b == 0
                    ? (contractDilation ? previousDilation : dilation)
                    : dilation * (lastStage && dilation > 1 && multiGrid.Count > 0 ? multiGrid[b % multiGrid.Count] : 1);
                int outChannels = planes * expansion;
                bool downsample = b == 0 && (blockStride != 1 || inChannels != outChannels);
                blocks.Add(new ResNetBlockPlan(inChannels, planes, outChannels, blockStride, blockDilation, downsample));
                inChannels = outChannels;
            }
            stages.Add(new ResNetStagePlan("layer" + (s + 1), blocks));
        }
        return new ResNetPlan(depth, stem, outputStride, bottleneck, widths, stages);
    }
}
