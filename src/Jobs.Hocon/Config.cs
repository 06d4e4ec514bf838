using System.Globalization;
using Jobs.Hocon.Parsing;

namespace Jobs.Hocon;

/// <summary>
/// A resolved, immutable configuration with typed getters. Paths are HOCON path expressions (<c>jobs.scheduler.prefetch</c>).
/// Getters throw <see cref="ConfigException"/> naming the path and origin when a value is missing or of the wrong type.
/// </summary>
public sealed class Config
{
    private readonly string _pathPrefix;

    /// <summary>Wraps a resolved root object.</summary>
    public Config(ConfigObject root)
        : this(root, string.Empty) { }

    private Config(ConfigObject root, string pathPrefix)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = root;
        _pathPrefix = pathPrefix;
    }

    /// <summary>A configuration with no settings.</summary>
    public static Config Empty { get; } = new(ConfigObject.Empty);

    /// <summary>The root object.</summary>
    public ConfigObject Root { get; }

    /// <summary>True when the path exists and is not null.</summary>
    public bool HasPath(string path) => Find(path) is { ValueType: not ConfigValueType.Null };

    /// <summary>The value at a path, or null when it is missing.</summary>
    public ConfigValue? GetValueOrNull(string path) => Find(path);

    /// <summary>The value at a path.</summary>
    public ConfigValue GetValue(string path) => Find(path) ?? throw Missing(path);

    /// <summary>A string (numbers and booleans convert to their text).</summary>
    public string GetString(string path) => Scalar(path, "a string").Text!;

    /// <summary>A 32-bit integer.</summary>
    public int GetInt(string path)
    {
        var value = GetLong(path);
        return value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw WrongType(path, GetValue(path), "a 32-bit integer (value out of range)");
    }

    /// <summary>A 64-bit integer.</summary>
    public long GetLong(string path)
    {
        var scalar = Scalar(path, "an integer");
        if (long.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        if (
            double.TryParse(scalar.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            && d == Math.Floor(d)
            && d is >= long.MinValue and <= long.MaxValue
        )
        {
            return (long)d;
        }

        throw WrongType(path, scalar, "an integer");
    }

    /// <summary>A floating-point number.</summary>
    public double GetDouble(string path)
    {
        var scalar = Scalar(path, "a number");
        return double.TryParse(scalar.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw WrongType(path, scalar, "a number");
    }

    /// <summary>A boolean: true/false, yes/no, on/off.</summary>
    public bool GetBoolean(string path)
    {
        var scalar = Scalar(path, "a boolean");
        return scalar.Text switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw WrongType(path, scalar, "a boolean (true/false, yes/no, on/off)"),
        };
    }

    /// <summary>A duration: a number of milliseconds, or a number with a unit (ns, us, ms, s, m, h, d and long forms).</summary>
    public TimeSpan GetDuration(string path)
    {
        var scalar = Scalar(path, "a duration");
        return Units.TryParseDuration(scalar.Text!, out var duration, out var error)
            ? duration
            : throw new ConfigException($"bad duration '{scalar.Text}': {error}", scalar.Origin, Full(path));
    }

    /// <summary>A size in bytes: a number, or a number with a unit (B, K/KiB, kB, M/MiB, MB, G/GiB, GB ...).</summary>
    public long GetBytes(string path)
    {
        var scalar = Scalar(path, "a size in bytes");
        return Units.TryParseBytes(scalar.Text!, out var bytes, out var error)
            ? bytes
            : throw new ConfigException($"bad size '{scalar.Text}': {error}", scalar.Origin, Full(path));
    }

    /// <summary>A list of strings (an object with keys 0, 1, 2 ... counts as a list).</summary>
    public IReadOnlyList<string> GetStringList(string path) =>
        [
            .. GetList(path)
                .Select(
                    (item, i) =>
                        item is ConfigScalar { ValueType: not ConfigValueType.Null } s ? s.Text! : throw WrongType($"{path}[{i}]", item, "a string")
                ),
        ];

    /// <summary>A list of values (an object with keys 0, 1, 2 ... counts as a list).</summary>
    public IReadOnlyList<ConfigValue> GetList(string path)
    {
        var value = GetValue(path);
        return value switch
        {
            ConfigList list => list,
            ConfigObject obj when obj.Count > 0 && obj.Keys.All(k => int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _)) =>
            [
                .. obj.OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)).Select(kv => kv.Value),
            ],
            _ => throw WrongType(path, value, "a list"),
        };
    }

    /// <summary>The object at a path as a configuration of its own (paths below it are relative).</summary>
    public Config GetConfig(string path) =>
        GetValue(path) is ConfigObject obj ? new Config(obj, Full(path) + ".") : throw WrongType(path, GetValue(path), "an object");

    /// <summary>This configuration with <paramref name="fallback"/> underneath it.</summary>
    public Config WithFallback(Config fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        return new Config(Root.WithFallback(fallback.Root), _pathPrefix);
    }

    /// <summary>Every leaf path and value, depth first (lists are leaves).</summary>
    public IEnumerable<KeyValuePair<string, ConfigValue>> Entries() => Flatten(Root, string.Empty);

    /// <inheritdoc />
    public override string ToString() => Root.ToJson();

    private static IEnumerable<KeyValuePair<string, ConfigValue>> Flatten(ConfigObject obj, string prefix)
    {
        foreach (var (key, value) in obj)
        {
            var path = prefix + HoconPath.Render([key]);
            if (value is ConfigObject child)
            {
                foreach (var entry in Flatten(child, path + "."))
                {
                    yield return entry;
                }
            }
            else
            {
                yield return new(path, value);
            }
        }
    }

    private ConfigValue? Find(string path)
    {
        string[] elements;
        try
        {
            elements = HoconPath.Parse(path);
        }
        catch (ConfigException ex)
        {
            throw new ArgumentException($"'{path}' is not a valid path expression: {ex.Message}", nameof(path), ex);
        }

        ConfigValue? current = Root;
        foreach (var element in elements)
        {
            if (current is not ConfigObject obj || !obj.TryGetValue(element, out current))
            {
                return null;
            }
        }

        return current;
    }

    private ConfigScalar Scalar(string path, string expected)
    {
        var value = GetValue(path);
        return value switch
        {
            ConfigScalar { ValueType: ConfigValueType.Null } => throw new ConfigException(
                $"is null but {expected} is required",
                value.Origin,
                Full(path)
            ),
            ConfigScalar scalar => scalar,
            _ => throw WrongType(path, value, expected),
        };
    }

    private string Full(string path) => _pathPrefix + path;

    private ConfigException Missing(string path) => new("is missing (no setting at this path)", null, Full(path));

    private ConfigException WrongType(string path, ConfigValue value, string expected) =>
        new($"has type {value.ValueType.ToString().ToLowerInvariant()} ({Shorten(value)}) but {expected} is required", value.Origin, Full(path));

    private static string Shorten(ConfigValue value)
    {
        var json = value.ToJson();
        return json.Length > 40 ? json[..37] + "..." : json;
    }
}
