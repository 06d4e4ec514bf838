using Jobs.Actors.Protocol;
using Akka.Actor;

namespace Jobs.Actors.Sharding;

/// <summary>
/// Routes job messages to their entities, creating them on demand (Akka's shard region). On one node the region owns
/// every shard. Passivation goes through here: an idle entity asks to be stopped, messages that arrive while it stops
/// are buffered (never lost) and delivered to a fresh incarnation.
/// </summary>
internal sealed class ShardRegion(Func<string, Props> entityProps) : ActorBase
{
    private readonly Dictionary<string, IActorRef> _entities = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _ids = [];
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _stopping = new(StringComparer.Ordinal);

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case IJobMessage job:
                Deliver(job.JobId, message, Sender);
                return true;
            case Passivate passivate:
                if (_entities.TryGetValue(passivate.JobId, out var entity) && !_stopping.ContainsKey(passivate.JobId))
                {
                    // Not Context.Stop: that would drop what is already in the entity's mailbox.
                    _stopping[passivate.JobId] = [];
                    entity.Tell(PassivateStop.Instance, Self);
                }

                return true;
            case PassivationCancelled cancelled:
                if (_stopping.Remove(cancelled.JobId, out var pending))
                {
                    foreach (var (m, s) in pending)
                    {
                        Deliver(cancelled.JobId, m, s);
                    }
                }

                return true;
            case Terminated terminated:
                if (_ids.Remove(terminated.ActorRef, out var id))
                {
                    _entities.Remove(id);
                    if (_stopping.Remove(id, out var buffered))
                    {
                        foreach (var (m, s) in buffered)
                        {
                            Deliver(id, m, s);
                        }
                    }
                }

                return true;
            case GetEntityCount:
                Sender.Tell(_entities.Count, Self);
                return true;
            default:
                return false;
        }
    }

    private void Deliver(string jobId, object message, IActorRef sender)
    {
        if (_stopping.TryGetValue(jobId, out var buffer))
        {
            buffer.Add((message, sender));
            return;
        }

        if (!_entities.TryGetValue(jobId, out var entity))
        {
            entity = Context.ActorOf(entityProps(jobId), jobId);
            Context.Watch(entity);
            _entities[jobId] = entity;
            _ids[entity] = jobId;
        }

        entity.Tell(message, sender);
    }

    /// <summary>Ask how many entities are alive (tests, dashboard).</summary>
    internal sealed class GetEntityCount
    {
        public static readonly GetEntityCount Instance = new();
    }
}
