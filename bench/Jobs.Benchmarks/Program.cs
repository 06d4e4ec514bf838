using System.Globalization;
using BenchmarkDotNet.Running;
using Jobs.Benchmarks.Runtime;

// `scale [actors]`: whole-process probes (idle memory, 1M spawn). `persistence [backends]`: journal throughput.
// Anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "scale")
{
    var actors = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    await ScaleProbe.RunAsync(actors);
    return;
}

if (args.Length > 0 && args[0] == "persistence")
{
    foreach (var backend in args.Length > 1 ? args[1..] : ["sqlite", "postgres"])
    {
        await Jobs.Benchmarks.Persistence.PersistenceBench.RunAsync(backend);
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(PingPongBenchmarks).Assembly).Run(args);
