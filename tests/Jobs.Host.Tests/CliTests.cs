using System.Diagnostics;
using System.Text.Json;
using Jobs.Cli;

namespace Jobs.Host.Tests;

/// <summary>The `jobs` command run as a process against a real node: output and exit codes.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private TestHost _host = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartAsync();
        _directory = Directory.CreateTempSubdirectory("jobs-cli-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Schedule_Get_List_Count_Cancel_Destroy()
    {
        var scheduled = await RunAsync("schedule", "echo", """{"text":"from the cli"}""", "--id", "cli-job", "--json");
        Assert.Equal(ExitCodes.Ok, scheduled.Code);
        Assert.Equal("cli-job", JsonDocument.Parse(scheduled.Out).RootElement.GetProperty("jobId").GetString());

        var status = "";
        for (var i = 0; i < 100 && status != "succeeded"; i++)
        {
            await Task.Delay(50);
            var get = await RunAsync("get", "cli-job", "--json");
            status = JsonDocument.Parse(get.Out).RootElement.GetProperty("status").GetString()!;
        }

        Assert.Equal("succeeded", status);
        var human = await RunAsync("status", "cli-job");
        Assert.Contains("Succeeded", human.Out, StringComparison.Ordinal);
        Assert.Contains("from the cli", human.Out, StringComparison.Ordinal);

        var payloadFile = Path.Combine(_directory, "payload.json");
        await File.WriteAllTextAsync(payloadFile, """{"milliseconds":1}""");
        var later = await RunAsync("schedule", "sleep", "@" + payloadFile, "--in", "1h", "--priority", "5", "--id", "later");
        Assert.Equal(ExitCodes.Ok, later.Code);
        Assert.Contains("scheduled later", later.Out, StringComparison.Ordinal);

        var list = await RunAsync("list", "--status", "scheduled", "--json");
        Assert.Equal("later", JsonDocument.Parse(list.Out).RootElement.GetProperty("items")[0].GetProperty("id").GetString());
        var table = await RunAsync("list");
        Assert.Contains("later", table.Out, StringComparison.Ordinal);
        Assert.Contains("cli-job", table.Out, StringComparison.Ordinal);

        var count = await RunAsync("count", "--json");
        var counts = JsonDocument.Parse(count.Out).RootElement;
        Assert.Equal(1, counts.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, counts.GetProperty("scheduled").GetInt32());

        Assert.Equal(ExitCodes.Ok, (await RunAsync("reschedule", "later", "--in", "2h")).Code);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("cancel", "later")).Code);
        var again = await RunAsync("cancel", "later");
        Assert.Equal(ExitCodes.Conflict, again.Code);
        Assert.Contains("Cancelled", again.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("retry", "later")).Code); // cancelled: runs again
        Assert.Equal(ExitCodes.Conflict, (await RunAsync("retry", "later")).Code); // waiting: nothing to retry
        Assert.Equal(ExitCodes.Ok, (await RunAsync("destroy", "later")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("get", "later")).Code);

        var nodes = await RunAsync("nodes");
        Assert.Contains("api-test", nodes.Out, StringComparison.Ordinal);
        Assert.Contains("(this node)", nodes.Out, StringComparison.Ordinal); // the cluster's one member
        Assert.Contains("Up", nodes.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recurring_Unique_Queues_FromTheCli()
    {
        var cron = await RunAsync(
            "schedule",
            "echo",
            """{"text":"tick"}""",
            "--cron",
            "*/5 * * * *",
            "--zone",
            "America/New_York",
            "--name",
            "ticker",
            "--json"
        );
        Assert.Equal(ExitCodes.Ok, cron.Code);
        var info = JsonDocument.Parse(cron.Out).RootElement;
        Assert.Equal("ticker", info.GetProperty("name").GetString());
        Assert.Equal("America/New_York", info.GetProperty("timeZone").GetString());
        Assert.Equal(0, info.GetProperty("nextOccurrence").GetDateTimeOffset().Minute % 5);
        var every = await RunAsync("schedule", "echo", """{"text":"e"}""", "--every", "1h");
        Assert.Equal(ExitCodes.Ok, every.Code);
        Assert.Contains("recurring echo: next", every.Out, StringComparison.Ordinal);

        var table = await RunAsync("recurring");
        Assert.Contains("ticker", table.Out, StringComparison.Ordinal);
        Assert.Contains("cron */5 * * * * (America/New_York)", table.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("recurring", "pause", "ticker")).Code);
        Assert.Contains("Paused", (await RunAsync("recurring", "get", "ticker")).Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("recurring", "delete", "ticker")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("recurring", "get", "ticker")).Code);

        var badCron = await RunAsync("schedule", "echo", "--cron", "61 * * * *");
        Assert.Equal(ExitCodes.Invalid, badCron.Code);
        Assert.Contains("cron", badCron.Err, StringComparison.Ordinal);
        Assert.Contains("outside 0-59", badCron.Err, StringComparison.Ordinal);
        var badZone = await RunAsync("schedule", "echo", "--cron", "@daily", "--zone", "Nowhere/City");
        Assert.Equal(ExitCodes.Invalid, badZone.Code);
        Assert.Contains("timeZone", badZone.Err, StringComparison.Ordinal);

        Assert.Contains(
            "scheduled u:echo:order-1",
            (await RunAsync("schedule", "echo", "{\"text\":\"o\"}", "--unique", "order-1", "--in", "1h")).Out,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "exists u:echo:order-1",
            (await RunAsync("schedule", "echo", "{\"text\":\"o\"}", "--unique", "order-1", "--in", "1h")).Out,
            StringComparison.Ordinal
        );
        Assert.Equal(
            ExitCodes.Conflict,
            (await RunAsync("schedule", "echo", "{\"text\":\"o\"}", "--unique", "order-1", "--on-conflict", "reject")).Code
        );

        Assert.Equal(ExitCodes.Ok, (await RunAsync("queues", "pause", "default")).Code);
        Assert.Contains("yes", (await RunAsync("queues")).Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("queues", "resume", "default")).Code);
        Assert.Equal(ExitCodes.Invalid, (await RunAsync("queues", "pause", "nope")).Code);
    }

    [Fact]
    public async Task ScheduleMany_FromJsonLines_ReportsPartialFailures()
    {
        var file = Path.Combine(_directory, "jobs.jsonl");
        await File.WriteAllLinesAsync(
            file,
            [
                .. Enumerable
                    .Range(0, 25)
                    .Select(i =>
                        """{"kind":"echo","payload":{"text":"nX"}}""".Replace(
                            "X",
                            i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            StringComparison.Ordinal
                        )
                    ),
                """{"kind":"missing"}""",
            ]
        );
        var result = await RunAsync("schedule-many", file, "--chunk", "10", "--json");
        Assert.Equal(ExitCodes.Failure, result.Code); // one request failed
        var summary = JsonDocument.Parse(result.Out).RootElement;
        Assert.Equal(25, summary.GetProperty("scheduled").GetInt32());
        Assert.Equal(26, summary.GetProperty("failed")[0].GetProperty("request").GetInt32());
        Assert.Contains("1 of 26 requests failed", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_OneJob_PrintsItsTransitions_AndEnds()
    {
        var id = JsonDocument
            .Parse((await RunAsync("schedule", "fail-n-times", """{"times":1}""", "--in", "2s", "--json")).Out)
            .RootElement.GetProperty("jobId")
            .GetString()!;
        var watch = await RunAsync("watch", id, "--json");
        Assert.Equal(ExitCodes.Ok, watch.Code);
        var changes = watch.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("succeeded", changes[^1].GetProperty("status").GetString());
        Assert.Contains(changes, c => c.GetProperty("outcome").ValueKind == JsonValueKind.String && c.GetProperty("outcome").GetString() == "failed");
    }

    [Fact]
    public async Task ExitCodes_And_Messages_ForBadInputAndConnectionFailures()
    {
        var invalid = await RunAsync("schedule", "no-such-kind");
        Assert.Equal(ExitCodes.Invalid, invalid.Code);
        Assert.Contains("'no-such-kind' is not a registered job kind", invalid.Err, StringComparison.Ordinal);

        var emptyId = await RunAsync("get", "");
        Assert.Equal(ExitCodes.Invalid, emptyId.Code);
        Assert.Contains("jobId: is required", emptyId.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", emptyId.Err, StringComparison.Ordinal);
        var noPayload = await RunAsync("schedule", "echo");
        Assert.Equal(ExitCodes.Invalid, noPayload.Code);
        Assert.Contains("payload", noPayload.Err, StringComparison.Ordinal);
        var badJson = await RunAsync("schedule", "echo", "{not json");
        Assert.Equal(ExitCodes.Invalid, badJson.Code);
        Assert.Contains("payload", badJson.Err, StringComparison.Ordinal);

        var badDuration = await RunAsync("schedule", "echo", "--in", "soon");
        Assert.Equal(ExitCodes.Invalid, badDuration.Code);
        Assert.Contains("--in", badDuration.Err, StringComparison.Ordinal);

        var usage = await RunAsync("frobnicate");
        Assert.Equal(ExitCodes.Invalid, usage.Code);

        var down = await RunAsync(["nodes", "--url", "http://127.0.0.1:1"], withUrl: false);
        Assert.Equal(ExitCodes.Unavailable, down.Code);
        Assert.Contains("cannot reach a Jobs node at http://127.0.0.1:1", down.Err, StringComparison.Ordinal);
    }

    private Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => RunAsync(args, withUrl: true);

    private async Task<(int Code, string Out, string Err)> RunAsync(string[] args, bool withUrl)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "jobs.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (withUrl)
        {
            start.ArgumentList.Add("--url");
            start.ArgumentList.Add(_host.Address.ToString());
        }

        start.Environment.Remove("JOBS_URL");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output, await error);
    }
}
