using System.Diagnostics;
using System.Text.Json.Serialization;
using Jobs.Runtime.Actors;
using Jobs.Runtime.Persistence;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Memory;
using Jobs.Persistence.Postgres;
using Jobs.Persistence.Serialization;
using Jobs.Persistence.Sqlite;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Benchmarks.Persistence;

/// <summary>
/// Akka.Persistence's standard measurements on our journals: Persist (1 actor, sequential), PersistGroup100 and
/// PersistGroup1000 (that many actors persisting concurrently, each waiting for its previous write), Recovering
/// (replay of 1000-event streams), and the database's own limit (1000-row multi-row INSERTs in a loop).
/// </summary>
internal static partial class PersistenceBench
{
    public static async Task RunAsync(string backend)
    {
        await using var target = await Target.CreateAsync(backend);
        Print(backend, "persist-1", await PersistGroupAsync(target, actors: 1, eventsPerActor: 2_000));
        Print(backend, "persist-group-100", await PersistGroupAsync(target, actors: 100, eventsPerActor: 300));
        Print(backend, "persist-group-1000", await PersistGroupAsync(target, actors: 1000, eventsPerActor: 100));
        Print(backend, "recovering-1000x20", await RecoveringAsync(target, streams: 20, eventsPerStream: 1000));
        if (target.RawInsertLoop is { } raw)
        {
            Print(backend, "raw-insert-1000-rows", await raw());
        }
    }

    private static void Print(string backend, string name, (long Events, TimeSpan Elapsed) result) =>
        Console.WriteLine($$"""{"benchmark":"{{name}}","backend":"{{backend}}","events":{{result.Events}},"seconds":{{result.Elapsed.TotalSeconds:F3}},"events_per_s":{{result.Events / result.Elapsed.TotalSeconds:F0}}}""");

