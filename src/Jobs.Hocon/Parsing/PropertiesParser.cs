using System.Text;

namespace Jobs.Hocon.Parsing;

/// <summary>Java .properties files (HOCON's mapping): dotted keys become paths, every value is a string.</summary>
internal static class PropertiesParser
{
    public static ObjectNode Parse(string text, string origin)
    {
        var root = new ObjectNode(new ConfigOrigin(origin, 1, 1));
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i].TrimStart();
            if (line.Length == 0 || line[0] is '#' or '!')
            {
                continue;
            }

            // A line ending in an odd number of backslashes continues on the next line.
            while (EndsWithContinuation(line) && i + 1 < lines.Length)
            {
                line = line[..^1] + lines[++i].TrimStart();
            }

            var (key, value) = Split(line);
            var origin1 = new ConfigOrigin(origin, lineNumber, 1);
            var path = key.Split('.');
            if (path.Any(p => p.Length == 0))
            {
                throw new ConfigException($"property key '{key}' has an empty path element", origin1);
            }

            Node node = new ScalarNode(origin1, ConfigValueType.String, value);
            for (var p = path.Length - 1; p > 0; p--)
            {
                var wrapper = new ObjectNode(origin1) { IsPathWrapper = true };
                wrapper.Set(path[p], node);
                node = wrapper;
            }

            Parser.Assign(root, path[0], node, [path[0]]);
        }

        return root;
    }

    private static bool EndsWithContinuation(string line)
    {
        var count = 0;
        for (var i = line.Length - 1; i >= 0 && line[i] == '\\'; i--)
        {
            count++;
        }

        return count % 2 == 1;
    }

    private static (string Key, string Value) Split(string line)
    {
        var key = new StringBuilder();
        var i = 0;
        for (; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                key.Append(Unescape(line[++i]));
                continue;
            }

            if (c is '=' or ':' || char.IsWhiteSpace(c))
            {
                break;
            }

            key.Append(c);
        }

        while (i < line.Length && char.IsWhiteSpace(line[i]))
        {
            i++;
        }

        if (i < line.Length && line[i] is '=' or ':')
        {
            i++;
        }

        while (i < line.Length && char.IsWhiteSpace(line[i]))
        {
            i++;
        }

        var value = new StringBuilder();
        for (; i < line.Length; i++)
        {
            value.Append(line[i] == '\\' && i + 1 < line.Length ? Unescape(line[++i]) : line[i]);
        }

        return (key.ToString(), value.ToString());
    }

    private static char Unescape(char c) =>
        c switch
        {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\f',
            _ => c,
        };
}
