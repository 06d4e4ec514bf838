using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Jobs.Runtime.Actors;

namespace Jobs.Benchmarks.Runtime;

/// <summary>
/// Messages per second between pairs of actors that bounce messages back and forth (Akka's PingPong), with a
/// raw Channel ping-pong between tasks as the baseline. Each pair keeps <see cref="InFlight"/> messages moving.
/// </summary>
[MemoryDiagnoser]
public class PingPongBenchmarks
{
    private const int MessagesPerPair = 200_000;
    private ActorSystem _system = null!;

    [Params(1, 16)]
    public int Pairs { get; set; }

    [Params(1, 32)]
    public int InFlight { get; set; }

    [GlobalSetup]
    public void Setup() => _system = ActorSystem.Create("bench", new ActorSystemSettings { Throughput = 100 });

    [GlobalCleanup]
    public void Cleanup() => _system.TerminateAsync().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = MessagesPerPair * 16)]
    public async Task Actors()
    {
        // Normalised: every configuration moves 16 * MessagesPerPair messages so the per-op time is per message.
        var perPair = MessagesPerPair * 16 / Pairs;
        var done = new CountdownEvent(Pairs);
        var actors = new List<IActorRef>();
        for (var p = 0; p < Pairs; p++)
        {
            var ponger = _system.ActorOf(Props.Create(() => new Ponger()));
            var pinger = _system.ActorOf(Props.Create(() => new Pinger(ponger, perPair, done)));
            actors.Add(ponger);
            actors.Add(pinger);
            for (var i = 0; i < InFlight; i++)
            {
                pinger.Tell(Ball.Instance, ponger);
            }
        }

        await Task.Run(done.Wait);
        foreach (var actor in actors)
        {
            _system.Stop(actor);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = MessagesPerPair * 16)]
    public async Task Channels()
    {
        var perPair = MessagesPerPair * 16 / Pairs;
        var tasks = new List<Task>();
        for (var p = 0; p < Pairs; p++)
        {
            var ping = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
            var pong = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
            for (var i = 0; i < InFlight; i++)
            {
                ping.Writer.TryWrite(Ball.Instance);
            }

            tasks.Add(Task.Run(async () =>
            {
                var received = 0;
                while (received < perPair / 2)
                {
                    var ball = await ping.Reader.ReadAsync();
                    received++;
                    pong.Writer.TryWrite(ball);
                }
            }));
            tasks.Add(Task.Run(async () =>
            {
                var received = 0;
                while (received < perPair / 2)
                {
                    var ball = await pong.Reader.ReadAsync();
                    received++;
                    ping.Writer.TryWrite(ball);
                }
            }));
        }

        await Task.WhenAll(tasks);
    }

    private sealed class Ball
    {
        public static readonly Ball Instance = new();
    }

    private sealed class Ponger : ActorBase
    {
        protected override bool Receive(object message)
        {
            Sender.Tell(message, Self);
            return true;
        }
    }

    private sealed class Pinger(IActorRef ponger, int messages, CountdownEvent done) : ActorBase
    {
        private int _received;

        protected override bool Receive(object message)
        {
            // Each round trip is two messages.
            _received += 2;
            if (_received < messages)
            {
                ponger.Tell(message, Self);
            }
            else if (_received == messages || _received == messages + 1)
            {
                done.Signal();
            }

            return true;
        }
    }
}
