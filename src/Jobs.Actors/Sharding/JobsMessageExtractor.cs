using Akka.Cluster.Sharding;
using Jobs.Actors.Protocol;

namespace Jobs.Actors.Sharding;

/// <summary>
/// Routes job-system messages (<see cref="IJobMessage"/>) in Akka.Cluster.Sharding: the entity id is the message's
/// id and the shard is <see cref="JobShards.ShardOf"/> (the same number the job's index row records), so the
/// shard of a job never depends on the process that computes it.
/// </summary>
internal sealed class JobsMessageExtractor(int shards) : IMessageExtractor
{
    /// <inheritdoc />
    public string? EntityId(object message) => (message as IJobMessage)?.JobId;

    /// <inheritdoc />
    public object? EntityMessage(object message) => message;

    /// <inheritdoc />
    [Obsolete("Use ShardId(EntityId, object) instead.")]
    public string? ShardId(object message) => EntityId(message) is { } id ? ShardId(id, message) : null;

    /// <inheritdoc />
    public string ShardId(string entityId, object? messageHint = null) =>
        JobShards.ShardOf(entityId, shards).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
