using BenchmarkDotNet.Running;

// `load [workload|all] [sqlite|postgres|http|http-sqlite ...]`: end-to-end job workloads; `load chart IN.jsonl OUT.svg`.
// Anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "load")
{
    await Jobs.Benchmarks.Load.LoadTool.RunAsync(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Jobs.Benchmarks.Load.LoadTool).Assembly).Run(args);
