namespace Jobs.Client;

/// <summary>A request to the job system failed; <see cref="ErrorCode"/> is stable for programs to branch on.</summary>
public class JobsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobsException(string errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>A stable, machine-readable code such as "job-not-found" or "invalid-request".</summary>
    public string ErrorCode { get; }
}
