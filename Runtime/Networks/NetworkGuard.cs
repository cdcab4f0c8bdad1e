using EMANet.Engine;

namespace EMANet.Runtime.Networks;

/// <summary>Refuses to build a network at an input size or class count its declaration cannot take.</summary>
public static class NetworkGuard
{
    public static void EnsureValid(NetworkDescriptor descriptor, TensorShape input, int classes)
    {
        var errors = descriptor.Analyze(input, classes).Findings.Where(f => f.Severity == FindingSeverity.Error).ToArray();
        if (errors.Length > 0)
            throw new ArgumentException(
                $"network '{descriptor.Name}' cannot be built for input {input} with {classes} classes: " +
                string.Join("; ", errors.Select(e => $"{e.Id} {e.Message}")));
    }
}
