namespace Jobs.Runtime.Actors;

/// <summary>An actor behavior: handles one message and says whether it did.</summary>
/// <param name="message">The message being processed.</param>
/// <returns>True when the message was handled; false sends it to <c>Unhandled</c>.</returns>
public delegate bool Receive(object message);
