using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Jobs.Actors.Entities;
using Jobs.Actors.Handlers;
using Jobs.Client;

namespace Jobs.Actors.Hosting;

/// <summary>Checks a schedule request and turns it into the job's definition; every error names the field.</summary>
/// <remarks>
/// A kind or queue this member does not run is accepted when another member of the cluster runs it (with that
/// member's defaults for the kind); its payload is then checked as JSON here and bound to its type where it runs.
/// </remarks>
internal sealed partial class ScheduleValidator(
    JobsSettings settings,
    HandlerRegistry handlers,
    TimeProvider clock,
    Sharding.ClusterDirectory? directory = null
)
{
    private static readonly DateTimeOffset Latest = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void ValidateJobId(string jobId, string field = "jobId")
    {
        if (string.IsNullOrEmpty(jobId) || jobId.Length > 128 || !IdPattern().IsMatch(jobId))
        {
            throw new JobValidationException(
                field,
                "must be 1-128 characters of letters, digits, '.', '_', '-' or ':' and start with a letter or digit"
            );
        }
    }

    public JobScheduled Validate(ScheduleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Kind))
        {
            throw new JobValidationException("kind", "is required");
        }

        Handlers.JobKindOptions options;
        if (handlers.TryGet(request.Kind, out var registration))
        {
            options = registration.Options;
        }
        else if (directory is not null && directory.TryGetKind(request.Kind, out var offered))
        {
            options = offered; // another member runs it
            registration = null;
        }
        else
        {
            var known = handlers.Kinds.Union(directory?.RemoteKinds ?? [], StringComparer.Ordinal).Order(StringComparer.Ordinal);
            throw new JobValidationException("kind", $"'{Shorten(request.Kind)}' is not a registered job kind (known: {string.Join(", ", known)})");
        }

        var id = request.JobId ?? (request.UniqueKey is { } key ? UniqueJobId(request.Kind, key) : Guid.CreateVersion7().ToString("N"));
        ValidateJobId(id);
        if (request.UniqueKey is not null && request.JobId is not null)
        {
            throw new JobValidationException("uniqueKey", "give either jobId or uniqueKey, not both (a unique key decides the id)");
        }

        if (request.UniquePeriod is { } period && (request.UniqueKey is null || period < TimeSpan.Zero || period > TimeSpan.FromDays(3650)))
        {
            throw new JobValidationException("uniquePeriod", request.UniqueKey is null ? "needs a uniqueKey" : "must be between 0 and 3650 days");
        }

        if (!Enum.IsDefined(request.OnConflict))
        {
            throw new JobValidationException("onConflict", "must be returnExisting, reject or replace");
        }
        var queue = request.Queue ?? options.Queue ?? "default";
        if (!JobsSettings.IsValidQueueName(queue))
        {
            throw new JobValidationException("queue", "must be 1-64 characters of letters, digits, '_' or '-' and start with a letter");
        }

        if (!settings.Queues.ContainsKey(queue) && (directory is null || !directory.RemoteQueues.Contains(queue, StringComparer.Ordinal)))
        {
            var configured = settings.Queues.Keys.Union(directory?.RemoteQueues ?? [], StringComparer.Ordinal).Order(StringComparer.Ordinal);
            throw new JobValidationException("queue", $"'{queue}' is not a configured queue (configured: {string.Join(", ", configured)})");
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

        var payload = BindPayload(registration, request.Kind, request.Payload);
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
            options.BackoffJitter ?? settings.BackoffJitter,
            request.UniqueKey,
            (long)(request.UniquePeriod ?? TimeSpan.Zero).TotalMilliseconds
        );
    }

    /// <summary>
    /// The id of the job with unique key <paramref name="key"/> for <paramref name="kind"/>: "u:kind:key" when that is a
    /// valid id, else "uh:" and a SHA-256 of both. The same (kind, key) always gives the same id, which is what makes
    /// the job entity the one place that enforces uniqueness.
    /// </summary>
    public static string UniqueJobId(string kind, string key)
    {
        if (key.Length == 0 || key.Length > 200)
        {
            throw new JobValidationException("uniqueKey", "must be 1-200 characters");
        }

        if (key.Contains('\0', StringComparison.Ordinal))
        {
            throw new JobValidationException("uniqueKey", "must not contain NUL characters");
        }

        if (!IsValidUnicode(key))
        {
            throw new JobValidationException("uniqueKey", "is not valid Unicode (it has an unpaired UTF-16 surrogate)");
        }

        var readable = $"u:{kind}:{key}";
        if (readable.Length <= 128 && IdPattern().IsMatch(readable))
        {
            return readable;
        }

        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(kind + "\0" + key));
        return "uh:" + Convert.ToHexStringLower(hash);
    }

    /// <summary>Checks a recurring schedule request and turns it into its stored definition; every error names the field.</summary>
    public Recurring.RecurringDefinition ValidateRecurring(RecurringScheduleRequest request, Recurring.NamedSchedules named)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Name) || request.Name.Length > 100 || !NamePattern().IsMatch(request.Name))
        {
            throw new JobValidationException("name", "must be 1-100 characters of letters, digits, '.', '_' or '-' and start with a letter or digit");
        }

        var given = (request.Cron is null ? 0 : 1) + (request.Every is null ? 0 : 1) + (request.Named is null ? 0 : 1);
        if (given != 1)
        {
            throw new JobValidationException("cron", "give exactly one of cron, every and named");
        }

        var zone = Recurring.RecurrenceParser.Zone(request.TimeZone);
        string? cron = null;
        if (request.Cron is { } text)
        {
            cron = text.Trim();
            if (cron.StartsWith("@every", StringComparison.OrdinalIgnoreCase))
            {
                var every = Recurring.RecurrenceParser.Duration(cron.Length > 6 ? cron[6..] : string.Empty, "cron");
                CheckEvery(every, "cron");
            }
            else
            {
                Recurring.CronExpression.Parse(cron);
            }
        }

        if (request.Every is { } interval)
        {
            CheckEvery(interval, "every");
        }

        if (request.Named is { } name && !named.Contains(name))
        {
            throw new JobValidationException("named", $"'{Shorten(name)}' is not a named schedule (known: {string.Join(", ", named.Names)})");
        }

        if (request.StartAt is { } start && request.EndAt is { } end && end <= start)
        {
            throw new JobValidationException("endAt", "must be after startAt");
        }

        if (request.StartAt?.Year >= 9999 || request.EndAt?.Year >= 9999)
        {
            throw new JobValidationException(request.StartAt?.Year >= 9999 ? "startAt" : "endAt", "must be before the year 9999");
        }

        if (request.Limit is < 1)
        {
            throw new JobValidationException("limit", "must be at least 1");
        }

        if (!Enum.IsDefined(request.Overlap))
        {
            throw new JobValidationException("overlap", "must be skip, queueOne or allow");
        }

        var catchUp = request.CatchUpWindow ?? settings.CatchUpWindow;
        if (catchUp < TimeSpan.Zero || catchUp > TimeSpan.FromDays(366))
        {
            throw new JobValidationException("catchUpWindow", "must be between 0 and 366 days");
        }

        // The job each occurrence creates must be valid too: check it now, so a bad kind, queue or payload fails here.
        var sample = Validate(
            new ScheduleRequest
            {
                Kind = request.Kind,
                Payload = request.Payload,
                Priority = request.Priority,
                Queue = request.Queue,
                MaxAttempts = request.MaxAttempts,
                Timeout = request.Timeout,
            }
        );
        return new Recurring.RecurringDefinition(
            request.Name,
            request.Kind,
            sample.Payload,
            cron,
            request.Every is { } e ? (long)e.TotalMilliseconds : null,
            request.Named,
            zone == TimeZoneInfo.Utc ? "UTC" : zone.Id,
            request.StartAt?.ToUniversalTime(),
            request.EndAt?.ToUniversalTime(),
            request.Limit,
            request.Overlap,
            (long)catchUp.TotalMilliseconds,
            request.Priority,
            request.Queue,
            request.MaxAttempts,
            request.Timeout is { } t ? (long)t.TotalMilliseconds : null,
            request.StartAt?.ToUniversalTime() ?? DateTimeOffset.MinValue
        );
    }

    /// <summary>
    /// The payload text to store: the request's JSON as sent, checked against the size limit, for strings that are
    /// valid Unicode (a lone surrogate could be stored but never shown or bound again) and bound once as the handler
    /// will bind it, so that whatever is accepted can be read back and received.
    /// </summary>
    private string? BindPayload(Handlers.HandlerRegistration? registration, string kind, JsonElement? element)
    {
        string? payload = null;
        if (element is { ValueKind: not JsonValueKind.Undefined } given)
        {
            try
            {
                payload = given.GetRawText();
            }
            catch (InvalidOperationException)
            {
                throw new JobValidationException("payload", "is not valid UTF-8");
            }

            if (Encoding.UTF8.GetByteCount(payload) > settings.MaxPayloadBytes)
            {
                throw new JobValidationException(
                    "payload",
                    $"is larger than the {settings.MaxPayloadBytes} byte limit",
                    JobValidationException.TooLarge
                );
            }

            if (payload.Contains('\0', StringComparison.Ordinal) || payload.Contains("\\u0000", StringComparison.Ordinal))
            {
                throw new JobValidationException("payload", "must not contain NUL characters");
            }

            try
            {
                using var sink = new Utf8JsonWriter(System.IO.Stream.Null);
                given.WriteTo(sink);
            }
            catch (InvalidOperationException)
            {
                throw new JobValidationException(
                    "payload",
                    "contains a string that is not valid Unicode (an unpaired UTF-16 surrogate such as \\ud800)"
                );
            }
        }

        if (registration is null)
        {
            return payload; // a kind another member runs: well-formed JSON here, bound to its type there
        }

        try
        {
            return registration.Bind(payload);
        }
        catch (JsonException ex)
        {
            throw new JobValidationException("payload", $"does not fit kind '{kind}': {ex.Message}");
        }
    }

    /// <summary>Whether <paramref name="text"/> encodes to UTF-8 (it has no unpaired surrogate).</summary>
    internal static bool IsValidUnicode(string text)
    {
        try
        {
            _ = StrictUtf8.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static void CheckEvery(TimeSpan every, string field)
    {
        if (every < TimeSpan.FromSeconds(1) || every > TimeSpan.FromDays(3650))
        {
            throw new JobValidationException(field, "must be between 1 second and 3650 days");
        }
    }

    private static string Shorten(string text) => text.Length > 60 ? text[..57] + "..." : text;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
