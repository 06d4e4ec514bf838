using System.Globalization;
using System.Text;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Postgres;
using Jobs.Persistence.Sqlite;
using Npgsql;

// A process for crash tests: writes atomic 3-event writes to many streams as fast as it can and prints
// "ack <stream> <highest sequence nr>" after each commit, so the test knows exactly what was acknowledged
// before it kills the process (or the database) mid-burst.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Jobs.CrashWriter sqlite|postgres <path-or-connection-string> <streams>");
    return 2;
}

var streams = int.Parse(args[2], CultureInfo.InvariantCulture);
IJournal journal = args[0] switch
{
    "sqlite" => new SqliteJournal(args[1]),
    "postgres" => new PostgresJournal(NpgsqlDataSource.Create(args[1]), ownsDataSource: true),
    _ => throw new ArgumentException($"unknown backend '{args[0]}'"),
};
await journal.StartAsync(CancellationToken.None);
var output = Console.Out;
var gate = new Lock();
Console.WriteLine("ready");

await Task.WhenAll(
    Enumerable
        .Range(0, streams)
        .Select(async s =>
        {
            var pid = $"crash-{s}";
            var next = await journal.ReadHighestSequenceNrAsync(pid, CancellationToken.None) + 1;
            while (true)
            {
                var events = Enumerable
                    .Range(0, 3)
                    .Select(i => new PersistentRepr(
                        pid,
                        next + i,
                        "crash.v1",
                        Encoding.UTF8.GetBytes($"{{\"n\":{next + i}}}"),
                        DateTimeOffset.UtcNow,
                        "crash-writer"
                    ))
                    .ToList();
                try
                {
                    await journal.WriteAsync(new AtomicWrite(pid, events), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    lock (gate)
                    {
                        output.WriteLine($"error {pid} {ex.GetType().Name}");
                        output.Flush();
                    }

                    await Task.Delay(50);
                    continue;
                }

                next += 3;
                lock (gate)
                {
                    output.WriteLine($"ack {pid} {next - 1}");
                    output.Flush();
                }
            }
        })
);
return 0;
