namespace EMANet.Runtime.IO;

/// <summary>
/// The only globals a PyTorch state dict needs, and therefore the only ones the restricted
/// unpickler interprets. Each is interpreted by name (see <see cref="RestrictedUnpickler"/>); none is
/// ever resolved to code. Any other global becomes an inert <see cref="PyPlaceholder"/>.
/// </summary>
internal static class PickleGlobals
{
    public const string OrderedDict = "collections.OrderedDict";
    public const string RebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
    public const string RebuildParameter = "torch._utils._rebuild_parameter";
    public const string Device = "torch.device";

    private static readonly HashSet<string> Callables = new(StringComparer.Ordinal)
    {
        OrderedDict, RebuildTensorV2, RebuildParameter, Device,
    };

    public static bool IsAllowed(string module, string name) =>
        Callables.Contains($"{module}.{name}") || IsStorageType(module, name);

    /// <summary>torch.FloatStorage, torch.HalfStorage, ... (the typed storages of the supported element types).</summary>
    public static bool IsStorageType(string module, string name) => module == "torch" && ElementTypes.IsStorageName(name);
}
