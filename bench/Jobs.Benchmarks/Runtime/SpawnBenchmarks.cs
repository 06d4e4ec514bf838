using BenchmarkDotNet.Attributes;
using Jobs.Runtime.Actors;

namespace Jobs.Benchmarks.Runtime;

/// <summary>Spawning 100k actors under one parent and stopping them all (stop the parent, wait for its termination).</summary>
[MemoryDiagnoser]
public class SpawnBenchmarks
{
    private const int Count = 100_000;
    private ActorSystem _system = null!;

    [GlobalSetup]
    public void Setup() => _system = ActorSystem.Create("bench");

    [GlobalCleanup]
    public void Cleanup() => _system.TerminateAsync().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Count)]
    public async Task SpawnAndStop100k()
    {
        var started = new CountdownEvent(Count);
        var parent = _system.ActorOf(Props.Create(() => new Parent()));
        var stopped = await parent.Ask<IActorRef>(new Spawn(Count, started));
        await Task.Run(started.Wait);
        var watcher = await stopped.Ask<Task>("watch-self");
        _system.Stop(parent);
        await watcher;
    }

    internal sealed record Spawn(int Count, CountdownEvent Started);

    private sealed class Parent : ActorBase
    {
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void PostStop() => _stopped.TrySetResult();

        protected override bool Receive(object message)
        {
            switch (message)
            {
                case Spawn spawn:
                    var props = Props.Create(() => new Idle(spawn.Started));
                    for (var i = 0; i < spawn.Count; i++)
                    {
                        Context.ActorOf(props);
                    }

                    Sender.Tell(Self, Self);
                    return true;
                case "watch-self":
                    Sender.Tell(_stopped.Task, Self);
                    return true;
                default:
                    return false;
            }
        }
    }

    internal sealed class Idle(CountdownEvent started) : ActorBase
    {
        protected override void PreStart() => started.Signal();

        protected override bool Receive(object message) => true;
    }
}
