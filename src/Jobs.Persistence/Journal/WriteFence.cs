namespace Jobs.Persistence.Journal;

/// <summary>
/// A precondition checked inside the write's transaction: the lease row <see cref="LeaseName"/> must still be held by
/// <see cref="Owner"/> at <see cref="Epoch"/> and not be expired (by the database clock). Otherwise the write fails with
/// <see cref="FencingException"/>, so an old owner can never write after a new one took over.
/// </summary>
/// <param name="LeaseName">The lease (for example a shard).</param>
/// <param name="Owner">The node that must hold it.</param>
/// <param name="Epoch">The epoch the owner acquired it at; every takeover increments it.</param>
public sealed record WriteFence(string LeaseName, string Owner, long Epoch);
