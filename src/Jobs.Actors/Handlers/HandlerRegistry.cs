using System.Text.RegularExpressions;

namespace Jobs.Actors.Handlers;

/// <summary>The job kinds this node can run. Kinds are stable strings: renaming a class never orphans stored jobs.</summary>
internal sealed partial class HandlerRegistry
{
    private readonly Dictionary<string, HandlerRegistration> _byKind = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Kinds => _byKind.Keys;

    public void Add(HandlerRegistration registration)
    {
        ValidateKind(registration.Kind);
        if (!_byKind.TryAdd(registration.Kind, registration))
        {
            throw new InvalidOperationException(
                $"the job kind '{registration.Kind}' is already registered (for {_byKind[registration.Kind].PayloadType.Name})"
            );
        }
    }

    public bool TryGet(string kind, out HandlerRegistration registration) => _byKind.TryGetValue(kind, out registration!);

    public static void ValidateKind(string kind)
    {
        if (string.IsNullOrEmpty(kind) || kind.Length > 200 || !KindPattern().IsMatch(kind))
        {
            throw new ArgumentException(
                $"job kind '{kind}' must be 1-200 characters of letters, digits, '.', '_', '-' or ':' and start with a letter",
                nameof(kind)
            );
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9._:-]*$")]
    internal static partial Regex KindPattern();
}
