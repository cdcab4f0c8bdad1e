using EMANet.Runtime.Data;

namespace EMANet.Tests.Data;

/// <summary>A fact that is skipped, with the install command, when the Debian package is missing.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!FashionMnistArchive.IsInstalled())
            Skip = $"Fashion-MNIST is not in {FashionMnistArchive.DefaultDirectory}; {FashionMnistArchive.InstallHint}";
    }
}
