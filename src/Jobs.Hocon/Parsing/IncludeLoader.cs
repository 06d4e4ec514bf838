using System.Collections.Immutable;
using System.Reflection;
using System.Text;

namespace Jobs.Hocon.Parsing;

internal enum IncludeKind
{
    Heuristic,
    File,
    Url,
    Classpath,
}

internal sealed record IncludeRequest(string Name, IncludeKind Kind, bool Required, ConfigOrigin Origin);

/// <summary>
/// Finds and parses included documents: files relative to the including file, embedded resources of the
/// configured assemblies (HOCON's "classpath"), and file: URLs. Names without an extension load every one of
/// name.properties, name.json and name.conf that exists, merged in that order.
/// </summary>
internal sealed class IncludeLoader(
    string? baseDirectory,
    IReadOnlyList<Assembly> resourceAssemblies,
    string? resourceDirectory,
    ImmutableStack<string> active
)
{
    private static readonly string[] Extensions = [".properties", ".json", ".conf"];

    public static IncludeLoader ForFile(string path, IReadOnlyList<Assembly> assemblies) =>
        new(Path.GetDirectoryName(Path.GetFullPath(path)), assemblies, null, [Path.GetFullPath(path)]);

    public static IncludeLoader ForText(string? baseDirectory, IReadOnlyList<Assembly> assemblies) => new(baseDirectory, assemblies, null, []);

    public static IncludeLoader ForResource(string name, IReadOnlyList<Assembly> assemblies)
    {
        var slash = name.LastIndexOf('/');
        return new(null, assemblies, slash > 0 ? name[..slash] : null, ["resource:" + name]);
    }

    public ObjectNode? Load(IncludeRequest request, string[] prefix)
    {
        var candidates = Candidates(request);
        ObjectNode? merged = null;
        foreach (var (identity, read, makeLoader) in candidates)
        {
            string? text;
            try
            {
                text = read();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException($"cannot read included '{request.Name}' ({identity}): {ex.Message}", request.Origin, innerException: ex);
            }

            if (text is null)
            {
                continue;
            }

            if (active.Contains(identity))
            {
                throw new ConfigException($"include cycle: '{request.Name}' ({identity}) includes itself, directly or indirectly", request.Origin);
            }

            var loader = makeLoader(active.Push(identity));
            var document = identity.EndsWith(".properties", StringComparison.OrdinalIgnoreCase)
                ? PropertiesParser.Parse(text, identity)
                : Parser.ParseDocument(text, identity, loader, prefix);
            if (merged is null)
            {
                merged = document;
            }
            else
            {
                foreach (var key in document.Order)
                {
                    Parser.Assign(merged, key, document.Fields[key], [.. prefix, key]);
                }
            }
        }

        if (merged is null && request.Required)
        {
            throw new ConfigException(
                $"required include '{request.Name}' was not found (looked for: {string.Join(", ", candidates.Select(c => c.Identity))})",
                request.Origin
            );
        }

        return merged;
    }

    private List<(string Identity, Func<string?> Read, Func<ImmutableStack<string>, IncludeLoader> MakeLoader)> Candidates(IncludeRequest request)
    {
        var name = request.Name;
        var result = new List<(string, Func<string?>, Func<ImmutableStack<string>, IncludeLoader>)>();
        switch (request.Kind)
        {
            case IncludeKind.Url:
                AddUrl(result, name, request.Origin);
                break;
            case IncludeKind.File:
                AddFiles(
                    result,
                    Path.IsPathRooted(name) || baseDirectory is null ? name : Path.Combine(baseDirectory, name),
                    ExtensionVariants(name)
                );
                break;
            case IncludeKind.Classpath:
                AddResources(result, name.TrimStart('/'), ExtensionVariants(name));
                break;
            default:
                if (
                    Uri.TryCreate(name, UriKind.Absolute, out var uri)
                    && uri.Scheme is "http" or "https" or "file"
                    && name.Contains("://", StringComparison.Ordinal)
                )
                {
                    AddUrl(result, name, request.Origin);
                }
                else if (resourceDirectory is not null || (baseDirectory is null && !Path.IsPathRooted(name)))
                {
                    // Inside a resource (or a string with no base directory): adjacent resources.
                    var resource =
                        name.StartsWith('/') ? name[1..]
                        : resourceDirectory is null ? name
                        : resourceDirectory + "/" + name;
                    AddResources(result, resource, ExtensionVariants(name));
                }
                else
                {
                    var file = Path.IsPathRooted(name) ? name : Path.Combine(baseDirectory!, name);
                    AddFiles(result, file, ExtensionVariants(name));
                    if (!result.Any(r => File.Exists(r.Item1)))
                    {
                        AddResources(result, name.TrimStart('/'), ExtensionVariants(name)); // fall back to embedded resources
                    }
                }

                break;
        }

        return result;
    }

    private static string[] ExtensionVariants(string name) =>
        Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)) ? [string.Empty] : Extensions;

    private void AddFiles(List<(string, Func<string?>, Func<ImmutableStack<string>, IncludeLoader>)> result, string path, string[] suffixes)
    {
        foreach (var suffix in suffixes)
        {
            var full = Path.GetFullPath(path + suffix);
            result.Add(
                (
                    full,
                    () => File.Exists(full) ? File.ReadAllText(full, Encoding.UTF8) : null,
                    stack => new IncludeLoader(Path.GetDirectoryName(full), resourceAssemblies, null, stack)
                )
            );
        }
    }

    private void AddResources(List<(string, Func<string?>, Func<ImmutableStack<string>, IncludeLoader>)> result, string name, string[] suffixes)
    {
        foreach (var suffix in suffixes)
        {
            var full = name + suffix;
            var slash = full.LastIndexOf('/');
            result.Add(
                (
                    "resource:" + full,
                    () => ReadResource(full),
                    stack => new IncludeLoader(null, resourceAssemblies, slash > 0 ? full[..slash] : null, stack)
                )
            );
        }
    }

    private void AddUrl(List<(string, Func<string?>, Func<ImmutableStack<string>, IncludeLoader>)> result, string url, ConfigOrigin origin)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new ConfigException($"include url(\"{url}\") is not a valid absolute URL", origin);
        }

        if (!uri.IsFile)
        {
            throw new ConfigException(
                $"include url(\"{url}\"): only file: URLs are supported; configuration is never fetched over the network",
                origin
            );
        }

        var path = uri.LocalPath;
        result.Add(
            (
                path,
                () => File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null,
                stack => new IncludeLoader(Path.GetDirectoryName(path), resourceAssemblies, null, stack)
            )
        );
    }

    private string? ReadResource(string name)
    {
        foreach (var assembly in resourceAssemblies)
        {
            using var stream = assembly.GetManifestResourceStream(name);
            if (stream is not null)
            {
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return reader.ReadToEnd();
            }
        }

        return null;
    }
}
