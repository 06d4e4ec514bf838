using System.Collections.Concurrent;
using Jobs.Runtime.Actors;
using Jobs.Runtime.Lifecycle;

namespace Jobs.Runtime.Tests.Lifecycle;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Terminate_RunsPhasesInOrder_ThenStopsActors()
    {
        var system = ActorSystem.Create("shutdown-order");
        var log = new ConcurrentQueue<string>();
        system.CoordinatedShutdown.AddTask(ShutdownPhase.ServiceStop, "stop", _ => Record(log, "service-stop"));
        system.CoordinatedShutdown.AddTask(ShutdownPhase.ServiceUnbind, "unbind", _ => Record(log, "unbind"));
        system.CoordinatedShutdown.AddTask(ShutdownPhase.BeforeActorSystemTerminate, "flush", _ => Record(log, "flush"));
        system.ActorOf(Props.Create(() => new Recorder(log)), "recorder");
        await system.TerminateAsync();
        Assert.Equal(["unbind", "service-stop", "flush", "actor-stopped"], log);
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task Terminate_TaskExceedsPhaseTimeout_ShutdownContinuesWithinDeadline()
    {
        var settings = new ActorSystemSettings { ShutdownPhaseTimeout = TimeSpan.FromMilliseconds(200), ShutdownDeadline = TimeSpan.FromSeconds(5) };
        var system = ActorSystem.Create("shutdown-timeout", settings);
        var log = new ConcurrentQueue<string>();
        system.CoordinatedShutdown.AddTask(ShutdownPhase.ServiceRequestsDone, "hangs", ct => Task.Delay(Timeout.Infinite, ct));
        system.CoordinatedShutdown.AddTask(ShutdownPhase.ServiceStop, "after", _ => Record(log, "after"));
        var started = DateTime.UtcNow;
        await system.TerminateAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["after"], log);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Terminate_Twice_ReturnsSameRun_AndAddTaskAfterStartFails()
    {
        var system = ActorSystem.Create("shutdown-twice");
        var first = system.TerminateAsync("first");
        var second = system.TerminateAsync("second");
        Assert.Same(first, second);
        await first;
        Assert.Equal("first", system.CoordinatedShutdown.Reason);
        Assert.Throws<InvalidOperationException>(() => system.CoordinatedShutdown.AddTask(ShutdownPhase.ServiceStop, "late", _ => Task.CompletedTask));
    }

    [Fact]
    public async Task Terminate_FailingTask_DoesNotStopShutdown()
    {
        var system = ActorSystem.Create("shutdown-fail");
        system.CoordinatedShutdown.AddTask(ShutdownPhase.ServiceStop, "fails", _ => throw new InvalidOperationException("bad"));
        await system.TerminateAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Fact]
    public void Create_BadName_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => ActorSystem.Create("bad name!"));
        Assert.Contains("bad name!", error.Message, StringComparison.Ordinal);
    }

    private static Task Record(ConcurrentQueue<string> log, string entry)
    {
        log.Enqueue(entry);
        return Task.CompletedTask;
    }

    private sealed class Recorder(ConcurrentQueue<string> log) : ActorBase
    {
        protected override void PostStop() => log.Enqueue("actor-stopped");

        protected override bool Receive(object message) => true;
    }
}
