using System.Collections.Concurrent;

namespace Jobs.Actors.Workers;

/// <summary>
/// Concurrency caps per job kind on this node, shared by every queue's pool: a pool admits a job only if its kind
/// has a free slot here. The caps are cluster-wide: the scheduler wakes jobs of a capped kind only within what the
/// whole cluster's pools hold of it (and skips kinds that are full, so they do not block the rest of the backlog);
/// this count is the member's own guard.
/// </summary>
internal sealed class KindLimiter(IReadOnlyDictionary<string, int> limits)
{
    private readonly ConcurrentDictionary<string, int> _running = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Limits { get; } = limits;

    public bool TryAcquire(string kind)
    {
        if (!Limits.TryGetValue(kind, out var limit))
        {
            return true;
        }

        while (true)
        {
            var current = _running.GetOrAdd(kind, 0);
            if (current >= limit)
            {
                return false;
            }

            if (_running.TryUpdate(kind, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Release(string kind)
    {
        if (Limits.ContainsKey(kind))
        {
            _running.AddOrUpdate(kind, 0, (_, n) => Math.Max(0, n - 1));
        }
    }

    public int Running(string kind) => _running.TryGetValue(kind, out var n) ? n : 0;
}
