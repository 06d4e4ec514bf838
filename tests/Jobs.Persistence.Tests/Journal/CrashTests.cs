using System.Diagnostics;
using System.Globalization;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Postgres;
using Jobs.Persistence.Sqlite;
using Jobs.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>
/// Kill the writer (SIGKILL) or the database (pg_ctl stop -m immediate) mid-burst: every acknowledged write must be
/// there afterwards, and no atomic write may be half there.
/// </summary>
public sealed class CrashTests
{
    private const int Streams = 16;

    [Fact]
    public async Task Sqlite_WriterKilledMidBurst_AcknowledgedWritesSurvive_NothingHalfWritten()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-crash-").FullName;
        try
        {
            var path = Path.Combine(directory, "crash.db");
            var acked = await RunWriterAsync("sqlite", path, async (writer, acks) =>
            {
                await acks.WaitForAsync(600);

                // A second owner is refused before it reads or writes anything (it would recover the writer's
                // streams under its feet), with an error naming the database and its lock file.
                await using (var second = new SqliteJournal(path))
                {
                    var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(CancellationToken.None));
                    Assert.Contains("in use by another process", refused.Message, StringComparison.Ordinal);
                    Assert.Contains(second.LockPath, refused.Message, StringComparison.Ordinal);
                }

                writer.Kill(entireProcessTree: true); // SIGKILL: no shutdown code runs
            });

            await using (var check = await SqliteJournal.OpenAsync($"Data Source={path}", CancellationToken.None))
            await using (var command = check.CreateCommand())
            {
                command.CommandText = "PRAGMA integrity_check";
                Assert.Equal("ok", (string?)await command.ExecuteScalarAsync());
            }

            await using var journal = new SqliteJournal(path);
            await journal.StartAsync(CancellationToken.None);
            await VerifyAsync(journal, acked);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Postgres_ServerStoppedImmediatelyMidBurst_AcknowledgedWritesSurvive_NothingHalfWritten()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        var connectionString = await server.CreateDatabaseAsync("crash");
        var acked = await RunWriterAsync("postgres", connectionString, async (writer, acks) =>
        {
            await acks.WaitForAsync(600);
            await server.StopImmediateAsync(); // like a power cut: no checkpoint, WAL replay on restart
            await Task.Delay(300);
            writer.Kill(entireProcessTree: true);
        });

        await server.RestartAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var journal = new PostgresJournal(dataSource);
        await journal.StartAsync(CancellationToken.None);
        await VerifyAsync(journal, acked);
    }

    private static async Task VerifyAsync(IJournal journal, IReadOnlyDictionary<string, long> acked)
    {
        Assert.True(acked.Values.Sum() >= 600 * 3 / 2, "the writer acknowledged too little before the crash for the test to mean anything");
        for (var s = 0; s < Streams; s++)
        {
            var pid = $"crash-{s}";
            var stored = new List<long>();
            await foreach (var e in journal.ReplayAsync(pid, 1, long.MaxValue, long.MaxValue, CancellationToken.None))
            {
                stored.Add(e.SequenceNr);
            }

            var ackedHighest = acked.GetValueOrDefault(pid);
            Assert.True(stored.Count >= ackedHighest, $"{pid}: acknowledged up to {ackedHighest} but only {stored.Count} events stored");
            Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored); // no gaps
            Assert.Equal(0, stored.Count % 3); // atomic writes of three: never half there
        }
    }

    private static async Task<Dictionary<string, long>> RunWriterAsync(string backend, string target, Func<Process, Acks, Task> crash)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Jobs.CrashWriter.dll"));
        start.ArgumentList.Add(backend);
        start.ArgumentList.Add(target);
        start.ArgumentList.Add(Streams.ToString(CultureInfo.InvariantCulture));
        using var writer = Process.Start(start)!;
        var acks = new Acks();
        var reading = Task.Run(async () =>
        {
            while (await writer.StandardOutput.ReadLineAsync() is { } line)
            {
                acks.Add(line);
            }
        });
        var errors = writer.StandardError.ReadToEndAsync();
        try
        {
            await crash(writer, acks).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"the writer never reached enough acknowledgements; stderr: {await errors}");
        }
        finally
        {
            if (!writer.HasExited)
            {
                writer.Kill(entireProcessTree: true);
            }

            await writer.WaitForExitAsync();
            await reading;
        }

        return acks.Highest;
    }

    private sealed class Acks
    {
        private readonly Lock _gate = new();
        private readonly TaskCompletionSource _enough = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _target = int.MaxValue;
        private int _count;

        public Dictionary<string, long> Highest { get; } = [];

        public void Add(string line)
        {
            var parts = line.Split(' ');
            if (parts is not ["ack", var pid, var seq])
            {
                return;
            }

            lock (_gate)
            {
                Highest[pid] = Math.Max(Highest.GetValueOrDefault(pid), long.Parse(seq, CultureInfo.InvariantCulture));
                if (++_count >= _target)
                {
                    _enough.TrySetResult();
                }
            }
        }

        public Task WaitForAsync(int count)
        {
            lock (_gate)
            {
                _target = count;
                if (_count >= count)
                {
                    _enough.TrySetResult();
                }
            }

            return _enough.Task;
        }
    }
}
