namespace Jobs.Persistence.Sql;

/// <summary>One schema change of a component, applied once, in version order.</summary>
/// <param name="Version">Positive, increasing per component.</param>
/// <param name="Description">What it changes.</param>
/// <param name="Statements">SQL statements, run in one transaction.</param>
public sealed record Migration(int Version, string Description, IReadOnlyList<string> Statements);
