using System.Globalization;
using BenchmarkDotNet.Running;
using Jobs.Benchmarks.Runtime;

// `scale [actors]` runs the whole-process probes (idle memory, 1M spawn); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "scale")
{
    var actors = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    await ScaleProbe.RunAsync(actors);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(PingPongBenchmarks).Assembly).Run(args);
