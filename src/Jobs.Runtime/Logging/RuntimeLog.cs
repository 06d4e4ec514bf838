using Microsoft.Extensions.Logging;

namespace Jobs.Runtime.Logging;

/// <summary>The runtime's log messages, compiled once by the logging source generator.</summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Dead letter {MessageType} to {Recipient} ({Count}){Note}")]
    public static partial void DeadLetterReceived(this ILogger logger, string messageType, string recipient, long count, string note);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Child {Child} failed; directive {Directive}")]
    public static partial void ChildFailed(this ILogger logger, Exception error, string child, string directive);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "System message {MessageType} failed in {Actor}")]
    public static partial void SystemMessageFailed(this ILogger logger, Exception error, string actor, string messageType);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Actor {Actor} failed while stopping")]
    public static partial void FailureWhileStopping(this ILogger logger, Exception error, string actor);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "The root actor {Actor} failed; stopping the system")]
    public static partial void RootFailure(this ILogger logger, Exception error, string actor);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "PreRestart of {Actor} threw")]
    public static partial void PreRestartFailed(this ILogger logger, Exception error, string actor);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "PostStop of {Actor} threw")]
    public static partial void PostStopFailed(this ILogger logger, Exception error, string actor);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Shutdown phase {Phase} started ({Reason})")]
    public static partial void ShutdownPhaseStarted(this ILogger logger, string phase, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Shutdown task {Task} in phase {Phase} did not finish within {Timeout}; continuing")]
    public static partial void ShutdownTaskTimedOut(this ILogger logger, string task, string phase, TimeSpan timeout);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "Shutdown task {Task} in phase {Phase} failed; continuing")]
    public static partial void ShutdownTaskFailed(this ILogger logger, Exception error, string task, string phase);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Actor system {System} started")]
    public static partial void SystemStarted(this ILogger logger, string system);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Actor system {System} terminated")]
    public static partial void SystemTerminated(this ILogger logger, string system);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Backoff supervisor {Actor}: child stopped or failed; restarting it in {Delay}")]
    public static partial void BackoffRestart(this ILogger logger, string actor, TimeSpan delay);
}
