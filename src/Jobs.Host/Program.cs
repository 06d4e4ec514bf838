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

var app = JobsHost.Build(options);
await app.RunAsync();
return 0;
