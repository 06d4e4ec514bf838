namespace Jobs.Hocon.Parsing;

/// <summary>An unresolved value in the parse tree (before substitutions are resolved).</summary>
internal abstract class Node(ConfigOrigin origin)
{
    public ConfigOrigin Origin { get; } = origin;
}

/// <summary>An object under construction; duplicate keys are merged into it as they are parsed.</summary>
internal sealed class ObjectNode(ConfigOrigin origin) : Node(origin)
{
    /// <summary>True for the objects a dotted key expands into (a.b = 1 is a { b = 1 }); they merge like keys, not literals.</summary>
    public bool IsPathWrapper { get; init; }

    public List<string> Order { get; } = [];

    public Dictionary<string, Node> Fields { get; } = [];

    public void Set(string key, Node value)
    {
        if (!Fields.ContainsKey(key))
        {
            Order.Add(key);
        }

        Fields[key] = value;
    }
}

internal sealed class ArrayNode(ConfigOrigin origin, List<Node> items) : Node(origin)
{
    public List<Node> Items { get; } = items;
}

internal sealed class ScalarNode(ConfigOrigin origin, ConfigValueType type, string? text) : Node(origin)
{
    public ConfigValueType Type { get; } = type;

    public string? Text { get; } = text;

    /// <summary>True for unquoted text (only a lone unquoted true/false/null is typed).</summary>
    public bool Unquoted { get; init; }
}

/// <summary>Whitespace between the pieces of a concatenation: kept between strings, ignored between objects or arrays.</summary>
internal sealed class WhitespaceNode(ConfigOrigin origin, string text) : Node(origin)
{
    public string Text { get; } = text;
}

/// <summary>A value concatenation: strings join, arrays append, objects merge.</summary>
internal sealed class ConcatNode(ConfigOrigin origin, List<Node> pieces) : Node(origin)
{
    public List<Node> Pieces { get; } = pieces;
}

/// <summary>
/// <c>${path}</c> or <c>${?path}</c>. A self-reference (the path is the field being defined, or below it) is bound to
/// the field's earlier value (<see cref="Prior"/>), looked up at <see cref="PriorSubPath"/> within it.
/// </summary>
internal sealed class SubstitutionNode(ConfigOrigin origin, string[] path, bool optional, string[]? fallbackPath) : Node(origin)
{
    public string[] Path { get; } = path;

    public bool Optional { get; } = optional;

    /// <summary>The path as written in an included file, tried when the fixed-up <see cref="Path"/> does not exist.</summary>
    public string[]? FallbackPath { get; } = fallbackPath;

    public bool IsSelfReference { get; private set; }

    public Node? Prior { get; private set; }

    public string[] PriorSubPath { get; private set; } = [];

    public string PathText => HoconPath.Render(Path);

    /// <summary>True while bound inside an object literal that may still be merged over an earlier value.</summary>
    public bool IsTentative { get; private set; }

    public void BindToPrior(Node? prior, string[] subPath)
    {
        IsSelfReference = true;
        IsTentative = prior is null;
        Prior = prior;
        PriorSubPath = subPath;
    }
}

/// <summary>
/// A later value over an earlier one whose types are known only after resolution (objects merge, else the later wins;
/// an undefined later keeps the earlier).
/// </summary>
internal sealed class MergeNode(Node older, Node newer) : Node(newer.Origin)
{
    public Node Older { get; } = older;

    public Node Newer { get; } = newer;
}
