namespace Jobs.Runtime.Actors;

/// <summary>A failure reply: an <see cref="AskExtensions.Ask{T}"/> that receives it throws <see cref="Cause"/>.</summary>
/// <param name="Cause">The error the replying actor reports.</param>
public sealed record StatusFailure(Exception Cause);
