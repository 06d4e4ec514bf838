using System.Globalization;

namespace Jobs.TestKit;

/// <summary>Test-kit timing: every default wait is multiplied by <see cref="TimeFactor"/> (slow CI machines set it higher).</summary>
public sealed record TestKitSettings
{
    /// <summary>The environment variable that sets the time factor.</summary>
    public const string TimeFactorVariable = "JOBS_TESTKIT_TIMEFACTOR";

    /// <summary>Multiplier for every test-kit wait. Default: 1, or the value of JOBS_TESTKIT_TIMEFACTOR.</summary>
    public double TimeFactor { get; init; } = 1.0;

    /// <summary>How long an expectation waits when no timeout is given (before the factor). Default: 3 s.</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long ExpectNoMsg waits when no duration is given (before the factor). Default: 100 ms.</summary>
    public TimeSpan DefaultNoMessageWait { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Settings from the environment (time factor) with the other defaults.</summary>
    public static TestKitSettings FromEnvironment()
    {
        var raw = Environment.GetEnvironmentVariable(TimeFactorVariable);
        if (string.IsNullOrWhiteSpace(raw))
        {
            return new TestKitSettings();
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) || factor <= 0 || double.IsInfinity(factor))
        {
            throw new InvalidOperationException($"{TimeFactorVariable}='{raw}' is not a positive number");
        }

        return new TestKitSettings { TimeFactor = factor };
    }

    /// <summary>Scales a duration by the time factor.</summary>
    public TimeSpan Dilated(TimeSpan duration) => TimeSpan.FromTicks((long)(duration.Ticks * TimeFactor));
}
