using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace EMANet.Runtime.Data;

/// <summary>
/// Worker threads that prepare the samples of the next batches while the consumer works. Batches are
/// handed out strictly in plan order; each sample's result depends only on its plan, never on which
/// thread ran it or when. The first failure of a batch is rethrown to the consumer when it reaches it.
/// </summary>
internal sealed class PrefetchPipeline : IDisposable
{
    private sealed class Slot(BatchPlan plan)
    {
        public readonly BatchPlan Plan = plan;
        public readonly PreparedSample?[] Samples = new PreparedSample?[plan.Indices.Length];
        public readonly ManualResetEventSlim Done = new();
        public int Remaining = plan.Indices.Length;
        public ExceptionDispatchInfo? Error;
        public SegmentationBatch? Result;
    }

    private readonly SegmentationBatchLoader _loader;
    private readonly IEnumerator<BatchPlan> _plans;
    private readonly BlockingCollection<(Slot Slot, int Position)> _jobs = new();
    private readonly Queue<Slot> _inFlight = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private Slot? _taking;
    private bool _plansExhausted;
    private int _disposed;

    public PrefetchPipeline(SegmentationBatchLoader loader, IEnumerator<BatchPlan> plans)
    {
        _loader = loader;
        _plans = plans;
        _threads = new Thread[loader.Options.Workers];
        for (var t = 0; t < _threads.Length; t++)
        {
            _threads[t] = new Thread(Work) { IsBackground = true, Name = $"emanet-loader-{t}" };
            loader.Started(_threads[t]);
            _threads[t].Start();
        }
    }

    /// <summary>
    /// The next batch in plan order; false when the plans are exhausted. Throws
    /// <see cref="ObjectDisposedException"/> when the pipeline is (or gets) disposed, also while waiting.
    /// </summary>
    public bool TryTake(out SegmentationBatch batch)
    {
        Slot slot;
        lock (_gate)
        {
            ThrowIfDisposed();
            Fill();
            if (_inFlight.Count == 0)
            {
                batch = null!;
                return false;
            }
            slot = _inFlight.Dequeue();
            _taking = slot;
        }
        try
        {
            slot.Done.Wait(_cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // Disposed meanwhile (Dispose disposes the slot's batch, if any, once the workers have stopped).
            ThrowDisposed();
        }
        lock (_gate)
        {
            _taking = null;
            if (_disposed != 0)
            {
                slot.Result?.Dispose();
                slot.Result = null;
                ThrowDisposed();
            }
            slot.Error?.Throw();
            batch = slot.Result!;
            slot.Result = null;
            Fill();
            return true;
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed != 0) ThrowDisposed();
    }

    private static void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(SegmentationBatchLoader), "the batch loader was disposed while its batches were being enumerated");

    // Under _gate.
    private void Fill()
    {
        while (!_plansExhausted && _inFlight.Count < _loader.Options.Prefetch)
        {
            if (!_plans.MoveNext())
            {
                _plansExhausted = true;
                break;
            }
            var slot = new Slot(_plans.Current);
            _inFlight.Enqueue(slot);
            for (var i = 0; i < slot.Samples.Length; i++)
                _jobs.Add((slot, i));
        }
    }

    private void Work()
    {
        try
        {
            foreach (var (slot, position) in _jobs.GetConsumingEnumerable(_cancel.Token))
            {
                try
                {
                    slot.Samples[position] = _loader.Prepare(slot.Plan, position);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref slot.Error, ExceptionDispatchInfo.Capture(e), null);
                }
                if (Interlocked.Decrement(ref slot.Remaining) != 0)
                    continue;
                if (slot.Error is null)
                {
                    try
                    {
                        slot.Result = BatchCollator.Collate(slot.Samples!, slot.Plan.Epoch, slot.Plan.IndexInEpoch, slot.Plan.Iteration);
                    }
                    catch (Exception e)
                    {
                        slot.Error = ExceptionDispatchInfo.Capture(e);
                    }
                }
                Array.Clear(slot.Samples);
                slot.Done.Set();
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed: stop taking jobs.
        }
    }

    /// <summary>
    /// Stops the workers (each finishes the sample in hand), waits for them to end, and disposes every
    /// batch prepared but not handed out. Safe from any thread, also while the consumer waits in
    /// <see cref="TryTake"/> (it then throws <see cref="ObjectDisposedException"/>).
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            _cancel.Cancel();
            _jobs.CompleteAdding();
        }
        foreach (var thread in _threads)
            thread.Join();
        lock (_gate)
        {
            // Prepared but never handed out, including the one a waiting consumer will not take any more.
            foreach (var slot in _taking is null ? _inFlight : _inFlight.Prepend(_taking))
            {
                slot.Result?.Dispose();
                slot.Result = null;
            }
            _inFlight.Clear();
            _plans.Dispose();
        }
        // The wait handles, the job queue and the token source hold no native resource once the workers are gone;
        // they are left to the collector so that a consumer still waking up never touches a disposed one.
    }
}
