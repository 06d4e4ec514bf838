using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests;

/// <summary>Handler registration, per-kind options, payload binding and the cancel grace period.</summary>
public sealed class HandlerApiTests
{
    [Fact]
    public void RegisteringAKindTwice_IsAnError_NamingTheKind()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<InvalidOperationException>(() =>
            services.AddJobs(jobs => jobs.AddHandler<EchoHandler, EchoPayload>("echo").AddHandler<FailHandler, FailPayload>("echo"))
        );
        Assert.Contains("'echo'", error.Message, StringComparison.Ordinal);
        Assert.Contains("already registered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KindNames_AreValidated()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<ArgumentException>(() => services.AddJobs(jobs => jobs.AddHandler<EchoHandler, EchoPayload>("bad kind/name")));
        Assert.Contains("bad kind/name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PayloadSerializerOptions_SetAfterTheHandlers_StillApply()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory, jobs: j =>
        {
            j.AddHandler<SnakeHandler, SnakePayload>("snake");
            j.PayloadSerializerOptions = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)
            {
                PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
            };
        });
        var payload = System.Text.Json.JsonDocument.Parse("""{"the_text":"snake"}""").RootElement;
        var id = (await node.Client.ScheduleAsync(new ScheduleRequest { Kind = "snake", Payload = payload })).JobId;
        await node.WaitForStatusAsync(id, JobStatus.Succeeded);
    }

    [Fact]
    public async Task DefaultKind_IsThePayloadTypeName()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory, jobs: j => j.AddHandler<OtherEchoHandler, OtherEcho>());
        var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create(nameof(OtherEcho), new OtherEcho("x")))).JobId;
        await node.WaitForStatusAsync(id, JobStatus.Succeeded);
    }

    [Fact]
    public async Task KindOptions_Apply_AndARequestOverridesThem()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory, jobs: j =>
            j.AddHandler<FailHandler, FailPayload>("fail-once", new JobKindOptions { MaxAttempts = 1, Queue = "slow" })
        );
        var byKind = (await node.Client.ScheduleAsync(ScheduleRequest.Create("fail-once", new FailPayload(5)))).JobId;
        var info = await node.WaitForStatusAsync(byKind, JobStatus.Failed);
        Assert.Equal(1, info.MaxAttempts);
        Assert.Equal("slow", info.Queue);

        var overridden = (await node.Client.ScheduleAsync(ScheduleRequest.Create("fail-once", new FailPayload(5)) with { MaxAttempts = 2 })).JobId;
        await WaitUntilAsync(async () =>
            (await node.Client.GetAsync(overridden)).Attempts.Count == 1 && (await node.Client.GetAsync(overridden)).Status == JobStatus.Scheduled
        );
        node.Clock!.Advance(TimeSpan.FromSeconds(1));
        info = await node.WaitForStatusAsync(overridden, JobStatus.Failed);
        Assert.Equal(2, info.AttemptCount);
    }

    [Fact]
    public async Task PayloadNotMatchingTheType_IsRefusedAtTheDoor_NamingWhereItDiffers()
    {
        // Bound once at schedule time exactly as the worker binds it: a payload the handler could never receive is
        // refused with the field named, instead of being stored and failing every attempt.
        await using var node = await TestNode.StartAsync(Backend.Memory);
        var request = new ScheduleRequest
        {
            Kind = "fail",
            Payload = System.Text.Json.JsonDocument.Parse("""{"failTimes":"not a number"}""").RootElement,
        };
        var refused = await Assert.ThrowsAsync<JobValidationException>(() => node.Client.ScheduleAsync(request));
        Assert.Equal("payload", refused.Field);
        Assert.Contains("$.failTimes", refused.Message, StringComparison.Ordinal);
        Assert.Empty((await node.Client.ListAsync(new JobQuery())).Items);
    }

    [Fact]
    public async Task HandlerIgnoringItsToken_IsAbandonedAfterTheGrace_AndRecordedAsTimedOut()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory);
        var gate = "stubborn-" + Guid.NewGuid();
        var id = (
            await node.Client.ScheduleAsync(
                ScheduleRequest.Create("wait", new WaitPayload(gate, IgnoreToken: true)) with
                {
                    Timeout = TimeSpan.FromSeconds(5),
                }
            )
        ).JobId;
        await WaitUntilAsync(() => Task.FromResult(node.Log.Runs(id) == 1)); // started: its timeout is armed
        node.Clock!.Advance(TimeSpan.FromSeconds(5)); // timeout: the token is cancelled, the handler ignores it
        await Task.Delay(200);
        Assert.Equal(JobStatus.Running, (await node.Client.GetAsync(id)).Status);
        node.Clock.Advance(TimeSpan.FromSeconds(1)); // cancel-grace = 1s: the attempt is abandoned
        await WaitUntilAsync(async () => (await node.Client.GetAsync(id)).Status != JobStatus.Running);
        var info = await node.Client.GetAsync(id);
        Assert.Equal(AttemptOutcome.TimedOut, info.Attempts[0].Outcome);
        Assert.Contains("did not stop within", info.Attempts[0].Error, StringComparison.Ordinal);
        node.Log.Gates[gate].TrySetResult(); // the abandoned handler ends later: its result is dropped
        await Task.Delay(200);
        Assert.Equal(AttemptOutcome.TimedOut, (await node.Client.GetAsync(id)).Attempts[0].Outcome);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}

public sealed record OtherEcho(string Text);

public sealed record SnakePayload(string TheText);

public sealed class SnakeHandler : IJobHandler<SnakePayload>
{
    public Task<JobOutcome> HandleAsync(SnakePayload payload, JobContext context) =>
        Task.FromResult(payload.TheText == "snake" ? JobOutcome.Success() : JobOutcome.Fail("bound without the naming policy"));
}

public sealed class OtherEchoHandler : IJobHandler<OtherEcho>
{
    public Task<JobOutcome> HandleAsync(OtherEcho payload, JobContext context) => Task.FromResult(JobOutcome.Success());
}
