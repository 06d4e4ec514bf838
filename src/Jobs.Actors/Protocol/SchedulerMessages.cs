namespace Jobs.Actors.Protocol;

/// <summary>To the scheduler: a job on <see cref="Queue"/> became due at <see cref="DueAt"/> (re-arm if earlier than the next wake).</summary>
internal sealed record JobDue(string Queue, DateTimeOffset DueAt, string? JobId = null);

/// <summary>To the scheduler: a worker on <see cref="Queue"/> became free.</summary>
internal sealed record CapacityAvailable(string Queue);

/// <summary>The scheduler's own wake-up.</summary>
internal sealed class SchedulerTick
{
    public static readonly SchedulerTick Instance = new();
}
