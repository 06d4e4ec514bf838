using Akka.Actor;

namespace Jobs.Actors.Workers;

/// <summary>
/// A pool asks for a slot of a capped kind before it admits a job of it; answered <see cref="KindGranted"/> or
/// <see cref="KindRefused"/>. <see cref="Force"/>: count it even at the cap (its start is durable already: it runs).
/// </summary>
internal sealed record AcquireKind(string JobId, string Kind, bool Force = false) : INoSerializationVerificationNeeded;

/// <summary>The job's kind slot is the asking pool's until it sends <see cref="ReleaseKind"/>.</summary>
internal sealed record KindGranted(string JobId, string Kind) : INoSerializationVerificationNeeded;

/// <summary>The kind is at its cap on this member: the job is not admitted.</summary>
internal sealed record KindRefused(string JobId) : INoSerializationVerificationNeeded;

/// <summary>From a pool: one slot of this kind that it held is free again.</summary>
internal sealed record ReleaseKind(string Kind) : INoSerializationVerificationNeeded;

/// <summary>
/// The member's count of the slots its pools hold per capped kind: every queue's pool asks it before admitting a job
/// of a capped kind and tells it when the slot is freed, so the count lives in one actor and moves by message. The cap
/// is cluster-wide (the scheduler wakes a capped kind only within what every member's pools hold); this count is the
/// member's own guard, against a wake the scheduler gave up on that is admitted after all. A pool that stops gives
/// back what it held.
/// </summary>
internal sealed class KindGuard(IReadOnlyDictionary<string, int> caps) : UntypedActor
{
    /// <summary>The actor's name under /user.</summary>
    public const string Name = "kind-guard";

    /// <summary>What each pool holds per kind (a member has one pool per queue: summing them is cheap).</summary>
    private readonly Dictionary<IActorRef, Dictionary<string, int>> _byPool = [];

    private int Held(string kind) => _byPool.Values.Sum(pool => pool.GetValueOrDefault(kind));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case AcquireKind acquire:
                if (!acquire.Force && caps.TryGetValue(acquire.Kind, out var cap) && Held(acquire.Kind) >= cap)
                {
                    Sender.Tell(new KindRefused(acquire.JobId), Self);
                    return;
                }

                if (!_byPool.TryGetValue(Sender, out var pool))
                {
                    _byPool[Sender] = pool = new Dictionary<string, int>(StringComparer.Ordinal);
                    Context.Watch(Sender);
                }

                pool[acquire.Kind] = pool.GetValueOrDefault(acquire.Kind) + 1;
                Sender.Tell(new KindGranted(acquire.JobId, acquire.Kind), Self);
                return;
            case ReleaseKind release:
                if (_byPool.TryGetValue(Sender, out var holder) && holder.GetValueOrDefault(release.Kind) > 0)
                {
                    holder[release.Kind]--;
                }

                return;
            case Terminated terminated:
                _byPool.Remove(terminated.ActorRef);
                return;
            default:
                Unhandled(message);
                return;
        }
    }
}