    private static async Task<(long, TimeSpan)> PersistGroupAsync(Target target, int actors, int eventsPerActor)
    {
        var system = target.NewSystem();
        try
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            var done = new CountdownEvent(actors);
            var refs = Enumerable.Range(0, actors).Select(i => system.ActorOf(Props.Create(() => new Persister($"{run}-{i}", eventsPerActor, done)))).ToList();
            await Task.Run(() => refs.ForEach(r => r.Ask<string>("ready", TimeSpan.FromMinutes(2)).GetAwaiter().GetResult()));
            var clock = Stopwatch.StartNew();
            refs.ForEach(r => r.Tell("go", null));
            await Task.Run(done.Wait);
            return ((long)actors * eventsPerActor, clock.Elapsed);
        }
        finally
        {
            await system.TerminateAsync();
        }
    }

    private static async Task<(long, TimeSpan)> RecoveringAsync(Target target, int streams, int eventsPerStream)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var writes = Enumerable.Range(0, streams).SelectMany(s => Enumerable.Range(0, eventsPerStream / 100).Select(b =>
            new AtomicWrite($"{run}-r{s}", [.. Enumerable.Range(1, 100).Select(i => new PersistentRepr($"{run}-r{s}", (b * 100) + i, "bench.v1", """{"n":1}"""u8.ToArray(), DateTimeOffset.UtcNow, "bench"))])));
        foreach (var group in writes.Chunk(50))
        {
            await Task.WhenAll(group.Select(w => target.Journal.WriteAsync(w, CancellationToken.None)));
        }

        var system = target.NewSystem();
        try
        {
            var clock = Stopwatch.StartNew();
            var recovered = await Task.WhenAll(Enumerable.Range(0, streams).Select(s =>
                system.ActorOf(Props.Create(() => new Persister($"{run}-r{s}", 0, null))).Ask<long>("count", TimeSpan.FromMinutes(2))));
            var elapsed = clock.Elapsed;
            if (recovered.Any(r => r != eventsPerStream))
            {
                throw new InvalidOperationException("recovery replayed the wrong number of events");
            }

            return ((long)streams * eventsPerStream, elapsed);
        }
        finally
        {
            await system.TerminateAsync();
        }
    }

    private sealed record Evt(int N);

    private sealed class Persister(string id, int events, CountdownEvent? done) : PersistentActor
    {
        private int _persisted;
        private long _recovered;

        public override string PersistenceId => id;

        protected override bool ReceiveRecover(object message)
        {
            if (message is Evt)
            {
                _recovered++;
            }

            return true;
        }

        protected override bool ReceiveCommand(object message)
        {
            switch (message)
            {
                case "ready":
                    Sender.Tell("ready", Self);
                    return true;
                case "count":
                    Sender.Tell(_recovered, Self);
                    return true;
                case "go" or Evt:
                    if (_persisted < events)
                    {
                        Persist(new Evt(_persisted), _ =>
                        {
                            _persisted++;
                            if (_persisted == events)
                            {
                                done?.Signal();
                            }
                            else
                            {
                                Self.Tell(new Evt(0), Self);
                            }
                        });
                    }

                    return true;
                default:
                    return false;
            }
        }
    }

    private sealed class Target : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];
        private readonly EventSerializer _serializer = new();

        private Target(IJournal journal)
        {
            Journal = journal;
            _serializer.Register("bench.v1", BenchJsonContext.Default.Evt);
        }

        public IJournal Journal { get; }

        public Func<Task<(long, TimeSpan)>>? RawInsertLoop { get; private init; }

        public static async Task<Target> CreateAsync(string backend)
        {
            switch (backend)
            {
                case "memory":
                {
                    var journal = new InMemoryJournal();
                    await journal.StartAsync(CancellationToken.None);
                    return new Target(journal);
                }

                case "sqlite":
                {
                    var directory = Directory.CreateTempSubdirectory("jobs-bench-").FullName;
                    var journal = new SqliteJournal(Path.Combine(directory, "bench.db"));
                    await journal.StartAsync(CancellationToken.None);
                    return new Target(journal) { RawInsertLoop = () => SqliteRawAsync(journal.ConnectionString) };
                }

                case "postgres":
                {
                    var server = await PostgresServer.StartDedicatedAsync();
                    var connectionString = await server.CreateDatabaseAsync("bench");
                    var dataSource = NpgsqlDataSource.Create(connectionString);
                    var journal = new PostgresJournal(dataSource);
                    await journal.StartAsync(CancellationToken.None);
                    var target = new Target(journal) { RawInsertLoop = () => PostgresRawAsync(dataSource) };
                    target._owned.Add(dataSource);
                    target._owned.Add(server);
                    return target;
                }

                default:
                    throw new ArgumentException($"unknown backend '{backend}' (memory, sqlite, postgres)");
            }
        }

        public ActorSystem NewSystem()
        {
            var system = ActorSystem.Create("bench");
            PersistenceExtension.Register(system, new PersistenceExtension(Journal, new InMemorySnapshotStore(), _serializer, new PersistenceOptions { MaxConcurrentRecoveries = 100 }));
            return system;
        }

        public async ValueTask DisposeAsync()
        {
            await Journal.DisposeAsync();
            foreach (var owned in _owned)
            {
                await owned.DisposeAsync();
            }
        }

        private static async Task<(long, TimeSpan)> SqliteRawAsync(string connectionString)
        {
            await using var connection = await SqliteJournal.OpenAsync(connectionString, CancellationToken.None);
            await using (var create = connection.CreateCommand())
            {
                create.CommandText = "CREATE TABLE IF NOT EXISTS raw_rows (a TEXT, b INTEGER, c BLOB)";
                await create.ExecuteNonQueryAsync();
            }

            var clock = Stopwatch.StartNew();
            const int Batches = 100;
            for (var batch = 0; batch < Batches; batch++)
            {
                await using var tx = await connection.BeginTransactionAsync();
                await using var insert = connection.CreateCommand();
                insert.Transaction = (Microsoft.Data.Sqlite.SqliteTransaction)tx;
                insert.CommandText = "INSERT INTO raw_rows VALUES ('x', @b, x'7b7d')";
                var b = insert.CreateParameter();
                b.ParameterName = "@b";
                insert.Parameters.Add(b);
                for (var i = 0; i < 1000; i++)
                {
                    b.Value = i;
                    await insert.ExecuteNonQueryAsync();
                }

                await tx.CommitAsync();
            }

            return (Batches * 1000L, clock.Elapsed);
        }

        private static async Task<(long, TimeSpan)> PostgresRawAsync(NpgsqlDataSource dataSource)
        {
            await using (var create = dataSource.CreateCommand("CREATE TABLE IF NOT EXISTS raw_rows (a TEXT, b BIGINT, c BYTEA)"))
            {
                await create.ExecuteNonQueryAsync();
            }

            var values = string.Join(", ", Enumerable.Range(0, 1000).Select(i => $"('x', {i}, '\\x7b7d')"));
            var clock = Stopwatch.StartNew();
            const int Batches = 100;
            for (var batch = 0; batch < Batches; batch++)
            {
                await using var insert = dataSource.CreateCommand($"INSERT INTO raw_rows VALUES {values}");
                await insert.ExecuteNonQueryAsync();
            }

            return (Batches * 1000L, clock.Elapsed);
        }
    }

    [JsonSerializable(typeof(Evt))]
    private sealed partial class BenchJsonContext : JsonSerializerContext;
}
