namespace Jobs.Testing.Faults;

/// <summary>
/// The fault suite's size and its report: the short versions run in CI; <c>JOBS_FAULTS=full</c> (scripts/faults.sh)
/// runs each scenario at the size its issue names. Every scenario prints one line (and appends it to the file named
/// by <c>JOBS_FAULTS_REPORT</c> when set).
/// </summary>
public static class FaultReport
{
    /// <summary>Whether the suite runs at full size.</summary>
    public static bool Full => Environment.GetEnvironmentVariable("JOBS_FAULTS") == "full";

    /// <summary>
    /// HOCON every member of a fault scenario adds to its configuration (<c>JOBS_FAULTS_CONFIG</c>; the member
    /// processes inherit the variable and read it themselves), to run the suite with a setting changed; empty when unset.
    /// </summary>
    public static string ExtraConfig => Environment.GetEnvironmentVariable("JOBS_FAULTS_CONFIG") ?? string.Empty;

    /// <summary>Prints a scenario's line: "fault-suite short|full | scenario | ok|FAILED | check | figures".</summary>
    public static void Write(string scenario, QueueCheck check, string figures)
    {
        ArgumentNullException.ThrowIfNull(check);
        var line = $"fault-suite {(Full ? "full" : "short")} | {scenario} | {(check.Valid ? "ok" : "FAILED")} | {check} | {figures}";
        Console.WriteLine(line);
        if (Environment.GetEnvironmentVariable("JOBS_FAULTS_REPORT") is { Length: > 0 } report)
        {
            File.AppendAllText(report, line + Environment.NewLine);
        }
    }
}
