namespace Jobs.Runtime.Routing;

/// <summary>A message that names its own consistent-hash key.</summary>
public interface IConsistentHashable
{
    /// <summary>The key; equal keys go to the same routee.</summary>
    object ConsistentHashKey { get; }
}
