using System.Globalization;
using BenchmarkDotNet.Running;
using Jobs.Benchmarks.Runtime;

// `scale [actors]`: whole-process probes (idle memory, 1M spawn). `persistence [backends]`: journal throughput.
// `load [workload|all] [sqlite|postgres|http|http-sqlite ...]`: end-to-end job workloads; `load chart IN.jsonl OUT.svg`.
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

if (args.Length > 0 && args[0] == "load")
{
    await Jobs.Benchmarks.Load.LoadTool.RunAsync(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(PingPongBenchmarks).Assembly).Run(args);
