namespace EMANet.Runtime.Onnx.Quantization;

/// <summary>The observed range of one activation tensor over the calibration images (ONNX Runtime's MinMax calibration).</summary>
/// <param name="Min">Smallest value seen.</param>
/// <param name="Max">Largest value seen.</param>
public readonly record struct ActivationRange(float Min, float Max)
{
    /// <summary>The range covering this one and <paramref name="other"/>.</summary>
    public ActivationRange Union(ActivationRange other) => new(Math.Min(Min, other.Min), Math.Max(Max, other.Max));

    /// <summary>The range of <paramref name="values"/>; NaN and infinities are an error (they would poison the scale).</summary>
    /// <exception cref="ArgumentException">A value is not finite (named by <paramref name="tensor"/>).</exception>
    public static ActivationRange Of(ReadOnlySpan<float> values, string tensor)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) throw new ArgumentException($"calibration: tensor '{tensor}' holds a non-finite value ({v})");
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return values.IsEmpty ? new ActivationRange(0, 0) : new ActivationRange(min, max);
    }
}

/// <summary>
/// The affine int8 scheme of ONNX's QuantizeLinear / DequantizeLinear, <c>q = saturate(round(x / scale) + zero_point)</c>,
/// <c>x ≈ (q - zero_point) * scale</c>, with round half to even, as the operators define it. The choices are the U8S8 configuration
/// ONNX Runtime's quantization documentation uses for CNNs on x86 CPUs (<c>quantize_static(activation_type=QUInt8, weight_type=QInt8, per_channel=True)</c>): activations uint8, asymmetric, over the calibrated range widened to hold 0;
/// weights int8, symmetric, per output channel; biases int32 with scale input scale × weight scale and zero point 0 (what
/// QLinearConv computes in). Weights use the restricted range [-127, 127] (TensorRT's and PyTorch's symmetric convention), so
/// a weight's negation is representable and no product saturates int16 on CPUs without VNNI.
/// </summary>
public static class QuantizationParameters
{
    /// <summary>uint8 scale and zero point for an activation observed in <paramref name="range"/>: scale = (max - min) / 255 over
    /// the range widened to hold 0 (so 0, the padding value, is exact), zero point = round(-min / scale). A range of zero width gets
    /// scale 1, zero point 0. A range with min 0 gets zero point 0, which makes the quantization of a ReLU's output the ReLU itself.</summary>
    public static (float Scale, byte ZeroPoint) Activation(ActivationRange range)
    {
        float min = Math.Min(range.Min, 0f), max = Math.Max(range.Max, 0f);
        if (max - min <= 0f) return (1f, 0);
        float scale = (max - min) / 255f;
        var zeroPoint = Math.Clamp(Math.Round(-min / scale, MidpointRounding.ToEven), 0, 255);
        return (scale, (byte)zeroPoint);
    }

    /// <summary>
    /// Per-output-channel int8 weights of <paramref name="weights"/> (O x rest, row-major, <paramref name="outputChannels"/> rows):
    /// scale[o] = max |w[o, :]| / 127 (1 for an all-zero channel), q = clamp(round(w / scale), -127, 127), zero point 0.
    /// </summary>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="outputChannels"/>.</exception>
    public static (sbyte[] Values, float[] Scales) Weights(ReadOnlySpan<float> weights, int outputChannels)
    {
        if (outputChannels <= 0 || weights.Length % outputChannels != 0)
            throw new ArgumentException($"quantization: {weights.Length} weights do not split into {outputChannels} output channels");
        int perChannel = weights.Length / outputChannels;
        var values = new sbyte[weights.Length];
        var scales = new float[outputChannels];
        for (int o = 0; o < outputChannels; o++)
        {
            var row = weights.Slice(o * perChannel, perChannel);
            float absMax = 0f;
            foreach (var w in row) absMax = Math.Max(absMax, Math.Abs(w));
            float scale = absMax > 0f ? absMax / 127f : 1f;
            scales[o] = scale;
            for (int i = 0; i < perChannel; i++)
                values[o * perChannel + i] = (sbyte)Math.Clamp(Math.Round(row[i] / scale, MidpointRounding.ToEven), -127, 127);
        }
        return (values, scales);
    }

    /// <summary>int32 biases for a convolution with input scale <paramref name="inputScale"/> and per-channel weight scales:
    /// scale[o] = inputScale × weightScales[o], q = round(b / scale) (saturated to int32), zero point 0.</summary>
    public static (int[] Values, float[] Scales) Bias(ReadOnlySpan<float> bias, float inputScale, ReadOnlySpan<float> weightScales)
    {
        if (bias.Length != weightScales.Length)
            throw new ArgumentException($"quantization: {bias.Length} biases for {weightScales.Length} output channels");
        var values = new int[bias.Length];
        var scales = new float[bias.Length];
        for (int o = 0; o < bias.Length; o++)
        {
            scales[o] = inputScale * weightScales[o];
            values[o] = (int)Math.Clamp(Math.Round(bias[o] / (double)scales[o], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        }
        return (values, scales);
    }
}
