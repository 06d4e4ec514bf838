using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Events;

/// <summary>Published when a message could not be delivered (stopped recipient, full bounded mailbox).</summary>
/// <param name="Message">The undelivered message.</param>
/// <param name="Sender">Its sender, if any.</param>
/// <param name="Recipient">Where it was going.</param>
public sealed record DeadLetter(object Message, IActorRef? Sender, IActorRef Recipient);
