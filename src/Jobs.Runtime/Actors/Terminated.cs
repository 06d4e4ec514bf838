namespace Jobs.Runtime.Actors;

/// <summary>Delivered to a watcher when an actor it watches has stopped. Unhandled, it fails the watcher with <see cref="DeathPactException"/>.</summary>
/// <param name="Actor">The actor that stopped.</param>
public sealed record Terminated(IActorRef Actor);
