using System.Text;

namespace Jobs.Hocon.Parsing;

/// <summary>
/// Resolves substitutions over a whole parsed document: lazily (a substitution looks forward to the final value),
/// memoized per node (every occurrence resolves once), with cycle detection and environment-variable fallback.
/// A null result means "undefined" (an optional substitution that found nothing).
/// </summary>
internal sealed class Resolver
{
    private readonly ObjectNode _root;
    private readonly Func<string, string?>? _environment;
    private readonly Dictionary<Node, ConfigValue?> _memo = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Node> _inProgress = new(ReferenceEqualityComparer.Instance);
    private readonly List<string> _trail = [];

    private Resolver(ObjectNode root, Func<string, string?>? environment)
    {
        _root = root;
        _environment = environment;
    }

    public static ConfigObject Resolve(ObjectNode root, Func<string, string?>? environment)
    {
        var resolver = new Resolver(root, environment);
        try
        {
            return (ConfigObject)resolver.ResolveNode(root, "(root)")!;
        }
        catch (CycleException cycle)
        {
            throw new ConfigException($"substitution cycle: {cycle.Description}", cycle.Origin, cycle.Path);
        }
    }

    private ConfigValue? ResolveNode(Node node, string path)
    {
        if (_memo.TryGetValue(node, out var done))
        {
            return done;
        }

        if (!_inProgress.Add(node))
        {
            throw new CycleException(string.Join(" -> ", _trail.Append(path)), node.Origin, path);
        }

        try
        {
            var value = Compute(node, path);
            _memo[node] = value;
            return value;
        }
        finally
        {
            _inProgress.Remove(node);
        }
    }

    private ConfigValue? Compute(Node node, string path)
    {
        switch (node)
        {
            case ObjectNode obj:
                var fields = new List<KeyValuePair<string, ConfigValue>>(obj.Order.Count);
                foreach (var key in obj.Order)
                {
                    var value = ResolveNode(obj.Fields[key], Child(path, key));
                    if (value is not null)
                    {
                        fields.Add(new(key, value));
                    }
                }

                return new ConfigObject(fields, obj.Origin);
            case ArrayNode array:
                var items = new List<ConfigValue>(array.Items.Count);
                for (var i = 0; i < array.Items.Count; i++)
                {
                    var item = ResolveNode(array.Items[i], $"{path}[{i}]");
                    if (item is not null)
                    {
                        items.Add(item);
                    }
                }

                return new ConfigList(items, array.Origin);
            case ScalarNode scalar:
                return new ConfigScalar(scalar.Type, scalar.Text, scalar.Origin);
            case SubstitutionNode substitution:
                return ResolveSubstitution(substitution, path);
            case ConcatNode concat:
                return ResolveConcat(concat, path);
            case MergeNode merge:
                var newer = ResolveNode(merge.Newer, path);
                if (newer is null)
                {
                    return ResolveNode(merge.Older, path);
                }

                if (newer is ConfigObject newerObject && ResolveNode(merge.Older, path) is ConfigObject olderObject)
                {
                    return newerObject.WithFallback(olderObject);
                }

                return newer;
            case WhitespaceNode whitespace:
                return new ConfigScalar(ConfigValueType.String, whitespace.Text, whitespace.Origin);
            default:
                throw new InvalidOperationException($"unknown node {node.GetType().Name}");
        }
    }

    private ConfigValue? ResolveSubstitution(SubstitutionNode substitution, string path)
    {
        _trail.Add("${" + substitution.PathText + "}");
        try
        {
            ConfigValue? value;
            if (substitution.IsSelfReference)
            {
                // Looks back: the value this field had before this definition.
                value = substitution.Prior is null ? null : Navigate(ResolveNode(substitution.Prior, path), substitution.PriorSubPath);
            }
            else
            {
                value = Lookup(substitution.Path);
                if (value is null && substitution.FallbackPath is { } fallback)
                {
                    value = Lookup(fallback);
                }
            }

            value ??= FromEnvironment(substitution);
            if (value is null && !substitution.Optional)
            {
                var reason = substitution.IsSelfReference
                    ? "it refers to the field being defined, which has no earlier value, and no environment variable of that name is set"
                    : "no such path in the configuration and no environment variable of that name is set";
                throw new ConfigException($"could not resolve substitution ${{{substitution.PathText}}}: {reason}", substitution.Origin, path);
            }

            return value;
        }
        catch (CycleException) when (substitution.Optional)
        {
            return null; // an optional substitution in a cycle is simply undefined
        }
        finally
        {
            _trail.RemoveAt(_trail.Count - 1);
        }
    }

