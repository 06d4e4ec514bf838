using Akka.Actor;
using Akka.Persistence;
using Jobs.Persistence.Plugin;

namespace Jobs.Persistence.Tests.Plugin;

/// <summary>
/// A persistent actor as an application writes one: events (its own records, byte arrays, attached envelopes),
/// snapshots, and replies with what it recovered.
/// </summary>
public sealed class TestCounter : ReceivePersistentActor
{
    private readonly List<string> _texts = [];
    private IActorRef? _snapshotAsker;

    public TestCounter(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<Evt>(e => _texts.Add(e.Text));
        Recover<byte[]>(b => _texts.Add("bytes:" + System.Text.Encoding.UTF8.GetString(b)));
        Recover<SnapshotOffer>(o => _texts.AddRange(((CounterState)o.Snapshot).Texts));
        Command<Evt>(e => Persist(e, stored =>
            {
                _texts.Add(stored.Text);
                Sender.Tell("stored " + stored.Text);
            }));
        Command<Attached>(a => Persist(a, _ =>
            {
                _texts.Add(((Evt)a.Event).Text);
                Sender.Tell("stored " + ((Evt)a.Event).Text);
            }));
        Command<string>(
            s => s == "snap",
            _ =>
            {
                _snapshotAsker = Sender;
                SaveSnapshot(new CounterState([.. _texts]));
            }
        );
        Command<SaveSnapshotSuccess>(ok => _snapshotAsker?.Tell("snapped at " + ok.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(failed => _snapshotAsker?.Tell(new Status.Failure(failed.Cause)));
        Command<string>(s => s == "get", _ => Sender.Tell(string.Join(",", _texts)));
        Command<string>(s => Persist(System.Text.Encoding.UTF8.GetBytes(s), stored =>
            {
                _texts.Add("bytes:" + s);
                Sender.Tell("stored bytes:" + s);
            }));
    }

    public override string PersistenceId { get; }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Sender.Tell(new Status.Failure(cause));
        base.OnPersistRejected(cause, @event, sequenceNr);
    }
}
