namespace Jobs.TestKit;

/// <summary>A test-kit expectation was not met (the message says what was expected and what happened).</summary>
public sealed class TestKitAssertionException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public TestKitAssertionException(string message)
        : base(message) { }

    /// <summary>Creates the exception with a message and the last failure seen.</summary>
    public TestKitAssertionException(string message, Exception innerException)
        : base(message, innerException) { }
}
