namespace EMANet.Runtime.Data;

/// <summary>Which samples make a batch, with the seed of each sample's augmentation.</summary>
internal sealed record BatchPlan(int Epoch, int IndexInEpoch, long Iteration, int[] Indices, ulong[] Seeds);
