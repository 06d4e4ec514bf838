namespace Jobs.Persistence.Serialization;

/// <summary>Stored data names an event or snapshot type that is not registered (no CLR type is ever looked up by name).</summary>
public sealed class UnknownManifestException : Exception
{
    /// <summary>Creates the exception naming the manifest.</summary>
    public UnknownManifestException(string manifest)
        : base($"no event type is registered under the manifest '{manifest}' (register it, or an upcaster from it)")
    {
        Manifest = manifest;
    }

    /// <summary>The unknown manifest.</summary>
    public string Manifest { get; }
}
