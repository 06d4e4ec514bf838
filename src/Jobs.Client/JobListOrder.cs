namespace Jobs.Client;

/// <summary>The order of a job list.</summary>
public enum JobListOrder
{
    /// <summary>The order jobs run in: highest priority first, then earliest due, then id. The default.</summary>
    Backlog,

    /// <summary>Most recently changed first (the latest scheduled, started or finished at the top), then id.</summary>
    Newest,
}
