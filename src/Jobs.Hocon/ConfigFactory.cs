using System.Text;
using Jobs.Hocon.Parsing;

namespace Jobs.Hocon;

/// <summary>Parses HOCON text and files, and loads an application's configuration over the embedded reference.conf.</summary>
public static class ConfigFactory
{
    /// <summary>The name of the embedded default configuration resource.</summary>
    public const string ReferenceResourceName = "reference.conf";

    /// <summary>Parses and resolves HOCON text.</summary>
    /// <param name="text">The document.</param>
    /// <param name="originName">A name for error messages.</param>
    /// <param name="options">Parse options; null for defaults.</param>
    public static Config ParseString(string text, string originName = "string", ConfigParseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= ConfigParseOptions.Default;
        return Resolve(ParseUnresolved(text, originName, IncludeLoader.ForText(options.BaseDirectory, options.ResourceAssemblies)), options);
    }

    /// <summary>Parses and resolves a HOCON (or JSON, or .properties) file.</summary>
    public static Config ParseFile(string path, ConfigParseOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ConfigParseOptions.Default;
        return Resolve(ParseFileUnresolved(path, options), options);
    }

    /// <summary>The embedded reference configuration (every setting with its default), resolved.</summary>
    public static Config LoadReference(ConfigParseOptions? options = null) => Load(null, null, options);

    /// <summary>
    /// Loads the application configuration: <paramref name="text"/> over <paramref name="file"/> over the embedded
    /// reference.conf, merged first and resolved together (so user settings can refer to defaults and back).
    /// </summary>
    public static Config Load(string? file = null, string? text = null, ConfigParseOptions? options = null)
    {
        options ??= ConfigParseOptions.Default;
        var merged = new ObjectNode(new ConfigOrigin("merged configuration", 0, 0));
        var referenceText = ReadReference(options);
        if (referenceText is not null)
        {
            MergeInto(
                merged,
                Parser.ParseDocument(
                    referenceText,
                    "resource:" + ReferenceResourceName,
                    IncludeLoader.ForResource(ReferenceResourceName, options.ResourceAssemblies),
                    []
                )
            );
        }

        if (file is not null)
        {
            MergeInto(merged, ParseFileUnresolved(file, options));
        }

        if (text is not null)
        {
            MergeInto(merged, ParseUnresolved(text, "overrides", IncludeLoader.ForText(options.BaseDirectory, options.ResourceAssemblies)));
        }

        return Resolve(merged, options);
    }

    private static void MergeInto(ObjectNode target, ObjectNode source)
    {
        foreach (var key in source.Order)
        {
            Parser.Assign(target, key, source.Fields[key], [key]);
        }
    }

    private static ObjectNode ParseUnresolved(string text, string originName, IncludeLoader loader) =>
        Parser.ParseDocument(text, originName, loader, []);

    private static ObjectNode ParseFileUnresolved(string path, ConfigParseOptions options)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new ConfigException($"configuration file '{full}' does not exist");
        }

        var text = File.ReadAllText(full, Encoding.UTF8);
        return full.EndsWith(".properties", StringComparison.OrdinalIgnoreCase)
            ? PropertiesParser.Parse(text, full)
            : Parser.ParseDocument(text, full, IncludeLoader.ForFile(full, options.ResourceAssemblies), []);
    }

    private static string? ReadReference(ConfigParseOptions options)
    {
        foreach (var assembly in options.ResourceAssemblies)
        {
            using var stream = assembly.GetManifestResourceStream(ReferenceResourceName);
            if (stream is not null)
            {
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return reader.ReadToEnd();
            }
        }

        return null;
    }

    private static Config Resolve(ObjectNode root, ConfigParseOptions options) => new(Resolver.Resolve(root, options.Environment));
}
