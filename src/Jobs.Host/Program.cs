using Jobs.Host;

NodeOptions options;
try
{
    options = NodeOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("jobs: " + ex.Message);
    return 2;
}

try
{
    await using var app = JobsHost.Build(options);
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    // Bad configuration or an unreachable database: say what failed in one line, not an unhandled-exception dump.
    await Console.Error.WriteLineAsync($"jobs: the node stopped: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
