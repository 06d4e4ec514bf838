namespace Jobs.Runtime.Supervision;

/// <summary>When a backoff supervisor recreates its child.</summary>
public enum BackoffMode
{
    /// <summary>Recreate the child whenever it stops (for whatever reason).</summary>
    OnStop,

    /// <summary>Recreate the child only when it fails; a child that stops normally stops the supervisor too.</summary>
    OnFailure,
}
