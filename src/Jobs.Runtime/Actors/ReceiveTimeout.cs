namespace Jobs.Runtime.Actors;

/// <summary>Delivered when an actor that set a receive timeout has received no message for that long.</summary>
public sealed class ReceiveTimeout : INotInfluenceReceiveTimeout
{
    private ReceiveTimeout()
    {
    }

    /// <summary>The single instance.</summary>
    public static ReceiveTimeout Instance { get; } = new();
}
