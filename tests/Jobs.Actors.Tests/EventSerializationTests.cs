using System.Runtime.CompilerServices;
using Jobs.Actors.Serialization;
using AkkaActorSystem = Akka.Actor.ActorSystem;
using AkkaConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Jobs.Actors.Tests;

/// <summary>
/// Every event the job system persists goes through Akka.NET's serialization with its own serializer and a stable
/// manifest, and comes back equal: an event type added without a registration (which Akka would hand to its
/// type-name JSON fallback) fails here.
/// </summary>
public sealed class EventSerializationTests
{
    [Fact]
    public async Task EveryPersistedEvent_IsBoundToTheJobsSerializer_AndRoundTrips()
    {
        using var system = AkkaActorSystem.Create("events", AkkaConfigurationFactory.ParseString(JobsEventSerializer.Hocon));
        var serialization = system.Serialization;
        Assert.True(JobsEventSerializer.EventTypes.Count >= 19, $"only {JobsEventSerializer.EventTypes.Count} event types found");
        foreach (var type in JobsEventSerializer.EventTypes)
        {
            // An instance with every field at its default: enough to prove the binding and the manifest's round trip.
            var value = RuntimeHelpers.GetUninitializedObject(type);
            var serializer = serialization.FindSerializerFor(value);
            Assert.True(serializer is JobsEventSerializer, $"{type.Name} is bound to {serializer.GetType().Name}, not the jobs serializer");
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, value);
            Assert.Matches("^[a-z-]+\\.v\\d+$", manifest); // a stable name, never a CLR type name
            var back = serialization.Deserialize(serializer.ToBinary(value), serializer.Identifier, manifest);
            Assert.Equal(value, back);
        }

        Assert.Equal(
            JobsEventSerializer.EventTypes.Count,
            JobsEventSerializer
                .EventTypes.Select(t =>
                    Akka.Serialization.Serialization.ManifestFor(
                        serialization.FindSerializerFor(RuntimeHelpers.GetUninitializedObject(t)),
                        RuntimeHelpers.GetUninitializedObject(t)
                    )
                )
                .Distinct()
                .Count()
        );
        await system.Terminate();
    }
}

/// <summary>
/// Data written today is what the Akka build reads: a job stored by the current node on SQLite replays, as typed
/// events, into an Akka.NET persistent actor through the Jobs.Persistence plugin (rows without a serializer id are
/// read with the jobs serializer, legacy-serializer-id).
/// </summary>
public sealed class StoredEventsReadByAkkaTests
{
    [Fact]
    public async Task AJobStoredByTheNode_ReplaysIntoAnAkkaPersistentActor()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-to-akka-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        try
        {
            string id;
            await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, storageConfig: storage))
            {
                id = (await node.Client.ScheduleAsync(Client.ScheduleRequest.Create("echo", new EchoPayload("kept")))).JobId;
                await node.WaitForStatusAsync(id, Client.JobStatus.Succeeded);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var path = Path.Combine(directory, "jobs.db").Replace("\\", "/", StringComparison.Ordinal);
            var config = AkkaConfigurationFactory
                .ParseString(
                    $$"""
                    akka.persistence.journal.plugin = "{{Persistence.Plugin.SqlPersistence.JournalPluginId}}"
                    akka.persistence.snapshot-store.plugin = "{{Persistence.Plugin.SqlPersistence.SnapshotPluginId}}"
                    {{Persistence.Plugin.SqlPersistence.JournalPluginId}} {
                        sqlite-path = "{{path}}", legacy-serializer-id = {{JobsEventSerializer.Id}}
                    }
                    {{Persistence.Plugin.SqlPersistence.SnapshotPluginId}} {
                        sqlite-path = "{{path}}", legacy-serializer-id = {{JobsEventSerializer.Id}}
                    }
                    {{JobsEventSerializer.Hocon}}
                    """
                )
                .WithFallback(Persistence.Plugin.SqlPersistence.DefaultConfig);
            using var system = AkkaActorSystem.Create("reader", config);
            var reader = system.ActorOf(Akka.Actor.Props.Create(() => new EventReader("job-" + id)));
            var events = await Akka.Actor.Futures.Ask<List<object>>(reader, "events", TimeSpan.FromSeconds(20));
            Assert.Equal(["JobScheduled", "AttemptStarted", "AttemptEnded"], events.Select(e => e.GetType().Name));
            Assert.Equal(id, ((Entities.JobScheduled)events[0]).Id);
            Assert.Equal(Client.AttemptOutcome.Succeeded, ((Entities.AttemptEnded)events[2]).Outcome);
            await system.Terminate();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Replays a stream and answers with its events.</summary>
    private sealed class EventReader : Akka.Persistence.ReceivePersistentActor
    {
        private readonly List<object> _events = [];

        public EventReader(string persistenceId)
        {
            PersistenceId = persistenceId;
            RecoverAny(e =>
            {
                if (e is not Akka.Persistence.RecoveryCompleted)
                {
                    _events.Add(e);
                }
            });
            Command<string>(_ => Sender.Tell(_events, Self));
        }

        public override string PersistenceId { get; }
    }
}
