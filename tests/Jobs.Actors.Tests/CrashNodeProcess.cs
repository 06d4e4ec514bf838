using System.Diagnostics;

namespace Jobs.Actors.Tests;

/// <summary>Starts tests/Jobs.CrashNode (a job node in its own process, for tests that kill it) with its streams redirected.</summary>
internal static class CrashNodeProcess
{
    public static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Jobs.CrashNode.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
