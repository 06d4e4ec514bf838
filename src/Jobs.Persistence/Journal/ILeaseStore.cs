namespace Jobs.Persistence.Journal;

/// <summary>
/// Lease rows beside a journal (the table its fences check): a lease has one owner at a time, an epoch that grows
/// with every change of hands, and an expiry judged by the database's clock, so that the nodes' own clocks never
/// decide who owns what.
/// </summary>
public interface ILeaseStore
{
    /// <summary>
    /// Takes lease <paramref name="name"/> for <paramref name="owner"/> until <paramref name="duration"/> from now (the
    /// database's now), when it is free, expired, already this owner's, or held by a former incarnation of this owner
    /// (an owner that starts with <paramref name="formerOwnerPrefix"/>: the same address, a process since restarted).
    /// The epoch is kept when the owner renews a live holding and grows by one otherwise.
    /// </summary>
    /// <returns>The epoch the lease is now held at, or null when another owner holds it.</returns>
    Task<long?> TryAcquireLeaseAsync(string name, string owner, string formerOwnerPrefix, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>
    /// Takes every lease among <paramref name="names"/> as <see cref="TryAcquireLeaseAsync"/> would, in one transaction
    /// (one commit for all: a node starting dozens of shards at once waits for one, not dozens). A lease whose
    /// takeover would have to wait for writes in flight under it is left out, for the caller to take alone.
    /// </summary>
    /// <returns>Per lease tried: the epoch it is now held at, or null when another owner holds it.</returns>
    Task<IReadOnlyDictionary<string, long?>> TryAcquireLeasesAsync(
        IReadOnlyCollection<string> names,
        string owner,
        string formerOwnerPrefix,
        TimeSpan duration,
        CancellationToken cancellationToken
    );

    /// <summary>
    /// Extends every lease among <paramref name="names"/> still held by <paramref name="owner"/> to
    /// <paramref name="duration"/> from now, in one statement.
    /// </summary>
    /// <returns>The leases still held, with their epochs (a name missing was taken over).</returns>
    Task<IReadOnlyDictionary<string, long>> RenewLeasesAsync(
        string owner,
        IReadOnlyCollection<string> names,
        TimeSpan duration,
        CancellationToken cancellationToken
    );

    /// <summary>
    /// Gives lease <paramref name="name"/> up if <paramref name="owner"/> holds it: it expires now (its epoch stays, so
    /// a later owner's is higher).
    /// </summary>
    Task ReleaseLeaseAsync(string name, string owner, CancellationToken cancellationToken);

    /// <summary>The clock lease expiry is judged by (the database's), read now: members measure their own clock against it.</summary>
    Task<DateTimeOffset> ReadClockAsync(CancellationToken cancellationToken);
}
