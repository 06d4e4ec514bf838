namespace Jobs.Actors.Index;

/// <summary>One job's row in the query index, written in the same transaction as its events.</summary>
internal sealed record JobIndexRow(
    string JobId,
    string Kind,
    string Queue,
    int Priority,
    string Status,
    long DueAtMs,
    long CreatedAtMs,
    long UpdatedAtMs,
    int Attempts,
    string? Node,
    string? Incarnation,
    int Shard,
    bool Deleted
);
