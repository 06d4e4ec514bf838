using BenchmarkDotNet.Attributes;
using Jobs.Runtime.Actors;

namespace Jobs.Benchmarks.Runtime;

/// <summary>The round trip of one Ask (request to an actor and its reply back to an awaiting caller).</summary>
[MemoryDiagnoser]
public class AskBenchmarks
{
    private ActorSystem _system = null!;
    private IActorRef _echo = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _echo = _system.ActorOf(Props.Create(() => new Echo()));
    }

    [GlobalCleanup]
    public void Cleanup() => _system.TerminateAsync().GetAwaiter().GetResult();

    [Benchmark]
    public Task<string> AskRoundTrip() => _echo.Ask<string>("ping", TimeSpan.FromSeconds(5));

    private sealed class Echo : ActorBase
    {
        protected override bool Receive(object message)
        {
            Sender.Tell(message, Self);
            return true;
        }
    }
}
