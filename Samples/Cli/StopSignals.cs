using System.Runtime.InteropServices;

namespace EMANet.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM during <c>emanet train</c>: the first one cancels the signal's default
/// termination and signals <see cref="Token"/>, so the trainer finishes the step in progress, writes
/// its checkpoint and the command exits with <see cref="ExitCode"/> (130 or 143). A second signal is
/// left to its default action: the process ends at once (the last checkpoint stays as it was; every
/// checkpoint is written atomically).
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly TextWriter _error;
    private PosixSignal? _received;

    /// <param name="error">Where the "stopping" notice goes (standard error).</param>
    public StopSignals(TextWriter error)
    {
        _error = error;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // This platform cannot deliver the signal: its default action stays.
            }
        }
    }

    /// <summary>Signalled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>130 after SIGINT, 143 after SIGTERM (128 + the signal number), else <see cref="ExitCodes.Interrupted"/>.</summary>
    public int ExitCode
    {
        get
        {
            lock (_registrations)
                return _received == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        lock (_registrations)
        {
            if (_received is not null) return; // second signal: its default action ends the process
            _received = context.Signal;
        }
        context.Cancel = true;
        _error.WriteLine(context.Signal == PosixSignal.SIGINT
            ? "emanet: Ctrl+C: stopping after the current step (Ctrl+C again to abort)"
            : "emanet: SIGTERM: stopping after the current step (send it again to abort)");
        _stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _stop.Dispose();
    }
}
