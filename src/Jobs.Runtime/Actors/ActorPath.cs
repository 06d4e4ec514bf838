namespace Jobs.Runtime.Actors;

/// <summary>The hierarchical address of an actor, for example <c>jobs://main/user/workers/$a</c>.</summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    private string? _text;

    internal ActorPath(string systemName, string name)
    {
        SystemName = systemName;
        Name = name;
    }

    internal ActorPath(ActorPath parent, string name, int uid)
    {
        Parent = parent;
        SystemName = parent.SystemName;
        Name = name;
        Uid = uid;
    }

    /// <summary>The name of the actor system this path belongs to.</summary>
    public string SystemName { get; }

    /// <summary>The last element of the path.</summary>
    public string Name { get; }

    /// <summary>The parent path, or null for the root.</summary>
    public ActorPath? Parent { get; }

    /// <summary>The incarnation number: two actors created under the same name at different times differ here.</summary>
    public int Uid { get; }

    /// <summary>The path elements below the root, outermost first.</summary>
    public IReadOnlyList<string> Elements
    {
        get
        {
            var list = new List<string>();
            for (var p = this; p.Parent is not null; p = p.Parent)
            {
                list.Add(p.Name);
            }

            list.Reverse();
            return list;
        }
    }

    /// <inheritdoc />
    public override string ToString() => _text ??= Parent is null ? $"jobs://{SystemName}" : $"{Parent}/{Name}";

    /// <inheritdoc />
    public bool Equals(ActorPath? other) =>
        other is not null && (ReferenceEquals(this, other) || (Uid == other.Uid && ToString() == other.ToString()));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ActorPath);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Uid);
}
