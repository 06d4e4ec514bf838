namespace Jobs.Client;

/// <summary>How one attempt at running a job ended.</summary>
public enum AttemptOutcome
{
    /// <summary>Still running.</summary>
    Running,

    /// <summary>The handler succeeded.</summary>
    Succeeded,

    /// <summary>The handler threw or asked for a retry.</summary>
    Failed,

    /// <summary>The handler failed the job permanently.</summary>
    FailedPermanently,

    /// <summary>The run timeout passed.</summary>
    TimedOut,

    /// <summary>The job was cancelled while running.</summary>
    Cancelled,

    /// <summary>The node running it died; the attempt is lost (counted against timeout retries).</summary>
    Lost,

    /// <summary>The node shut down while it ran; it runs again (not counted).</summary>
    Interrupted,

    /// <summary>The handler asked to run again later (not counted as an attempt).</summary>
    Snoozed,
}
