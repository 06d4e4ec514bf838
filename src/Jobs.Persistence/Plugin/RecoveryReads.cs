using System.Collections.Concurrent;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Plugin;

/// <summary>
/// Reads the streams of persistent actors that recover at the same time together. Akka asks the journal, per
/// recovering actor, for its highest sequence number and then for its events: two queries per actor, so a burst of
/// recoveries (a scheduler waking thousands of stored jobs) costs thousands of queries. Here the first question of an
/// actor reads its events and highest number in one query shared with every actor asking meanwhile (up to
/// <see cref="MaxStreams"/> per read, at most <see cref="MaxReaders"/> reads at once; no timer: an idle journal reads
/// a lone stream at once), and its replay takes the events read then. Events kept for a replay that never comes
/// (nothing within the replay's range) are dropped after <see cref="KeepFor"/>.
/// </summary>
internal sealed class RecoveryReads(Func<IJournal> journal)
{
    /// <summary>Most streams one read takes.</summary>
    public const int MaxStreams = 256;

    /// <summary>Reads running at once.</summary>
    public const int MaxReaders = 2;

    /// <summary>How long events read for a replay wait for it.</summary>
    public static readonly TimeSpan KeepFor = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly List<(string PersistenceId, long From, TaskCompletionSource<long> Highest)> _waiting = [];
    private readonly ConcurrentDictionary<string, (long From, IReadOnlyList<PersistentRepr> Events, long ReadAt)> _read = new(StringComparer.Ordinal);
    private int _readers;

    /// <summary>
    /// The highest sequence number of <paramref name="persistenceId"/>; its events from <paramref name="from"/> are
    /// kept for its replay.
    /// </summary>
    public Task<long> ReadHighestAsync(string persistenceId, long from)
    {
        var highest = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _waiting.Add((persistenceId, from, highest));
            start = _readers < MaxReaders;
            if (start)
            {
                _readers++;
            }
        }

        if (start)
        {
            _ = Task.Run(ReadLoopAsync);
        }

        return highest.Task;
    }

    /// <summary>The events read for <paramref name="persistenceId"/> from <paramref name="from"/>, if its first question read them.</summary>
    public bool TryTake(string persistenceId, long from, out IReadOnlyList<PersistentRepr> events)
    {
        if (_read.TryRemove(persistenceId, out var read) && read.From == from)
        {
            events = read.Events;
            return true;
        }

        events = [];
        return false;
    }

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            List<(string PersistenceId, long From, TaskCompletionSource<long> Highest)> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _readers--;
                    return;
                }

                var take = Math.Min(MaxStreams, _waiting.Count);
                batch = _waiting.GetRange(0, take);
                _waiting.RemoveRange(0, take);
            }

            try
            {
                // One stream may be asked for twice in a batch (an actor restarted meanwhile): read it from the lowest.
                var streams = batch.GroupBy(b => b.PersistenceId, StringComparer.Ordinal).Select(g => (g.Key, g.Min(b => b.From))).ToList();
                var read = await journal().ReplayManyAsync(streams, CancellationToken.None).ConfigureAwait(false);
                var now = Environment.TickCount64;
                foreach (var (id, from, highest) in batch)
                {
                    var recovered = read[id];
                    if (recovered.Events.Count > 0)
                    {
                        _read[id] = (from, [.. recovered.Events.Where(e => e.SequenceNr >= from)], now);
                    }

                    highest.TrySetResult(recovered.HighestSequenceNr);
                }

                foreach (var (id, entry) in _read)
                {
                    if (now - entry.ReadAt > KeepFor.TotalMilliseconds)
                    {
                        _read.TryRemove(KeyValuePair.Create(id, entry));
                    }
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, _, highest) in batch)
                {
                    highest.TrySetException(ex);
                }
            }
        }
    }
}
