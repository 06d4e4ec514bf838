using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Events;

/// <summary>The system's publish/subscribe bus for system events (dead letters, unhandled messages, lifecycle), by type.</summary>
public sealed class EventStream
{
    private readonly Lock _gate = new();
    private (Type Channel, IActorRef Subscriber)[] _subscriptions = [];

    /// <summary>Delivers every published event assignable to <paramref name="channel"/> to <paramref name="subscriber"/>.</summary>
    public void Subscribe(IActorRef subscriber, Type channel)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(channel);
        lock (_gate)
        {
            if (!_subscriptions.Contains((channel, subscriber)))
            {
                _subscriptions = [.. _subscriptions, (channel, subscriber)];
            }
        }
    }

    /// <summary>Removes one subscription.</summary>
    public void Unsubscribe(IActorRef subscriber, Type channel)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => !(s.Subscriber.Equals(subscriber) && s.Channel == channel))];
        }
    }

    /// <summary>Removes every subscription of <paramref name="subscriber"/>.</summary>
    public void Unsubscribe(IActorRef subscriber)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => !s.Subscriber.Equals(subscriber))];
        }
    }

    /// <summary>Sends <paramref name="event"/> to every subscriber of a matching channel.</summary>
    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var type = @event.GetType();
        foreach (var (channel, subscriber) in Volatile.Read(ref _subscriptions))
        {
            if (channel.IsAssignableFrom(type))
            {
                subscriber.Tell(@event, null);
            }
        }
    }
}
