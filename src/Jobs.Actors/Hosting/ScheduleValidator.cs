using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Jobs.Actors.Handlers;
using Jobs.Actors.Jobs;
using Jobs.Client;

namespace Jobs.Actors.Hosting;

/// <summary>Checks a schedule request and turns it into the job's definition; every error names the field.</summary>
internal sealed partial class ScheduleValidator(JobsSettings settings, HandlerRegistry handlers, TimeProvider clock)
{
    private static readonly DateTimeOffset Latest = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static void ValidateJobId(string jobId, string field = "jobId")
    {
        if (string.IsNullOrEmpty(jobId) || jobId.Length > 128 || !IdPattern().IsMatch(jobId))
        {
            throw new JobValidationException(field, "must be 1-128 characters of letters, digits, '.', '_', '-' or ':' and start with a letter or digit");
        }
    }

    public JobScheduled Validate(ScheduleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Kind))
        {
            throw new JobValidationException("kind", "is required");
        }

        if (!handlers.TryGet(request.Kind, out var registration))
        {
            throw new JobValidationException("kind", $"'{Shorten(request.Kind)}' is not a registered job kind (known: {string.Join(", ", handlers.Kinds.Order(StringComparer.Ordinal))})");
        }

        var id = request.JobId ?? Guid.CreateVersion7().ToString("N");
        ValidateJobId(id);
        var options = registration.Options;
        var queue = request.Queue ?? options.Queue ?? "default";
        if (!JobsSettings.IsValidQueueName(queue))
        {
            throw new JobValidationException("queue", "must be 1-64 characters of letters, digits, '_' or '-' and start with a letter");
        }

        if (!settings.Queues.ContainsKey(queue))
        {
            throw new JobValidationException("queue", $"'{queue}' is not a configured queue (configured: {string.Join(", ", settings.Queues.Keys.Order(StringComparer.Ordinal))})");
        }

        var now = clock.GetUtcNow();
        if (request.RunAt is not null && request.Delay is not null)
        {
            throw new JobValidationException("runAt", "give either runAt or delay, not both");
        }

        DateTimeOffset due;
        if (request.Delay is { } delay)
        {
            if (delay < TimeSpan.Zero || delay > TimeSpan.FromDays(365 * 100))
            {
                throw new JobValidationException("delay", "must be between 0 and 100 years");
            }

            due = now + delay;
        }
        else
        {
            due = request.RunAt ?? now;
        }

        if (due >= Latest)
        {
            throw new JobValidationException(request.Delay is null ? "runAt" : "delay", "must be before the year 9999");
        }

        if (request.Priority is < -1_000_000 or > 1_000_000)
        {
            throw new JobValidationException("priority", "must be between -1000000 and 1000000");
        }

        var maxAttempts = request.MaxAttempts ?? options.MaxAttempts ?? settings.MaxAttempts;
        if (maxAttempts != -1 && maxAttempts is < 1 or > 1_000_000)
        {
            throw new JobValidationException("maxAttempts", "must be -1 (unlimited) or 1 to 1000000");
        }

        var timeout = request.Timeout ?? options.Timeout ?? settings.Timeout;
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(7))
        {
            throw new JobValidationException("timeout", "must be positive and at most 7 days");
        }

        string? payload = null;
        if (request.Payload is { } element && element.ValueKind != JsonValueKind.Undefined)
        {
            payload = element.GetRawText();
            if (Encoding.UTF8.GetByteCount(payload) > settings.MaxPayloadBytes)
            {
                throw new JobValidationException("payload", $"is larger than the {settings.MaxPayloadBytes} byte limit", JobValidationException.TooLarge);
            }

            if (payload.Contains('\0', StringComparison.Ordinal) || payload.Contains("\\u0000", StringComparison.Ordinal))
            {
                throw new JobValidationException("payload", "must not contain NUL characters");
            }
        }

        return new JobScheduled(
            id,
            request.Kind,
            queue,
            request.Priority,
            payload,
            due,
            now,
            maxAttempts,
            (long)timeout.TotalMilliseconds,
            options.MaxTimeoutRetries ?? settings.MaxTimeoutRetries,
            (long)(options.BackoffMin ?? settings.BackoffMin).TotalMilliseconds,
            (long)(options.BackoffMax ?? settings.BackoffMax).TotalMilliseconds,
            options.BackoffFactor ?? settings.BackoffFactor,
            options.BackoffJitter ?? settings.BackoffJitter);
    }

    private static string Shorten(string text) => text.Length > 60 ? text[..57] + "..." : text;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
    private static partial Regex IdPattern();
}
