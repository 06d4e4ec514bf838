using System.Text.Json.Serialization;
using Jobs.Actors.Recurring;
using Jobs.Actors.Workers;
using Jobs.Persistence.Serialization;

namespace Jobs.Actors.Entities;

/// <summary>Source-generated JSON for the job entity's events; manifests are stable names, never CLR type names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(JobScheduled))]
[JsonSerializable(typeof(AttemptStarted))]
[JsonSerializable(typeof(AttemptEnded))]
[JsonSerializable(typeof(JobCancelled))]
[JsonSerializable(typeof(JobRescheduled))]
[JsonSerializable(typeof(JobDestroyed))]
[JsonSerializable(typeof(JobReplaced))]
[JsonSerializable(typeof(JobRetried))]
[JsonSerializable(typeof(RecurringDefined))]
[JsonSerializable(typeof(RecurringPaused))]
[JsonSerializable(typeof(RecurringResumed))]
[JsonSerializable(typeof(OccurrenceFired))]
[JsonSerializable(typeof(OccurrenceSkipped))]
[JsonSerializable(typeof(OccurrenceDeferred))]
[JsonSerializable(typeof(OccurrencesMissed))]
[JsonSerializable(typeof(OccurrenceEnded))]
[JsonSerializable(typeof(RecurringDeleted))]
[JsonSerializable(typeof(QueuePaused))]
[JsonSerializable(typeof(QueueResumed))]
internal sealed partial class JobsJsonContext : JsonSerializerContext
{
    /// <summary>Registers every job event under its manifest.</summary>
    public static EventSerializer RegisterEvents(EventSerializer serializer) =>
        serializer
            .Register("job-scheduled.v1", Default.JobScheduled)
            .Register("attempt-started.v1", Default.AttemptStarted)
            .Register("attempt-ended.v1", Default.AttemptEnded)
            .Register("job-cancelled.v1", Default.JobCancelled)
            .Register("job-rescheduled.v1", Default.JobRescheduled)
            .Register("job-destroyed.v1", Default.JobDestroyed)
            .Register("job-replaced.v1", Default.JobReplaced)
            .Register("job-retried.v1", Default.JobRetried)
            .Register("recurring-defined.v1", Default.RecurringDefined)
            .Register("recurring-paused.v1", Default.RecurringPaused)
            .Register("recurring-resumed.v1", Default.RecurringResumed)
            .Register("occurrence-fired.v1", Default.OccurrenceFired)
            .Register("occurrence-skipped.v1", Default.OccurrenceSkipped)
            .Register("occurrence-deferred.v1", Default.OccurrenceDeferred)
            .Register("occurrences-missed.v1", Default.OccurrencesMissed)
            .Register("occurrence-ended.v1", Default.OccurrenceEnded)
            .Register("recurring-deleted.v1", Default.RecurringDeleted)
            .Register("queue-paused.v1", Default.QueuePaused)
            .Register("queue-resumed.v1", Default.QueueResumed);
}
