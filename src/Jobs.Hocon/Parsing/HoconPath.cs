using System.Text;

namespace Jobs.Hocon.Parsing;

/// <summary>Path expressions: parsing <c>a.b."c.d"</c> into elements and rendering them back.</summary>
internal static class HoconPath
{
    /// <summary>Splits a path expression into its elements (quoted elements may contain dots).</summary>
    /// <exception cref="ConfigException">The expression is empty or has an empty element.</exception>
    public static string[] Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var tokens = Lexer.Tokenize(expression, "path expression");
        var path = FromTokens(tokens.Where(t => t.Kind != TokenKind.Eof).ToList(), new ConfigOrigin("path expression '" + expression + "'", 1, 1));
        return path;
    }

    /// <summary>Renders elements as a path expression, quoting elements that need it.</summary>
    public static string Render(IEnumerable<string> elements)
    {
        var sb = new StringBuilder();
        foreach (var element in elements)
        {
            if (sb.Length > 0)
            {
                sb.Append('.');
            }

            var plain = element.Length > 0 && element.All(c => char.IsLetterOrDigit(c) || c is '-' or '_');
            if (plain)
            {
                sb.Append(element);
            }
            else
            {
                sb.Append('"')
                    .Append(element.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal))
                    .Append('"');
            }
        }

        return sb.ToString();
    }

    internal static string[] FromTokens(IReadOnlyList<Token> tokens, ConfigOrigin origin)
    {
        // Trim whitespace at both ends; whitespace between pieces is part of the key.
        var first = 0;
        var last = tokens.Count - 1;
        while (first <= last && tokens[first].Kind == TokenKind.Whitespace)
        {
            first++;
        }

        while (last >= first && tokens[last].Kind == TokenKind.Whitespace)
        {
            last--;
        }

        if (first > last)
        {
            throw new ConfigException("expected a key or path expression but found nothing", origin);
        }

        var elements = new List<string>();
        var current = new StringBuilder();
        var currentHasContent = false;
        for (var i = first; i <= last; i++)
        {
            var token = tokens[i];
            switch (token.Kind)
            {
                case TokenKind.QuotedString:
                    current.Append(token.Text);
                    currentHasContent = true;
                    break;
                case TokenKind.Whitespace:
                    current.Append(token.Text);
                    break;
                case TokenKind.UnquotedText or TokenKind.Number:
                    var parts = token.Text.Split('.');
                    for (var p = 0; p < parts.Length; p++)
                    {
                        if (p > 0)
                        {
                            if (!currentHasContent && current.Length == 0)
                            {
                                throw new ConfigException(
                                    $"path has an empty element (two dots in a row or a leading dot) near '{token.Text}'",
                                    new ConfigOrigin(origin.Description, token.Line, token.Column)
                                );
                            }

                            elements.Add(current.ToString());
                            current.Clear();
                            currentHasContent = false;
                        }

                        current.Append(parts[p]);
                        currentHasContent |= parts[p].Length > 0;
                    }

                    break;
                default:
                    throw new ConfigException(
                        $"'{token.Text}' is not allowed in a key or path expression",
                        new ConfigOrigin(origin.Description, token.Line, token.Column)
                    );
            }
        }

        if (!currentHasContent && current.Length == 0)
        {
            throw new ConfigException("path ends with a dot (empty last element)", origin);
        }

        elements.Add(current.ToString());
        return [.. elements];
    }
}
