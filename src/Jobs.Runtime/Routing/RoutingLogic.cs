using System.Text;
using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Routing;

/// <summary>Picks routees for a message; called concurrently from senders' threads.</summary>
internal abstract class RoutingLogic
{
    /// <summary>Delivers <paramref name="message"/> to the chosen routee(s); false when none could be chosen.</summary>
    public abstract bool Route(object message, IActorRef? sender, ActorCell[] routees);

    /// <summary>Called when the routee set changes.</summary>
    public virtual void OnRouteesChanged(ActorCell[] routees)
    {
    }
}

internal sealed class RoundRobinLogic : RoutingLogic
{
    private long _next = -1;

    public override bool Route(object message, IActorRef? sender, ActorCell[] routees)
    {
        if (routees.Length == 0)
        {
            return false;
        }

        var index = (int)((ulong)Interlocked.Increment(ref _next) % (ulong)routees.Length);
        routees[index].Tell(message, sender);
        return true;
    }
}

internal sealed class SmallestMailboxLogic : RoutingLogic
{
    public override bool Route(object message, IActorRef? sender, ActorCell[] routees)
    {
        if (routees.Length == 0)
        {
            return false;
        }

        ActorCell? best = null;
        var bestScore = long.MaxValue;
        foreach (var routee in routees)
        {
            // Idle and empty wins at once; then fewer queued messages, preferring routees not running;
            // a routee held by an async handler comes last.
            var score = (routee.NumberOfMessages * 2L) + (routee.IsBusy ? 1 : 0) + (routee.IsAwaiting ? 1L << 40 : 0);
            if (score == 0)
            {
                best = routee;
                break;
            }

            if (score < bestScore)
            {
                bestScore = score;
                best = routee;
            }
        }

        best!.Tell(message, sender);
        return true;
    }
}

internal sealed class BroadcastLogic : RoutingLogic
{
    public override bool Route(object message, IActorRef? sender, ActorCell[] routees)
    {
        foreach (var routee in routees)
        {
            routee.Tell(message, sender);
        }

        return routees.Length > 0;
    }
}

internal sealed class ConsistentHashLogic(Func<object, object?>? hashMapping, int virtualNodesFactor) : RoutingLogic
{
    private Ring _ring = new([], []);

    public override void OnRouteesChanged(ActorCell[] routees)
    {
        var factor = Math.Max(1, virtualNodesFactor);
        var points = new List<(uint Hash, ActorCell Owner)>(routees.Length * factor);
        foreach (var routee in routees)
        {
            for (var i = 0; i < factor; i++)
            {
                points.Add((Fnv1a($"{routee.Path}:{i}"), routee));
            }
        }

        points.Sort((a, b) => a.Hash.CompareTo(b.Hash));
        Volatile.Write(ref _ring, new Ring([.. points.Select(p => p.Hash)], [.. points.Select(p => p.Owner)]));
    }

    public override bool Route(object message, IActorRef? sender, ActorCell[] routees)
    {
        var key = message switch
        {
            ConsistentHashableEnvelope envelope => envelope.HashKey,
            IConsistentHashable hashable => hashable.ConsistentHashKey,
            _ => hashMapping?.Invoke(message),
        };
        var ring = Volatile.Read(ref _ring);
        if (key is null || ring.Hashes.Length == 0)
        {
            return false;
        }

        var hash = Fnv1a(key.ToString() ?? string.Empty);
        var index = Array.BinarySearch(ring.Hashes, hash);
        if (index < 0)
        {
            index = ~index;
        }

        if (index == ring.Hashes.Length)
        {
            index = 0;
        }

        ring.Owners[index].Tell(message is ConsistentHashableEnvelope e ? e.Message : message, sender);
        return true;
    }

    private sealed record Ring(uint[] Hashes, ActorCell[] Owners);

    /// <summary>A stable, well-mixed hash (unlike string.GetHashCode, the same in every process).</summary>
    internal static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        // FNV-1a alone spreads keys that differ only in their last characters poorly; finish with murmur3's mixer.
        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;
        return hash;
    }
}
