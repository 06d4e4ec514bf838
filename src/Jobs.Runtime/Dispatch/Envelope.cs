using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Dispatch;

/// <summary>A message with the sender it came from, as queued in a mailbox.</summary>
internal readonly record struct Envelope(object Message, IActorRef? Sender);
