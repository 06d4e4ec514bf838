namespace Jobs.Runtime.Supervision;

/// <summary>Restart bookkeeping a supervisor keeps per child.</summary>
internal sealed class ChildRestartStats
{
    public int RestartCount;
    public long WindowStartTicks;
}
