namespace Jobs.Actors.Entities;

/// <summary>The persisted phases; Scheduled and Queued are both <see cref="Pending"/>, told apart by the due time.</summary>
internal enum JobPhase
{
    None,
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Destroyed,
}
