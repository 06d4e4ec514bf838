using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Jobs.Actors.Tests;

/// <summary>
/// kill -9 a node on SQLite while it schedules and runs jobs, start a new process on the same file: every acknowledged
/// job runs to success; a job runs twice only if it was running at the kill, and then its first attempt is recorded
/// as lost; a job that only waited in prefetch has no lost attempt (issue 16, bug 1).
/// </summary>
public sealed class StaleRecoveryTests
{
    [Fact]
    public async Task KilledNode_AcknowledgedJobsAllSucceed_OnlyJobsRunningAtTheKillRunTwice()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-kill-").FullName;
        try
        {
            var db = Path.Combine(directory, "jobs.db");
            var log = Path.Combine(directory, "starts.log");

            // 1. Schedule until the blocking jobs hold every worker and plenty of jobs were acknowledged (the first of
            //    them held in prefetch, never started); then SIGKILL.
            var acked = new List<string>();
            using (var first = Start("schedule", db, log))
            {
                var stderr = first.StandardError.ReadToEndAsync();
                var enough = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (await first.StandardOutput.ReadLineAsync() is { } line)
                {
                    acked.Add(line["ack ".Length..]);
                    if (acked.Count >= 300 && Starts(log).Count(s => s.Id.StartsWith("block-", StringComparison.Ordinal)) == 4)
                    {
                        break;
                    }

                    Assert.True(
                        DateTime.UtcNow < enough,
                        "the first node did not get far enough: " + (first.HasExited ? await stderr : "still running")
                    );
                }

                first.Kill(entireProcessTree: true);
                await first.WaitForExitAsync();
            }

            var startsBefore = Starts(log);
            Assert.All(new[] { "block-1", "block-2", "block-3", "block-4" }, id => Assert.Contains(startsBefore, s => s.Id == id));

            // 2. A new process on the same file finishes every acknowledged job.
            var results = new Dictionary<string, (string Status, string[] Outcomes)>();
            using (var second = Start("recover", db, log))
            {
                var stderr = second.StandardError.ReadToEndAsync();
                foreach (var id in acked)
                {
                    await second.StandardInput.WriteLineAsync(id);
                }

                await second.StandardInput.WriteLineAsync();
                while (await second.StandardOutput.ReadLineAsync() is { } line && line != "done")
                {
                    var parts = line.Split(' ');
                    results[parts[1]] = (parts[2], parts[3].Split(','));
                }

                await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.True(second.ExitCode == 0, "the recovering node failed: " + await stderr);
            }

            Assert.Equal(acked.Count, results.Count);
            var starts = Starts(log).GroupBy(s => s.Id).ToDictionary(g => g.Key, g => g.Count());
            foreach (var id in acked)
            {
                var (status, outcomes) = results[id];
                Assert.True(status == "Succeeded", $"{id} ended {status}: {string.Join(',', outcomes)}");
                var lost = outcomes.Count(o => o == "Lost");
                Assert.True(lost <= 1, $"{id}: {lost} lost attempts");
                if (!startsBefore.Any(s => s.Id == id))
                {
                    // Its handler never started before the kill (at most it waited in prefetch): nothing to count as lost.
                    Assert.True(lost == 0, $"{id} never started before the kill, yet has a lost attempt: {string.Join(',', outcomes)}");
                }

                // One run, plus one per attempt lost with the killed process: never a second run of finished work.
                Assert.Equal(1 + lost, starts[id]);
            }

            Assert.All(new[] { "block-1", "block-2", "block-3", "block-4" }, id => Assert.Equal(["Lost", "Succeeded"], results[id].Outcomes));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static List<(string Id, int Attempt)> Starts(string log) =>
        !File.Exists(log)
            ? []
            :
            [
                .. File.ReadAllLines(log)
                    .Where(l => l.StartsWith("start ", StringComparison.Ordinal))
                    .Select(l => l.Split(' '))
                    .Select(p => (p[2], int.Parse(p[3], System.Globalization.CultureInfo.InvariantCulture))),
            ];

    private static Process Start(string mode, string db, string log) => CrashNodeProcess.Start(mode, db, log);
}
