using EMANet.Engine;

namespace EMANet.Generator.Model;

/// <summary>
/// What the generator needs to emit one network: names and the declaration. Plain values only,
/// so the incremental pipeline can compare it with the previous run and skip emission.
/// </summary>
internal sealed record NetworkModel(
    string Namespace,
    string TypeName,
    string Accessibility,
    NetworkDeclaration Declaration,
    bool HasDeclarationErrors)
{
    public string FullName => Namespace.Length == 0 ? TypeName : Namespace + "." + TypeName;
}
