using System.Text.Json.Serialization;
using Jobs.Runtime.Persistence.Serialization;

namespace Jobs.Actors.Jobs;

/// <summary>Source-generated JSON for the job entity's events; manifests are stable names, never CLR type names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(JobScheduled))]
[JsonSerializable(typeof(AttemptStarted))]
[JsonSerializable(typeof(AttemptEnded))]
[JsonSerializable(typeof(JobCancelled))]
[JsonSerializable(typeof(JobRescheduled))]
[JsonSerializable(typeof(JobDestroyed))]
internal sealed partial class JobsJsonContext : JsonSerializerContext
{
    /// <summary>Registers every job event under its manifest.</summary>
    public static EventSerializer RegisterEvents(EventSerializer serializer) => serializer
        .Register("job-scheduled.v1", Default.JobScheduled)
        .Register("attempt-started.v1", Default.AttemptStarted)
        .Register("attempt-ended.v1", Default.AttemptEnded)
        .Register("job-cancelled.v1", Default.JobCancelled)
        .Register("job-rescheduled.v1", Default.JobRescheduled)
        .Register("job-destroyed.v1", Default.JobDestroyed);
}
