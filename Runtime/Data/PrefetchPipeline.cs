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
            _threads[t].Start();
        }
    }

    /// <summary>The next batch in plan order; false when the plans are exhausted.</summary>
    public bool TryTake(out SegmentationBatch batch)
    {
        Fill();
        if (_inFlight.Count == 0)
        {
            batch = null!;
            return false;
        }
        var slot = _inFlight.Dequeue();
        slot.Done.Wait(_cancel.Token);
        slot.Done.Dispose();
        slot.Error?.Throw();
        batch = slot.Result!;
        slot.Result = null;
        Fill();
        return true;
    }

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

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _cancel.Cancel();
        _jobs.CompleteAdding();
        foreach (var thread in _threads)
            thread.Join();
        foreach (var slot in _inFlight)
        {
            slot.Result?.Dispose(); // prepared but never handed out
            slot.Done.Dispose();
        }
        _inFlight.Clear();
        _plans.Dispose();
        _jobs.Dispose();
        _cancel.Dispose();
    }
}