    private ConfigScalar? FromEnvironment(SubstitutionNode substitution)
    {
        if (_environment is null)
        {
            return null;
        }

        var name = string.Join('.', substitution.FallbackPath ?? substitution.Path);
        var value = _environment(name);
        return value is null ? null : new ConfigScalar(ConfigValueType.String, value, new ConfigOrigin("environment variable " + name, 0, 0));
    }

    private ConfigValue? Lookup(string[] path)
    {
        Node current = _root;
        for (var i = 0; i < path.Length; i++)
        {
            if (current is ObjectNode obj)
            {
                if (!obj.Fields.TryGetValue(path[i], out var next))
                {
                    return null;
                }

                current = next;
                continue;
            }

            // Something whose shape is known only after resolution: resolve it, then walk the result.
            return Navigate(ResolveNode(current, HoconPath.Render(path[..i])), path[i..]);
        }

        return ResolveNode(current, HoconPath.Render(path));
    }

    private static ConfigValue? Navigate(ConfigValue? value, string[] path)
    {
        foreach (var element in path)
        {
            if (value is not ConfigObject obj || !obj.TryGetValue(element, out value))
            {
                return null;
            }
        }

        return value;
    }

    private ConfigValue? ResolveConcat(ConcatNode concat, string path)
    {
        var resolved = new List<(ConfigValue? Value, Node Piece)>(concat.Pieces.Count);
        foreach (var piece in concat.Pieces)
        {
            resolved.Add((piece is WhitespaceNode ? null : ResolveNode(piece, path), piece));
        }

        var defined = resolved.Where(r => r.Piece is not WhitespaceNode && r.Value is not null).ToList();
        if (defined.Count == 0)
        {
            return null;
        }

        var anyObject = defined.Any(d => d.Value is ConfigObject);
        var anyList = defined.Any(d => d.Value is ConfigList);
        if (anyObject || anyList)
        {
            var offender = defined.FirstOrDefault(d => anyObject ? d.Value is not ConfigObject : d.Value is not ConfigList);
            if (offender.Value is not null)
            {
                throw new ConfigException(
                    $"cannot concatenate {Describe(anyObject ? ConfigValueType.Object : ConfigValueType.List)} with "
                        + $"{Describe(offender.Value.ValueType)} (only strings, only lists, or only objects concatenate)",
                    offender.Piece.Origin,
                    path
                );
            }

            if (anyObject)
            {
                var merged = (ConfigObject)defined[0].Value!;
                foreach (var (value, _) in defined.Skip(1))
                {
                    merged = ((ConfigObject)value!).WithFallback(merged);
                }

                return merged;
            }

            return new ConfigList(defined.SelectMany(d => (ConfigList)d.Value!), concat.Origin);
        }

        var pieceCount = resolved.Count(r => r.Piece is WhitespaceNode || r.Value is not null);
        if (defined.Count == 1 && pieceCount == 1)
        {
            return defined[0].Value; // the only part of the value: its type is preserved
        }

        var sb = new StringBuilder();
        foreach (var (value, piece) in resolved)
        {
            if (piece is WhitespaceNode whitespace)
            {
                sb.Append(whitespace.Text);
            }
            else if (value is ConfigScalar scalar)
            {
                sb.Append(scalar.Text ?? "null");
            }
        }

        return new ConfigScalar(ConfigValueType.String, sb.ToString(), concat.Origin);
    }

    private static string Describe(ConfigValueType type) =>
        type switch
        {
            ConfigValueType.Object => "an object",
            ConfigValueType.List => "a list",
            _ => "a " + type.ToString().ToLowerInvariant(),
        };

    private static string Child(string path, string key) => path == "(root)" ? HoconPath.Render([key]) : path + "." + HoconPath.Render([key]);

    private sealed class CycleException(string description, ConfigOrigin origin, string path) : Exception(description)
    {
        public string Description { get; } = description;

        public ConfigOrigin Origin { get; } = origin;

        public string Path { get; } = path;
    }
}
