using Jobs.Actors.Protocol;

namespace Jobs.Actors.Recurring;

/// <summary>Create or replace a schedule; replies its RecurringScheduleInfo after the change is durable.</summary>
internal sealed record SetRecurring(RecurringDefinition Definition) : IJobMessage
{
    public string JobId => Definition.Name;
}

/// <summary>Reply with the schedule's RecurringScheduleInfo, or a failure with RecurringNotFoundException.</summary>
internal sealed record GetRecurring(string JobId) : IJobMessage;

/// <summary>Pause; replies JobAck.</summary>
internal sealed record PauseRecurring(string JobId) : IJobMessage;

/// <summary>Resume; replies JobAck.</summary>
internal sealed record ResumeRecurring(string JobId) : IJobMessage;

/// <summary>Delete; replies JobAck.</summary>
internal sealed record DeleteRecurring(string JobId) : IJobMessage;

/// <summary>From the scheduler: an occurrence may be due; also re-checks the jobs of earlier occurrences.</summary>
internal sealed record WakeRecurring(string JobId) : IJobMessage;

/// <summary>From a job entity: the job of one of this schedule's occurrences ended.</summary>
internal sealed record RecurringJobEnded(string JobId, string OccurrenceJobId, bool Succeeded) : IJobMessage;
