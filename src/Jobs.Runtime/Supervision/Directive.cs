namespace Jobs.Runtime.Supervision;

/// <summary>What a supervisor does with a failed child.</summary>
public enum Directive
{
    /// <summary>Keep the child's state and continue with the next message (the failing message is dropped).</summary>
    Resume,

    /// <summary>Replace the child's instance with a fresh one; the mailbox is kept, the failing message is dropped.</summary>
    Restart,

    /// <summary>Stop the child.</summary>
    Stop,

    /// <summary>Fail the supervisor itself with the child's error, so its own supervisor decides.</summary>
    Escalate,
}
