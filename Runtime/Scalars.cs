using TorchSharp;

namespace EMANet.Runtime;

/// <summary>
/// TorchSharp <see cref="Scalar"/>s that live for the whole process, for the constant operands the product passes to libtorch.
/// <para>
/// Why: a TorchSharp 0.107 <see cref="Scalar"/> owns a native <c>c10::Scalar</c> and is freed only by <see cref="Scalar.Dispose"/> or its
/// finalizer. One made on the fly — by an implicit conversion (<c>t.mul(0.5)</c>, <c>t.ne(255)</c>, <c>1e-6 + t</c>) or by an overload that
/// fills a default <c>alpha</c> (<c>add(Tensor)</c>, <c>add_(Tensor)</c>, <c>Tensor + Tensor</c>) — is unreachable while libtorch still reads it,
/// so a collection triggered by another thread (the background batch loader) can finalize it mid-call: "Unknown scalar type",
/// "alpha must not be a floating point number" or a wrong value. build/BannedSymbols.txt forbids those APIs in the product
/// (README.md, "TorchSharp Scalars"); a static readonly field is a GC root, so these are never finalized.
/// </para>
/// <para>
/// For a constant of one class, hold it in a <c>static readonly</c> field there; for a per-object value (a momentum), in a field of the owner
/// (disposed with it); for a value that changes per call (a learning rate), <c>using var s = value.ToScalar();</c> around the call.
/// </para>
/// </summary>
public static class Scalars
{
    /// <summary>The integer 1 (int64): the <c>alpha</c> of a plain add (<c>a.add(b, Scalars.One)</c>); valid for integral and floating tensors.</summary>
    public static readonly Scalar One = 1L.ToScalar();

    /// <summary>The integer −1 (int64): the <c>alpha</c> of a subtraction written as an add (<c>a.add(b, Scalars.MinusOne)</c> is a − b).</summary>
    public static readonly Scalar MinusOne = (-1L).ToScalar();

    /// <summary>The integer 0 (int64), e.g. a fill or a comparison with zero.</summary>
    public static readonly Scalar Zero = 0L.ToScalar();
}
