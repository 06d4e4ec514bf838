using System.Diagnostics;

namespace Jobs.Actors.Tests;

/// <summary>Starts tests/Jobs.CrashNode (a job node in its own process, for tests that kill it) with its streams redirected.</summary>
internal static class CrashNodeProcess
{
    public static Process Start(params string[] arguments) => Start(TimeSpan.Zero, arguments);

    /// <summary>
    /// Starts it with its clock <paramref name="clockSkew"/> ahead (negative: behind) of the machine's, wall clock and
    /// monotonic clock alike, through libfaketime (Debian's faketime package).
    /// </summary>
    public static Process Start(TimeSpan clockSkew, params string[] arguments)
    {
        var start = new ProcessStartInfo(clockSkew == TimeSpan.Zero ? "dotnet" : "faketime")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (clockSkew != TimeSpan.Zero)
        {
            // Faking the monotonic clock too keeps timed waits right: libfaketime shifts their deadlines either way.
            start.ArgumentList.Add("-f");
            start.ArgumentList.Add(
                (clockSkew < TimeSpan.Zero ? "-" : "+")
                    + ((long)clockSkew.Duration().TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)
                    + "s"
            );
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Jobs.CrashNode.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex) when (clockSkew != TimeSpan.Zero)
        {
            throw new InvalidOperationException("a member with a skewed clock needs faketime (apt-get install faketime; .ci/run installs it)", ex);
        }
    }
}
