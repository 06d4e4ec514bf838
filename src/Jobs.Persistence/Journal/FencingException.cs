namespace Jobs.Persistence.Journal;

/// <summary>A fenced write was refused: the lease is held by someone else, at another epoch, or has expired.</summary>
public sealed class FencingException : Exception
{
    /// <summary>Creates the exception for the fence that failed.</summary>
    public FencingException(WriteFence fence)
        : base($"write refused: lease '{fence.LeaseName}' is no longer held by '{fence.Owner}' at epoch {fence.Epoch}")
    {
        Fence = fence;
    }

    /// <summary>The failed precondition.</summary>
    public WriteFence Fence { get; }
}
