// Akka.Persistence's standard measurements through real Akka persistent actors, for two journal plugins side by
// side in one run: this project's (akka.persistence.journal.jobs-sql) and Akka.Persistence.Sql 1.5.73. Each line
// is one measurement on a fresh database; the plugins alternate so that the machine's drift falls on both alike.
//   dotnet run -c Release --project bench/Jobs.Benchmarks.Plugins -- [rounds] [sqlite] [postgres]
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Jobs.Testing;

var rounds = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var r) ? r : 1;
var backends = args.Where(a => a is "sqlite" or "postgres").DefaultIfEmpty("sqlite").ToList();
foreach (var round in Enumerable.Range(1, rounds))
{
    foreach (var backend in backends)
    {
        foreach (var plugin in new[] { "jobs-sql", "akka-sql" })
        {
            await Bench.RunAsync(plugin, backend, round);
        }
    }
}

/// <summary>
/// The measurements: Persist (one actor), PersistGroup100 and PersistGroup1000 (that many actors, each waiting for its
/// previous write), Recovering (20 streams of 1,000 events).
/// </summary>
internal static class Bench
{
    public static async Task RunAsync(string plugin, string backend, int round)
    {
        foreach (var (name, actors, events) in new[] { ("persist-1", 1, 2_000), ("persist-group-100", 100, 300), ("persist-group-1000", 1000, 100) })
        {
            var config = await ConfigAsync(plugin, backend);
            using var system = ActorSystem.Create("bench", config);
            var (count, elapsed) = await PersistGroupAsync(system, actors, events);
            Print(plugin, backend, round, name, count, elapsed);
            await system.Terminate();
        }

        var recoveryConfig = await ConfigAsync(plugin, backend);
        using (var writer = ActorSystem.Create("bench", recoveryConfig))
        {
            await PersistGroupAsync(writer, 20, 1_000, prefix: "stream");
            await writer.Terminate();
        }

        using var reader = ActorSystem.Create("bench", recoveryConfig);
        var clock = Stopwatch.StartNew();
        var recovered = await Task.WhenAll(
            Enumerable
                .Range(0, 20)
                .Select(i => reader.ActorOf(Props.Create(() => new Persister($"stream-{i}", 0))).Ask<long>("recovered", TimeSpan.FromMinutes(5)))
        );
        Print(plugin, backend, round, "recovering-20x1000", recovered.Sum(), clock.Elapsed);
        await reader.Terminate();
    }

    private static async Task<(long Events, TimeSpan Elapsed)> PersistGroupAsync(ActorSystem system, int actors, int events, string prefix = "p")
    {
        var refs = Enumerable.Range(0, actors).Select(i => system.ActorOf(Props.Create(() => new Persister($"{prefix}-{i}", events)))).ToList();
        await Task.WhenAll(refs.Select(a => a.Ask<long>("recovered", TimeSpan.FromMinutes(5))));
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(refs.Select(a => a.Ask<string>("go", TimeSpan.FromMinutes(10))));
        return ((long)actors * events, clock.Elapsed);
    }

    private static void Print(string plugin, string backend, int round, string name, long events, TimeSpan elapsed) =>
        Console.WriteLine(
            string.Create(CultureInfo.InvariantCulture, $$"""{"plugin":"{{plugin}}","backend":"{{backend}}","round":{{round}},""")
                + string.Create(
                    CultureInfo.InvariantCulture,
                    $$"""
                    "benchmark":"{{name}}","events":{{events}},"seconds":{{elapsed.TotalSeconds:F3}},"events_per_s":{{events
                        / elapsed.TotalSeconds:F0}}}
                    """
                )
        );

    /// <summary>A fresh database for one measurement, and the plugin's HOCON for it.</summary>
    private static async Task<Config> ConfigAsync(string plugin, string backend)
    {
        string connection;
        if (backend == "sqlite")
        {
            connection = Path.Combine(Directory.CreateTempSubdirectory("jobs-plugin-bench-").FullName, "bench.db");
        }
        else
        {
            connection = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("pluginbench");
        }

        var common = """
            akka.loglevel = WARNING
            akka.persistence.max-concurrent-recoveries = 1000
            """;
        if (plugin == "jobs-sql")
        {
            var store =
                backend == "sqlite"
                    ? $"provider = sqlite, sqlite-path = \"{connection}\""
                    : $"provider = postgresql, postgresql-connection-string = \"{connection}\"";
            return ConfigurationFactory
                .ParseString(
                    $$"""
                    {{common}}
                    akka.persistence.journal.plugin = "{{Jobs.Persistence.Plugin.SqlPersistence.JournalPluginId}}"
                    akka.persistence.snapshot-store.plugin = "{{Jobs.Persistence.Plugin.SqlPersistence.SnapshotPluginId}}"
                    {{Jobs.Persistence.Plugin.SqlPersistence.JournalPluginId}} { {{store}} }
                    {{Jobs.Persistence.Plugin.SqlPersistence.SnapshotPluginId}} { {{store}} }
                    """
                )
                .WithFallback(Jobs.Persistence.Plugin.SqlPersistence.DefaultConfig);
        }

        // Akka.Persistence.Sql: provider-name set, so that auto-initialize creates the unique (persistence id, sequence nr) index.
        var (connectionString, provider) = backend == "sqlite" ? ($"Data Source={connection}", "SQLite.MS") : (connection, "PostgreSQL.15");
        return ConfigurationFactory
            .ParseString(
                $$"""
                {{common}}
                akka.persistence.journal.plugin = "akka.persistence.journal.sql"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
                akka.persistence.journal.sql { connection-string = "{{connectionString}}", provider-name = "{{provider}}", auto-initialize = true }
                akka.persistence.snapshot-store.sql {
                    connection-string = "{{connectionString}}", provider-name = "{{provider}}", auto-initialize = true
                }
                """
            )
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }
}

/// <summary>Persists <c>events</c> small byte-array events one after another when told "go" (each waits for the previous commit).</summary>
internal sealed class Persister : ReceivePersistentActor
{
    private static readonly byte[] Payload = new byte[64];
    private long _recovered;
    private IActorRef? _recoveryAsker;
    private bool _recoveryDone;

    public Persister(string persistenceId, int events)
    {
        PersistenceId = persistenceId;
        Recover<byte[]>(_ => _recovered++);
        Recover<RecoveryCompleted>(_ =>
        {
            _recoveryDone = true;
            _recoveryAsker?.Tell(_recovered);
        });
        Command<string>(
            m => m == "recovered",
            _ =>
            {
                if (_recoveryDone)
                {
                    Sender.Tell(_recovered);
                }
                else
                {
                    _recoveryAsker = Sender;
                }
            }
        );
        Command<string>(
            m => m == "go",
            _ =>
            {
                var asker = Sender;
                var left = events;
                void Next()
                {
                    if (left-- == 0)
                    {
                        asker.Tell("done");
                        return;
                    }

                    Persist(Payload, _ => Next());
                }

                Next();
            }
        );
    }

    public override string PersistenceId { get; }
}
