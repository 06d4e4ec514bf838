using System.Text;

namespace Jobs.Actors.Sharding;

/// <summary>
/// Which shard an entity belongs to: a stable hash of its id (the same in every process and version, unlike
/// <see cref="string.GetHashCode()"/>) modulo the shard count, which is fixed for the life of a cluster.
/// </summary>
internal static class JobShards
{
    /// <summary>The shard of <paramref name="entityId"/> among <paramref name="shards"/>.</summary>
    public static int ShardOf(string entityId, int shards)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(shards, 0);
        return (int)(StableHash(entityId) % (uint)shards);
    }

    /// <summary>FNV-1a over the UTF-8 bytes, finished with a 32-bit avalanche mixer so ids that differ only at the end spread too.</summary>
    public static uint StableHash(string key)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 16777619u;
        }

        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;
        return hash;
    }
}
