namespace Jobs.Runtime.Actors;

/// <summary>Marks messages that do not reset the receiver's receive timeout (heartbeats, ticks).</summary>
public interface INotInfluenceReceiveTimeout;
