using System.Collections.Immutable;
using System.Data.Common;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Plugin;
using Jobs.Testing;
using Xunit.Abstractions;
using AkkaAtomicWrite = Akka.Persistence.AtomicWrite;

namespace Jobs.Persistence.Tests.Plugin;

/// <summary>
/// The plugin against Akka's journal and snapshot-store contract (the role of Akka.Persistence.TCK's JournalSpec and
/// SnapshotStoreSpec, which is not served here): the protocol messages a persistent actor exchanges with its
/// journal, real persistent actors recovering through it, any serializer's payloads, attachments written in the same
/// transaction, and rejections kept apart from failures. Every backend runs every test.
/// </summary>
public abstract class SqlPluginSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly string TestsAssembly = typeof(SqlPluginSpec).Assembly.GetName().Name!;
    private readonly AttachmentTable _attachments;

    protected SqlPluginSpec(string storeHocon, ITestOutputHelper output)
        : base(Configure(storeHocon), output: output)
    {
        _attachments = new AttachmentTable();
        SqlPersistence.Get(Sys).AddParticipant(_attachments);
    }

    private IActorRef Journal => Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null);

    private IActorRef SnapshotStore => Akka.Persistence.Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);

    private static Config Configure(string storeHocon) =>
        ConfigurationFactory
            .ParseString(
                $$"""
                akka.loglevel = INFO
                akka.persistence.journal.plugin = "{{SqlPersistence.JournalPluginId}}"
                akka.persistence.snapshot-store.plugin = "{{SqlPersistence.SnapshotPluginId}}"
                {{SqlPersistence.JournalPluginId}} { {{storeHocon}} }
                {{SqlPersistence.SnapshotPluginId}} { {{storeHocon}} }
                akka.persistence.journal.unreachable {
                  class = "Jobs.Persistence.Plugin.SqlJournalPlugin, Jobs.Persistence"
                  provider = postgresql
                  postgresql-connection-string = "Host=127.0.0.1;Port=1;Timeout=3;Pooling=false"
                }
                akka.actor {
                  serializers.test-payloads = "Jobs.Persistence.Tests.Plugin.TestPayloadSerializer, {{TestsAssembly}}"
                  serialization-bindings {
                    "Jobs.Persistence.Tests.Plugin.Evt, {{TestsAssembly}}" = test-payloads
                    "Jobs.Persistence.Tests.Plugin.CounterState, {{TestsAssembly}}" = test-payloads
                  }
                }
                """
            )
            .WithFallback(SqlPersistence.DefaultConfig);

    private AkkaAtomicWrite Write(string persistenceId, long from, int count, string writer = "writer-a", Func<long, object>? payload = null) =>
        new(
            ImmutableList.CreateRange(
                Enumerable
                    .Range(0, count)
                    .Select(i =>
                        (IPersistentRepresentation)
                            new Persistent(
                                payload?.Invoke(from + i) ?? new Evt($"{persistenceId}-{from + i}"),
                                from + i,
                                persistenceId,
                                string.Empty,
                                false,
                                TestActor,
                                writer
                            )
                    )
            )
        );

    private List<IPersistentRepresentation> Replay(
        string persistenceId,
        long from = 1,
        long to = long.MaxValue,
        long max = long.MaxValue,
        long? expectHighest = null
    )
    {
        Journal.Tell(new ReplayMessages(from, to, max, persistenceId, TestActor));
        var replayed = new List<IPersistentRepresentation>();
        while (true)
        {
            var message = ExpectMsg<object>(TimeSpan.FromSeconds(10));
            if (message is ReplayedMessage r)
            {
                replayed.Add(r.Persistent);
                continue;
            }

            var success = Assert.IsType<RecoverySuccess>(message);
            if (expectHighest is { } highest)
            {
                Assert.Equal(highest, success.HighestSequenceNr);
            }

            return replayed;
        }
    }

    [Fact]
    public void WriteMessages_AreAcknowledgedInOrder_AndReplayWithPayloadAndMetadata()
    {
        Journal.Tell(new WriteMessages([Write("p-1", 1, 3)], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        Assert.Equal([1L, 2, 3], Enumerable.Range(0, 3).Select(_ => ExpectMsg<WriteMessageSuccess>().Persistent.SequenceNr));

        var replayed = Replay("p-1", expectHighest: 3);
        Assert.Equal([new Evt("p-1-1"), new Evt("p-1-2"), new Evt("p-1-3")], replayed.Select(r => r.Payload));
        Assert.All(replayed, r => Assert.Equal("writer-a", r.WriterGuid));
        Assert.All(replayed, r => Assert.Equal("p-1", r.PersistenceId));
    }

    [Fact]
    public void Replay_RespectsRangeAndMax_AndReportsTheHighestSequenceNr()
    {
        Journal.Tell(new WriteMessages([Write("r", 1, 5)], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        ReceiveN(5);
        Assert.Equal([2L, 3], Replay("r", 2, 3, expectHighest: 5).Select(r => r.SequenceNr));
        Assert.Equal([4L, 5], Replay("r", 4, long.MaxValue, 2).Select(r => r.SequenceNr));
        Assert.Empty(Replay("r", 6, expectHighest: 5));
        Assert.Empty(Replay("never-written", expectHighest: 0));
    }

    [Fact]
    public async Task ManyRecoveriesAtOnce_AreReadTogether_EachGetsItsOwnStream()
    {
        // 60 streams recovering at the same moment: their reads share queries (RecoveryReads), and each actor must
        // still get exactly its own events, from where it asked, and its own highest sequence number.
        var ids = Enumerable.Range(0, 60).Select(i => $"many-{i}").ToList();
        Journal.Tell(new WriteMessages([.. ids.Select((id, i) => Write(id, 1, 1 + (i % 4)))], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        ReceiveN(ids.Select((_, i) => 1 + (i % 4)).Sum());

        var probes = ids.Select(_ => CreateTestProbe()).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            Journal.Tell(new ReplayMessages(i % 2 == 0 ? 1 : 2, long.MaxValue, long.MaxValue, ids[i], probes[i].Ref));
        }

        for (var i = 0; i < ids.Count; i++)
        {
            var expected = Enumerable
                .Range(i % 2 == 0 ? 1 : 2, Math.Max(0, 1 + (i % 4) - (i % 2 == 0 ? 0 : 1)))
                .Select(n => new Evt($"{ids[i]}-{n}"))
                .ToList();
            var replayed = new List<object>();
            while (await probes[i].ExpectMsgAsync<object>(TimeSpan.FromSeconds(10)) is ReplayedMessage message)
            {
                replayed.Add(message.Persistent.Payload);
            }

            Assert.Equal(expected, replayed);
            Assert.Equal(1 + (i % 4), probes[i].LastMessage is RecoverySuccess success ? success.HighestSequenceNr : -1);
        }
    }

    [Fact]
    public void AConflictingWrite_IsRejectedAlone_TheRestOfTheCallIsStored()
    {
        Journal.Tell(new WriteMessages([Write("c", 1, 2)], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        ReceiveN(2);

        // A second writer of "c" (a stale incarnation) reuses sequence number 2; "d" in the same call is new.
        Journal.Tell(new WriteMessages([Write("c", 2, 1, writer: "writer-b"), Write("d", 1, 1)], TestActor, 2));
        ExpectMsg<WriteMessagesSuccessful>();
        var rejected = ExpectMsg<WriteMessageRejected>();
        Assert.Equal(2, rejected.Persistent.SequenceNr);
        Assert.IsType<JournalConflictException>(rejected.Cause);
        Assert.Equal("d", ExpectMsg<WriteMessageSuccess>().Persistent.PersistenceId);

        Assert.Equal(new Evt("c-2"), Replay("c").Last().Payload); // the first writer's event stands
        Assert.Single(Replay("d"));
    }

    [Fact]
    public void APayloadWithoutABoundSerializer_IsRejected_NothingOfItStored()
    {
        // Only the fallback JSON serializer (CLR type names in the data) would take it: refused.
        Journal.Tell(new WriteMessages([Write("bad", 1, 1, payload: _ => new Unbound("x")), Write("good", 1, 1)], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        var rejected = ExpectMsg<WriteMessageRejected>();
        Assert.Equal("bad", rejected.Persistent.PersistenceId);
        Assert.Contains("serialization-bindings", rejected.Cause.Message, StringComparison.Ordinal);
        Assert.Equal("good", ExpectMsg<WriteMessageSuccess>().Persistent.PersistenceId);
        Assert.Empty(Replay("bad", expectHighest: 0));
    }

    [Fact]
    public void DeleteMessagesTo_RemovesEvents_KeepsTheHighestSequenceNr()
    {
        Journal.Tell(new WriteMessages([Write("del", 1, 3)], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        ReceiveN(3);
        Journal.Tell(new DeleteMessagesTo("del", 3, TestActor));
        Assert.Equal(3, ExpectMsg<DeleteMessagesSuccess>().ToSequenceNr);
        Assert.Empty(Replay("del", expectHighest: 3));
    }

    [Fact]
    public void AnyAkkaSerializedPayload_IsStoredWithItsSerializer()
    {
        // Byte arrays go through Akka's own serializer, Evt through the application's: both come back as written.
        Journal.Tell(new WriteMessages([Write("mixed", 1, 2, payload: seq => seq == 1 ? new byte[] { 1, 2, 3 } : new Evt("mine"))], TestActor, 1));
        ExpectMsg<WriteMessagesSuccessful>();
        ReceiveN(2);
        var replayed = Replay("mixed");
        Assert.Equal([1, 2, 3], Assert.IsType<byte[]>(replayed[0].Payload));
        Assert.Equal(new Evt("mine"), replayed[1].Payload);
    }

    [Fact]
    public void PersistentActor_PersistsSnapshotsAndRecovers_AcrossIncarnations()
    {
        var first = Sys.ActorOf(Props.Create(() => new TestCounter("counter-1")));
        first.Tell(new Evt("a"));
        ExpectMsg("stored a");
        first.Tell("b");
        ExpectMsg("stored bytes:b");
        first.Tell("snap");
        ExpectMsg("snapped at 2");
        first.Tell(new Evt("c"));
        ExpectMsg("stored c");
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);

        var second = Sys.ActorOf(Props.Create(() => new TestCounter("counter-1")));
        second.Tell("get");
        ExpectMsg("a,bytes:b,c"); // the snapshot (a, b), then the event after it
    }

    [Fact]
    public void AttachedEvents_WriteTheirAttachmentInTheSameTransaction_AndRecoverAsTheEvent()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TestCounter("attached-1")));
        actor.Tell(new Attached(new Evt("x"), "row:x"));
        ExpectMsg("stored x");
        Assert.Equal(["attached-1=row:x"], _attachments.Rows());

        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);
        Assert.Equal([new Evt("x")], Replay("attached-1").Select(r => r.Payload));

        // A rejected write stores neither its events nor its attachment.
        Journal.Tell(
            new WriteMessages([Write("attached-1", 1, 1, writer: "stale", payload: _ => new Attached(new Evt("y"), "row:y"))], TestActor, 9)
        );
        ExpectMsg<WriteMessagesSuccessful>();
        ExpectMsg<WriteMessageRejected>();
        Assert.Equal(["attached-1=row:x"], _attachments.Rows());
    }

    [Fact]
    public void SnapshotStore_SavesLoadsTheNewestMatching_AndDeletes()
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var (seq, at) in new[] { (5L, t0), (9L, t0.AddSeconds(1)), (12L, t0.AddSeconds(2)) })
        {
            SnapshotStore.Tell(new SaveSnapshot(new SnapshotMetadata("s", seq, at), new CounterState([$"at-{seq}"])), TestActor);
            Assert.Equal(seq, ExpectMsg<SaveSnapshotSuccess>().Metadata.SequenceNr);
        }

        SnapshotStore.Tell(new LoadSnapshot("s", SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
        var latest = ExpectMsg<LoadSnapshotResult>().Snapshot;
        Assert.Equal(12, latest.Metadata.SequenceNr);
        Assert.Equal(["at-12"], ((CounterState)latest.Snapshot).Texts);

        SnapshotStore.Tell(new LoadSnapshot("s", new SnapshotSelectionCriteria(10), long.MaxValue), TestActor);
        Assert.Equal(9, ExpectMsg<LoadSnapshotResult>().Snapshot.Metadata.SequenceNr);

        SnapshotStore.Tell(new LoadSnapshot("s", new SnapshotSelectionCriteria(long.MaxValue, t0.AddMilliseconds(500)), long.MaxValue), TestActor);
        Assert.Equal(5, ExpectMsg<LoadSnapshotResult>().Snapshot.Metadata.SequenceNr);

        SnapshotStore.Tell(new DeleteSnapshot(new SnapshotMetadata("s", 12, t0.AddSeconds(2))), TestActor);
        ExpectMsg<DeleteSnapshotSuccess>();
        SnapshotStore.Tell(new DeleteSnapshots("s", new SnapshotSelectionCriteria(5)), TestActor);
        ExpectMsg<DeleteSnapshotsSuccess>();
        SnapshotStore.Tell(new LoadSnapshot("s", SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
        Assert.Equal(9, ExpectMsg<LoadSnapshotResult>().Snapshot.Metadata.SequenceNr);

        SnapshotStore.Tell(new LoadSnapshot("none", SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
        Assert.Null(ExpectMsg<LoadSnapshotResult>().Snapshot);
    }

    [Fact]
    public void UnreachableDatabase_FailsTheWrites_AndTheReplay_WithTheCause()
    {
        var unreachable = Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor("akka.persistence.journal.unreachable");
        unreachable.Tell(new WriteMessages([Write("u", 1, 1)], TestActor, 1));
        Assert.NotNull(ExpectMsg<WriteMessagesFailed>(TimeSpan.FromSeconds(20)).Cause);
        Assert.Equal("u", ExpectMsg<WriteMessageFailure>().Persistent.PersistenceId);
        unreachable.Tell(new ReplayMessages(1, long.MaxValue, long.MaxValue, "u", TestActor));
        ExpectMsg<ReplayMessagesFailure>(TimeSpan.FromSeconds(20));
    }

    /// <summary>A type no serialization-binding covers.</summary>
    private sealed record Unbound(string Text);

    /// <summary>A write participant that stores each write's attachment in a table of its own, in the journal's transaction.</summary>
    private sealed class AttachmentTable : IWriteParticipant
    {
        private readonly object _gate = new();
        private readonly List<string> _memory = [];
        private Func<Task<DbConnection>>? _open;
        private string _table = "plugin_spec_attachments";

        public List<string> Rows()
        {
            if (_open is null)
            {
                lock (_gate)
                {
                    return [.. _memory];
                }
            }

            using var connection = _open().GetAwaiter().GetResult();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT row_text FROM {_table} ORDER BY row_text";
            using var reader = command.ExecuteReader();
            var rows = new List<string>();
            while (reader.Read())
            {
                rows.Add(reader.GetString(0));
            }

            return rows;
        }

        public async Task EnsureSchemaAsync(DbConnection? connection, SqlDialect dialect, CancellationToken cancellationToken)
        {
            if (connection is null)
            {
                return;
            }

            var connectionString = connection.ConnectionString;
            _table = dialect == SqlDialect.PostgreSql ? "public.plugin_spec_attachments" : "plugin_spec_attachments";
            _open =
                dialect == SqlDialect.PostgreSql
                    ? async () =>
                    {
                        var c = new Npgsql.NpgsqlConnection(connectionString);
                        await c.OpenAsync().ConfigureAwait(false);
                        return c;
                    }
                    : async () =>
                    {
                        var c = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
                        await c.OpenAsync().ConfigureAwait(false);
                        return c;
                    };
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE TABLE IF NOT EXISTS {_table} (row_text TEXT NOT NULL)";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task WriteAsync(
            DbTransaction? transaction,
            SqlDialect dialect,
            IReadOnlyList<Jobs.Persistence.Journal.AtomicWrite> writes,
            CancellationToken cancellationToken
        )
        {
            if (transaction is null)
            {
                lock (_gate)
                {
                    _memory.AddRange(writes.Select(w => $"{w.PersistenceId}={w.Attachment}"));
                }

                return;
            }

            foreach (var write in writes)
            {
                await using var command = transaction.Connection!.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = $"INSERT INTO {_table} (row_text) VALUES (@r)";
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@r";
                parameter.Value = $"{write.PersistenceId}={write.Attachment}";
                command.Parameters.Add(parameter);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>The plugin on an embedded SQLite file.</summary>
public sealed class SqlitePluginSpec(ITestOutputHelper output) : SqlPluginSpec(SqliteStore(), output)
{
    private static string SqliteStore()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-plugin-").FullName;
        return $"provider = sqlite, sqlite-path = \"{Path.Combine(directory, "plugin.db").Replace("\\", "/", StringComparison.Ordinal)}\"";
    }
}

/// <summary>The plugin on a throwaway PostgreSQL database.</summary>
public sealed class PostgresPluginSpec(ITestOutputHelper output) : SqlPluginSpec(PostgresStore(), output)
{
    private static string PostgresStore()
    {
        var server = PostgresServer.SharedAsync().GetAwaiter().GetResult();
        var connection = server.CreateDatabaseAsync("plugin").GetAwaiter().GetResult();
        return $"provider = postgresql, postgresql-connection-string = \"{connection}\"";
    }
}
