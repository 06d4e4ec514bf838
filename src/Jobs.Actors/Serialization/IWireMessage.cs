namespace Jobs.Actors.Serialization;

/// <summary>
/// Marks a message that may travel between nodes: each one is registered with a stable manifest in
/// <see cref="JobsMessageSerializer"/> (a test fails for any that is not), so that nothing sent between nodes names a
/// CLR type. Messages that never leave their node implement Akka's <c>INoSerializationVerificationNeeded</c> instead.
/// </summary>
internal interface IWireMessage;
