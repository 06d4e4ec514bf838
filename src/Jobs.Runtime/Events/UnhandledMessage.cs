using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Events;

/// <summary>Published when an actor's behavior did not handle a message.</summary>
/// <param name="Message">The message.</param>
/// <param name="Sender">Its sender, if any.</param>
/// <param name="Recipient">The actor that did not handle it.</param>
public sealed record UnhandledMessage(object Message, IActorRef? Sender, IActorRef Recipient);
