namespace Jobs.Actors.Serialization;

/// <summary>
/// Marks an event that a job system actor persists: each one must be registered with a stable manifest in
/// <see cref="Entities.JobsJsonContext"/> (a test fails for any that is not), so that storage never holds CLR type names.
/// </summary>
internal interface IPersistedEvent;
