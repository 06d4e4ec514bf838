using System.Diagnostics;
using System.Globalization;
using Akka.Cluster;
using Jobs.Client;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests;

/// <summary>
/// Three members on one PostgreSQL, two of them separate processes: the oldest (which runs the scheduler singleton
/// and hosts shards) is killed with SIGKILL, or frozen with SIGSTOP until the others removed it and then resumed,
/// under load. Every acknowledged job ends Succeeded, and a job runs twice only where an attempt had really started
/// on the lost member (its attempt is recorded lost); a resumed member stops itself and nothing it does lands.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ClusterCrashTests
{
    [Fact]
    public async Task KillingTheSchedulersMember_UnderLoad_LosesNoJob_AndRunsAgainOnlyWhatItWasRunning()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("crash");
        var directory = Directory.CreateTempSubdirectory("jobs-cluster-crash-").FullName;
        var processes = new List<Process>();
        TestNode? local = null;
        try
        {
            (local, var killed) = await StartClusterAsync(database, directory, processes);
            var localLog = Path.Combine(directory, "a.log");

            // 300 jobs of 200-400 ms, in three batches: about a minute of work for the cluster's 12 workers.
            var ids = new List<string>();
            for (var batch = 0; batch < 3; batch++)
            {
                var results = await local.Client.ScheduleManyAsync([.. Enumerable.Range(0, 100).Select(i => ScheduleRequest.Create("work", new WorkPayload(200 + ((batch * 100 + i) % 3 * 100))))]);
                ids.AddRange(results.Select(r => r.Result!.JobId));
            }

            // Kill the oldest member (the scheduler's) once it is running jobs.
            var killedLog = Path.Combine(directory, "b.log");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Starts(killedLog).Count < 8)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the oldest member never ran jobs (a: {Starts(localLog).Count}, c: {Starts(Path.Combine(directory, "c.log")).Count} starts; b exited: {killed.HasExited})");
                await Task.Delay(50);
            }

            killed.Kill(entireProcessTree: true);
            var killedAt = DateTime.UtcNow;
            await killed.WaitForExitAsync();

            var infos = new Dictionary<string, JobInfo>();
            foreach (var id in ids)
            {
                infos[id] = await local.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(180));
            }

            var starts = Starts(killedLog).Concat(Starts(localLog)).Concat(Starts(Path.Combine(directory, "c.log"))).ToList();
            var startedOnKilled = Starts(killedLog).Select(s => s.Id).ToHashSet();
            var again = ids.Where(id => starts.Count(s => s.Id == id) > 1).ToList();
            Assert.All(again, id => Assert.True(startedOnKilled.Contains(id), $"{id} ran twice, never having started on the killed member: {string.Join("; ", infos[id].Attempts)}"));
            Assert.All(again, id => Assert.Contains(infos[id].Attempts, a => a.Outcome == AttemptOutcome.Lost && a.Node == "node-b"));
            // The others ran once. An attempt begun (durably) on the killed member whose handler had not started yet when
            // the process died is still counted lost, since nobody can tell it did not run: such a job has that lost
            // attempt and one more, and its handler ran once.
            Assert.All(ids.Except(startedOnKilled), id => Assert.True(
                infos[id].Attempts.Count == 1 || (infos[id].Attempts.Count == 2 && infos[id].Attempts[0] is { Outcome: AttemptOutcome.Lost, Node: "node-b" }),
                $"{id} has attempts it never ran: {string.Join("; ", infos[id].Attempts)}"));
            Assert.All(ids, id => Assert.Contains(id, starts.Select(s => s.Id)));
            var lost = infos.Values.Where(i => i.Attempts.Any(a => a.Outcome == AttemptOutcome.Lost)).ToList();
            Assert.NotEmpty(lost);
            var recovered = lost.Max(i => i.Attempts.First(a => a.Outcome != AttemptOutcome.Lost && a.Number > i.Attempts.First(l => l.Outcome == AttemptOutcome.Lost).Number).StartedAt);
            Console.WriteLine($"killed the scheduler's member with {lost.Count} attempts running; the last of them ran again {(recovered - killedAt).TotalSeconds:F1} s later; {again.Count} of {ids.Count} jobs ran twice");
            Assert.True(recovered - killedAt < TimeSpan.FromSeconds(45), $"the killed member's attempts took {(recovered - killedAt).TotalSeconds:F1} s to run again");
        }
        finally
        {
            foreach (var process in processes.Where(p => !p.HasExited))
            {
                process.StandardInput.Close(); // a member stops cleanly when its input closes
                if (!process.WaitForExit(20_000))
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            if (local is not null)
            {
                await local.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task FreezingTheSchedulersMember_PastItsLeases_LetsNoStaleWorkLand_AndTheResumedMemberStopsItself()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("freeze");
        var directory = Directory.CreateTempSubdirectory("jobs-cluster-freeze-").FullName;
        var processes = new List<Process>();
        TestNode? local = null;
        try
        {
            (local, var frozen) = await StartClusterAsync(database, directory, processes);
            var (frozenLog, localLog, otherLog) = (Path.Combine(directory, "b.log"), Path.Combine(directory, "a.log"), Path.Combine(directory, "c.log"));
            var cluster = Cluster.Get(local.Node.System!);

            // 120 jobs of 1-1.5 s on the cluster's 12 workers: still running when the frozen member comes back.
            var ids = (await local.Client.ScheduleManyAsync([.. Enumerable.Range(0, 120).Select(i => ScheduleRequest.Create("work", new WorkPayload(1000 + (i % 3 * 250))))]))
                .Select(r => r.Result!.JobId).ToList();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Starts(frozenLog).Count < 4)
            {
                Assert.True(DateTime.UtcNow < deadline, "the oldest member never ran jobs");
                await Task.Delay(50);
            }

            // Freeze the oldest member (the scheduler's, and holder of shards) until the others have removed it.
            var frozenAddress = cluster.State.Members.OrderBy(m => m, Member.AgeOrdering).First().Address;
            Signal("STOP", frozen);
            var frozenAt = DateTime.UtcNow;
            deadline = DateTime.UtcNow.AddSeconds(60);
            while (cluster.State.Members.Any(m => m.Address.Equals(frozenAddress)))
            {
                Assert.True(DateTime.UtcNow < deadline, "the frozen member was not removed within 60 s");
                await Task.Delay(100);
            }

            var removedAfter = DateTime.UtcNow - frozenAt;
            await Task.Delay(TimeSpan.FromSeconds(3)); // its shards and the scheduler have moved meanwhile
            var startsBeforeResume = Starts(frozenLog);
            Signal("CONT", frozen);
            var resumedAt = DateTime.UtcNow;

            // The resumed member finds itself removed and stops; its frozen handlers' completions are not accepted.
            using (var stops = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await frozen.WaitForExitAsync(stops.Token);
            }

            var stoppedAfter = DateTime.UtcNow - resumedAt;
            Assert.Equal(3, frozen.ExitCode);
            Assert.Equal(startsBeforeResume, Starts(frozenLog)); // nothing started there after it came back

            var infos = new Dictionary<string, JobInfo>();
            foreach (var id in ids)
            {
                infos[id] = await local.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(180));
            }

            var startedOnFrozen = startsBeforeResume.Select(s => s.Id).ToHashSet();
            var all = Starts(frozenLog).Concat(Starts(localLog)).Concat(Starts(otherLog)).ToList();
            var again = ids.Where(id => all.Count(s => s.Id == id) > 1).ToList();
            Assert.All(again, id => Assert.True(startedOnFrozen.Contains(id), $"{id} ran twice, never having started on the frozen member: {string.Join("; ", infos[id].Attempts)}"));
            Assert.All(ids, id => Assert.Single(infos[id].Attempts, a => a.Outcome == AttemptOutcome.Succeeded));
            Assert.All(again, id => Assert.NotEqual("node-b", infos[id].Attempts.Single(a => a.Outcome == AttemptOutcome.Succeeded).Node)); // its late completions were refused
            Assert.All(ids.Except(startedOnFrozen), id => Assert.Single(infos[id].Attempts));

            // The scheduler's lease went to another member, at a higher epoch.
            await using var connection = new Npgsql.NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("SELECT owner, epoch FROM jobs_leases WHERE name LIKE '%singleton%'", connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.DoesNotContain(":" + frozenAddress.Port!.Value.ToString(CultureInfo.InvariantCulture) + "#", reader.GetString(0), StringComparison.Ordinal);
            Assert.True(reader.GetInt64(1) >= 2);
            Console.WriteLine($"froze the scheduler's member: removed after {removedAfter.TotalSeconds:F1} s; resumed, it stopped itself after {stoppedAfter.TotalSeconds:F1} s; {again.Count} of {ids.Count} jobs ran twice (all started there before the freeze)");
        }
        finally
        {
            foreach (var process in processes.Where(p => !p.HasExited))
            {
                Signal("CONT", process);
                process.StandardInput.Close();
                if (!process.WaitForExit(20_000))
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            if (local is not null)
            {
                await local.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Starts node-b (a process, the seed and so the oldest: the scheduler's member), node-a in this process and
    /// node-c (a process) on <paramref name="database"/>, each logging its starts to &lt;name&gt;.log in
    /// <paramref name="directory"/>, and waits until all three are up.
    /// </summary>
    private static async Task<(TestNode Local, Process Oldest)> StartClusterAsync(string database, string directory, List<Process> processes)
    {
        var seedPort = Ports.Free();
        var oldest = StartMember(database, Path.Combine(directory, "b.log"), seedPort, seedPort, "node-b");
        processes.Add(oldest);
        await WaitForUpAsync(oldest);
        var local = await TestNode.StartAsync(Backend.Postgres, manualClock: false, storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{database}\" }}",
            extraConfig: $$"""
                jobs.node.name = node-a
                jobs.defaults { max-attempts = 5, timeout = 1m, backoff { min = 100ms, max = 1s, jitter = 0 } }
                akka.remote.dot-netty.tcp.port = {{Ports.Free()}}
                akka.cluster.seed-nodes = ["akka.tcp://jobs@127.0.0.1:{{seedPort}}"]
                """,
            services: s => s.AddSingleton(new StartLog(Path.Combine(directory, "a.log"), Blocking: false, "node-a")),
            jobs: b => b.AddHandler<WorkHandler, WorkPayload>("work"));
        var other = StartMember(database, Path.Combine(directory, "c.log"), Ports.Free(), seedPort, "node-c");
        processes.Add(other);
        await WaitForUpAsync(other);
        var cluster = Cluster.Get(local.Node.System!);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (cluster.State.Members.Count(m => m.Status == MemberStatus.Up) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the three members did not all come up");
            await Task.Delay(100);
        }

        return (local, oldest);
    }

    private static void Signal(string signal, Process process)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static Process StartMember(string database, string log, int port, int seedPort, string name) =>
        CrashNodeProcess.Start("member", database, log, port.ToString(CultureInfo.InvariantCulture), seedPort.ToString(CultureInfo.InvariantCulture), name);

    private static async Task WaitForUpAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "up")
            {
                return;
            }
        }

        throw new InvalidOperationException("a member process exited before it was up: " + await process.StandardError.ReadToEndAsync(timeout.Token));
    }

    private static List<(string Id, int Attempt)> Starts(string log) =>
        !File.Exists(log) ? [] : [.. File.ReadAllLines(log).Where(l => l.StartsWith("start ", StringComparison.Ordinal)).Select(l => l.Split(' ')).Select(p => (p[1], int.Parse(p[2], CultureInfo.InvariantCulture)))];
}
