using System.Diagnostics;
using System.Reflection;
using TorchSharp;

namespace EMANet.Tests.Training;

/// <summary>
/// The xunit collection of the tests that depend on what torch's process-wide generator draws: module construction
/// (TorchSharp initialises weights and the EMA bases from it), dropout in training mode, and the Trainer (which re-seeds
/// it every step). xunit runs a collection with DisableParallelization after, not beside, the parallel ones, so no
/// other test seeds or draws from the generator meanwhile and a test's weights, masks and losses are the same on every
/// run. Tests put their own inputs on a local <see cref="torch.Generator"/> instead and stay parallel.
/// Seed through <see cref="Seed"/>: it refuses a caller outside the collection (TorchGlobalStateTests also checks
/// that no test file calls manual_seed directly).
/// </summary>
[CollectionDefinition(nameof(TorchGlobalState), DisableParallelization = true)]
public sealed class TorchGlobalState
{
    /// <summary>
    /// Seeds torch's process-wide generator (torch.random.manual_seed). Throws <see cref="InvalidOperationException"/>
    /// when no method on the call stack belongs to a class in this collection: such a seed would race with parallel tests.
    /// </summary>
    public static void Seed(long seed)
    {
        if (!CalledFromTheCollection())
            throw new InvalidOperationException(
                $"torch's global generator seeded outside [Collection(nameof({nameof(TorchGlobalState)}))]: parallel tests draw from it too, so the values would depend on scheduling. Put the test class in that collection, or draw the inputs from a local torch.Generator.");
        torch.random.manual_seed(seed);
    }

    /// <summary>Whether a class on the current call stack (or a class enclosing a lambda's closure) is in this collection.</summary>
    internal static bool CalledFromTheCollection() =>
        new StackTrace().GetFrames().Select(f => f.GetMethod()?.DeclaringType).Any(type => InCollection(type));

    internal static bool InCollection(Type? type)
    {
        for (; type is not null; type = type.DeclaringType)
        {
            if (type.GetCustomAttributesData().Any(a => a.AttributeType == typeof(CollectionAttribute)
                    && a.ConstructorArguments.Count == 1 && a.ConstructorArguments[0].Value as string == nameof(TorchGlobalState)))
                return true;
        }
        return false;
    }
}
