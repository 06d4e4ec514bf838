using System.Diagnostics;
using Jobs.Runtime.Actors;

namespace Jobs.Benchmarks.Runtime;

/// <summary>
/// Whole-process measurements BenchmarkDotNet cannot express: bytes per idle actor (managed heap after a full
/// GC, divided by the number of actors) and the time to spawn (and start) one million actors.
/// </summary>
internal static class ScaleProbe
{
    public static async Task RunAsync(int actors)
    {
        var system = ActorSystem.Create("scale");
        try
        {
            // Warm up the code paths so JIT allocations are not counted.
            await SpawnAsync(system, 10_000, "warmup");

            var before = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            await SpawnAsync(system, actors, "idle");
            var elapsed = clock.Elapsed;
            var after = GC.GetTotalMemory(forceFullCollection: true);
            var perActor = (after - before) / (double)actors;
            Console.WriteLine($$"""{"benchmark":"spawn","actors":{{actors}},"seconds":{{elapsed.TotalSeconds:F3}},"actors_per_s":{{actors / elapsed.TotalSeconds:F0}}}""");
            Console.WriteLine($$"""{"benchmark":"idle-memory","actors":{{actors}},"bytes_per_actor":{{perActor:F0}}}""");
        }
        finally
        {
            await system.TerminateAsync();
        }
    }

    private static async Task SpawnAsync(ActorSystem system, int count, string name)
    {
        using var started = new CountdownEvent(count);
        var parent = system.ActorOf(Props.Create(() => new Holder()), name);
        var props = Props.Create(() => new SpawnBenchmarks.Idle(started));
        await parent.Ask<string>(new Fill(count, props), TimeSpan.FromMinutes(2));
        await Task.Run(() => started.Wait());
    }

    private sealed record Fill(int Count, Props Props);

    private sealed class Holder : ActorBase
    {
        protected override bool Receive(object message)
        {
            if (message is Fill fill)
            {
                for (var i = 0; i < fill.Count; i++)
                {
                    Context.ActorOf(fill.Props);
                }

                Sender.Tell("filled", Self);
                return true;
            }

            return false;
        }
    }
}
