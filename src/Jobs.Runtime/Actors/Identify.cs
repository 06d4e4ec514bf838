namespace Jobs.Runtime.Actors;

/// <summary>
/// Asks an actor who it is: every actor answers with <see cref="ActorIdentity"/> from its mailbox, without its
/// behaviour being involved, so an answer proves the actor is alive and processing messages (Akka's Identify).
/// </summary>
/// <param name="MessageId">Echoed in the answer, to tell answers apart.</param>
public sealed record Identify(object? MessageId);

/// <summary>The answer to <see cref="Identify"/>: the actor that processed it.</summary>
/// <param name="MessageId">The id the question carried.</param>
/// <param name="Subject">The answering actor.</param>
public sealed record ActorIdentity(object? MessageId, IActorRef Subject);
