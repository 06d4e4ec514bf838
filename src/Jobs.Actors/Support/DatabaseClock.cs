namespace Jobs.Actors.Support;

/// <summary>
/// The cluster's clock: this machine's clock corrected by its measured offset to the shared database's clock, so
/// that every member agrees on what "now" is (due times are stored by one member and compared by another, and
/// lease expiry is judged by the database). The offset is measured like NTP does: the database's time against the
/// middle of the round trip, keeping the sample with the shortest round trip of a few. Timers and timestamps are
/// the machine's (they measure intervals, which an offset does not change).
/// </summary>
internal sealed class DatabaseClock(TimeProvider local) : TimeProvider
{
    private const int Samples = 3;

    private long _offsetTicks;

    /// <summary>How far the database's clock is ahead of this machine's (negative: behind), as last measured.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>The round trip of the sample the offset was taken from: the offset is right to within half of it.</summary>
    public TimeSpan Uncertainty { get; private set; }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => local.GetUtcNow() + Offset;

    /// <inheritdoc />
    public override long GetTimestamp() => local.GetTimestamp();

    /// <inheritdoc />
    public override long TimestampFrequency => local.TimestampFrequency;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => local.LocalTimeZone;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        local.CreateTimer(callback, state, dueTime, period);

    /// <summary>Measures the offset again with <paramref name="readDatabaseClock"/> (a few samples, the shortest round trip wins).</summary>
    public async Task SyncAsync(Func<CancellationToken, Task<DateTimeOffset>> readDatabaseClock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readDatabaseClock);
        (TimeSpan Offset, TimeSpan RoundTrip)? best = null;
        for (var i = 0; i < Samples; i++)
        {
            var sent = local.GetUtcNow();
            var started = local.GetTimestamp();
            var database = await readDatabaseClock(cancellationToken).ConfigureAwait(false);
            var roundTrip = local.GetElapsedTime(started);
            var offset = database - (sent + (roundTrip / 2));
            if (best is null || roundTrip < best.Value.RoundTrip)
            {
                best = (offset, roundTrip);
            }
        }

        // The database reports whole milliseconds: an offset under one is noise.
        var measured = Math.Abs(best!.Value.Offset.TotalMilliseconds) < 1 ? TimeSpan.Zero : best.Value.Offset;
        Interlocked.Exchange(ref _offsetTicks, measured.Ticks);
        Uncertainty = best.Value.RoundTrip;
    }
}
