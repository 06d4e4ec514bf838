namespace Jobs.Hocon.Parsing;

/// <summary>
/// Parses HOCON tokens into an unresolved tree. Duplicate keys are merged as they are read, so self-referential
/// substitutions can be bound to the value they override (HOCON.md "Self-Referential Substitutions").
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private readonly string _origin;
    private readonly IncludeLoader _includes;
    private readonly string[] _prefix;
    private int _pos;

    private Parser(string text, string origin, IncludeLoader includes, string[] prefix)
    {
        _tokens = Lexer.Tokenize(text, origin);
        _origin = origin;
        _includes = includes;
        _prefix = prefix;
    }

    /// <summary>Parses a document into a root object; <paramref name="prefix"/> is where an included document is mounted.</summary>
    public static ObjectNode ParseDocument(string text, string origin, IncludeLoader includes, string[] prefix)
    {
        var parser = new Parser(text, origin, includes, prefix);
        return parser.ParseRoot();
    }

    private Token Current => _tokens[_pos];

    private ConfigOrigin OriginOf(Token token) => new(_origin, token.Line, token.Column);

    private ConfigException Error(string message, Token token) => new(message, OriginOf(token));

    private void SkipWhitespace()
    {
        while (Current.Kind == TokenKind.Whitespace)
        {
            _pos++;
        }
    }

    /// <summary>Consumes a separating comma and the blank lines after it; a second comma is an error.</summary>
    private bool ConsumeComma(string twoCommasMessage)
    {
        _pos++;
        SkipWhitespaceAndNewlines();
        if (Current.Kind == TokenKind.Comma)
        {
            throw Error(twoCommasMessage, Current);
        }

        return true;
    }

    private void SkipWhitespaceAndNewlines()
    {
        while (Current.Kind is TokenKind.Whitespace or TokenKind.Newline)
        {
            _pos++;
        }
    }

    private ObjectNode ParseRoot()
    {
        SkipWhitespaceAndNewlines();
        if (Current.Kind == TokenKind.OpenBracket)
        {
            throw Error("the root of a configuration document must be an object, not an array", Current);
        }

        ObjectNode root;
        if (Current.Kind == TokenKind.OpenBrace)
        {
            var open = Current;
            _pos++;
            root = new ObjectNode(OriginOf(open));
            ParseFields(root, _prefix, braced: true);
        }
        else
        {
            root = new ObjectNode(OriginOf(Current));
            ParseFields(root, _prefix, braced: false);
        }

        SkipWhitespaceAndNewlines();
        if (Current.Kind != TokenKind.Eof)
        {
            throw Error(
                Current.Kind == TokenKind.CloseBrace
                    ? "unbalanced '}': the document has no matching '{'"
                    : $"unexpected '{Current.Text}' after the end of the document",
                Current
            );
        }

        return root;
    }

    /// <summary>Reads fields into <paramref name="target"/> until '}' (braced) or the end of the document.</summary>
    private void ParseFields(ObjectNode target, string[] path, bool braced)
    {
        var afterComma = false;
        while (true)
        {
            SkipWhitespaceAndNewlines();
            var token = Current;
            if (token.Kind == TokenKind.Eof)
            {
                if (braced)
                {
                    throw Error("unterminated object (missing '}')", token);
                }

                return;
            }

            if (token.Kind == TokenKind.CloseBrace)
            {
                if (!braced)
                {
                    throw Error("unbalanced '}': the document has no matching '{'", token);
                }

                _pos++;
                return;
            }

            if (token.Kind == TokenKind.Comma)
            {
                throw Error(afterComma ? "two commas in a row" : "a comma must follow a field, not start one", token);
            }

            if (token.Kind == TokenKind.UnquotedText && token.Text == "include" && IsIncludeStatement())
            {
                ParseInclude(target, path);
            }
            else
            {
                ParseField(target, path);
            }

            // After a field: a comma, a newline, or the end of the object.
            SkipWhitespace();
            afterComma = false;
            switch (Current.Kind)
            {
                case TokenKind.Comma:
                    afterComma = ConsumeComma("two commas in a row");
                    break;
                case TokenKind.Newline:
                case TokenKind.CloseBrace:
                case TokenKind.Eof:
                    break;
                default:
                    throw Error($"expected a comma or a newline after a field but found '{Current.Text}'", Current);
            }
        }
    }

    private bool IsIncludeStatement()
    {
        // 'include' followed by whitespace then a quoted string or url(/file(/classpath(/required(.
        var i = _pos + 1;
        if (_tokens[i].Kind is not (TokenKind.Whitespace or TokenKind.Newline))
        {
            return false;
        }

        while (_tokens[i].Kind is TokenKind.Whitespace or TokenKind.Newline)
        {
            i++;
        }

        var next = _tokens[i];
        return next.Kind == TokenKind.QuotedString
            || (
                next.Kind == TokenKind.UnquotedText
                && (
                    next.Text.StartsWith("url(", StringComparison.Ordinal)
                    || next.Text.StartsWith("file(", StringComparison.Ordinal)
                    || next.Text.StartsWith("classpath(", StringComparison.Ordinal)
                    || next.Text.StartsWith("required(", StringComparison.Ordinal)
                )
            );
    }

    private void ParseInclude(ObjectNode target, string[] path)
    {
        var includeToken = Current;
        _pos++;
        SkipWhitespaceAndNewlines();
        var required = false;
        var kind = IncludeKind.Heuristic;
        var opened = 0;
        // The wrappers lex as unquoted text such as "required(file(", possibly split by whitespace.
        while (Current.Kind == TokenKind.UnquotedText)
        {
            var text = Current.Text;
            while (text.Length > 0)
            {
                if (text.StartsWith("required(", StringComparison.Ordinal) && !required && kind == IncludeKind.Heuristic)
                {
                    required = true;
                    text = text["required(".Length..];
                }
                else if (text.StartsWith("file(", StringComparison.Ordinal) && kind == IncludeKind.Heuristic)
                {
                    kind = IncludeKind.File;
                    text = text["file(".Length..];
                }
                else if (text.StartsWith("url(", StringComparison.Ordinal) && kind == IncludeKind.Heuristic)
                {
                    kind = IncludeKind.Url;
                    text = text["url(".Length..];
                }
                else if (text.StartsWith("classpath(", StringComparison.Ordinal) && kind == IncludeKind.Heuristic)
                {
                    kind = IncludeKind.Classpath;
                    text = text["classpath(".Length..];
                }
                else
                {
                    throw Error(
                        $"invalid include syntax near '{text}': expected include \"name\", "
                            + "file(\"...\"), url(\"...\"), classpath(\"...\") or required(...)",
                        Current
                    );
                }

                opened++;
            }

            _pos++;
            SkipWhitespace();
        }

        if (Current.Kind != TokenKind.QuotedString)
        {
            throw Error("include needs a quoted resource name (no substitutions or unquoted text)", Current);
        }

        var name = Current.Text;
        _pos++;
        var closed = 0;
        while (closed < opened)
        {
            SkipWhitespace();
            if (Current.Kind != TokenKind.UnquotedText || Current.Text.Any(c => c != ')'))
            {
                throw Error("include is missing a closing ')'", Current);
            }

            closed += Current.Text.Length;
            _pos++;
        }

        if (closed != opened)
        {
            throw Error("include has too many ')'", includeToken);
        }

        var included = _includes.Load(new IncludeRequest(name, kind, required, OriginOf(includeToken)), path);
        if (included is not null)
        {
            foreach (var key in included.Order)
            {
                Assign(target, key, included.Fields[key], [.. path, key]);
            }
        }
    }

    private void ParseField(ObjectNode target, string[] objectPath)
    {
        var keyStart = _pos;
        var keyTokens = new List<Token>();
        while (Current.Kind is TokenKind.QuotedString or TokenKind.UnquotedText or TokenKind.Number or TokenKind.Whitespace)
        {
            keyTokens.Add(Current);
            _pos++;
        }

        if (keyTokens.Count == 0 || keyTokens.All(t => t.Kind == TokenKind.Whitespace))
        {
            throw Error(
                Current.Kind == TokenKind.Substitution ? "substitutions are not allowed in keys" : $"expected a key but found '{Current.Text}'",
                Current
            );
        }

        var keyPath = HoconPath.FromTokens(keyTokens, OriginOf(_tokens[keyStart]));
        SkipWhitespaceAndNewlines();
        var separator = Current;
        Node value;
        var fullPath = objectPath.Concat(keyPath).ToArray();
        switch (separator.Kind)
        {
            case TokenKind.OpenBrace:
                value = ParseValue(fullPath);
                break;
            case TokenKind.Colon or TokenKind.Equals:
                _pos++;
                SkipWhitespaceAndNewlines();
                value = ParseValue(fullPath);
                break;
            case TokenKind.PlusEquals:
                _pos++;
                SkipWhitespaceAndNewlines();
                var element = ParseValue(fullPath);
                var origin = OriginOf(separator);
                // a += b  is  a = ${?a} [b]
                value = new ConcatNode(
                    origin,
                    [new SubstitutionNode(origin, fullPath, optional: true, fallbackPath: null), new ArrayNode(origin, [element])]
                );
                break;
            default:
                throw Error(
                    $"expected ':', '=', '+=' or '{{' after the key '{HoconPath.Render(keyPath)}' but "
                        + $"found '{(separator.Kind == TokenKind.Newline ? "newline" : separator.Text)}'",
                    separator
                );
        }

        // a.b.c = v  is  a { b { c = v } }
        for (var i = keyPath.Length - 1; i > 0; i--)
        {
            var wrapper = new ObjectNode(value.Origin) { IsPathWrapper = true };
            wrapper.Set(keyPath[i], value);
            value = wrapper;
        }

        Assign(target, keyPath[0], value, [.. objectPath, keyPath[0]]);
    }

    /// <summary>Reads one value (a concatenation of pieces on one line) for the field at <paramref name="fieldPath"/>.</summary>
    private Node ParseValue(string[] fieldPath)
    {
        var start = Current;
        var pieces = new List<Node>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.QuotedString:
                    pieces.Add(new ScalarNode(OriginOf(token), ConfigValueType.String, token.Text));
                    _pos++;
                    break;
                case TokenKind.UnquotedText:
                    pieces.Add(new ScalarNode(OriginOf(token), ConfigValueType.String, token.Text) { Unquoted = true });
                    _pos++;
                    break;
                case TokenKind.Number:
                    pieces.Add(new ScalarNode(OriginOf(token), ConfigValueType.Number, token.Text));
                    _pos++;
                    break;
                case TokenKind.Substitution:
                    pieces.Add(MakeSubstitution(token));
                    _pos++;
                    break;
                case TokenKind.Whitespace:
                    pieces.Add(new WhitespaceNode(OriginOf(token), token.Text));
                    _pos++;
                    break;
                case TokenKind.OpenBrace:
                    _pos++;
                    var obj = new ObjectNode(OriginOf(token));
                    ParseFields(obj, fieldPath, braced: true);
                    pieces.Add(obj);
                    break;
                case TokenKind.OpenBracket:
                    _pos++;
                    pieces.Add(ParseArray(token));
                    break;
                case TokenKind.Colon or TokenKind.Equals or TokenKind.PlusEquals:
                    throw Error($"'{token.Text}' is not allowed in a value (quote the string if it should contain it)", token);
                default:
                    return Build(pieces, start);
            }
        }
    }

    private Node MakeSubstitution(Token token)
    {
        var path = HoconPath.FromTokens(Lexer.Tokenize(token.Text, _origin).Where(t => t.Kind != TokenKind.Eof).ToList(), OriginOf(token));
        // In an included document, ${x} means the mounted path first, then x from the root.
        return _prefix.Length == 0
            ? new SubstitutionNode(OriginOf(token), path, token.Optional, null)
            : new SubstitutionNode(OriginOf(token), [.. _prefix, .. path], token.Optional, path);
    }

    private ArrayNode ParseArray(Token open)
    {
        var items = new List<Node>();
        var afterComma = false;
        while (true)
        {
            SkipWhitespaceAndNewlines();
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.CloseBracket:
                    _pos++;
                    return new ArrayNode(OriginOf(open), items);
                case TokenKind.Eof:
                    throw Error("unterminated array (missing ']')", open);
                case TokenKind.Comma:
                    throw Error(afterComma ? "two commas in a row in an array" : "a comma must follow an array element, not start one", token);
            }

            items.Add(ParseValue([]));
            SkipWhitespace();
            afterComma = false;
            switch (Current.Kind)
            {
                case TokenKind.Comma:
                    afterComma = ConsumeComma("two commas in a row in an array");
                    break;
                case TokenKind.Newline or TokenKind.CloseBracket:
                    break;
                case TokenKind.Eof:
                    throw Error("unterminated array (missing ']')", open);
                default:
                    throw Error($"expected a comma or a newline between array elements but found '{Current.Text}'", Current);
            }
        }
    }

    /// <summary>Turns the pieces of one value into a node: a single typed value, or a concatenation.</summary>
    private Node Build(List<Node> pieces, Token start)
    {
        while (pieces.Count > 0 && pieces[^1] is WhitespaceNode)
        {
            pieces.RemoveAt(pieces.Count - 1);
        }

        while (pieces.Count > 0 && pieces[0] is WhitespaceNode)
        {
            pieces.RemoveAt(0);
        }

        if (pieces.Count == 0)
        {
            throw Error(
                start.Kind == TokenKind.Eof || start.Kind == TokenKind.Newline
                    ? "expected a value but the line ended"
                    : $"expected a value but found '{start.Text}'",
                start
            );
        }

        if (pieces.Count == 1)
        {
            // A lone unquoted true/false/null is typed; anything longer is a string.
            return pieces[0] is ScalarNode { Type: ConfigValueType.String, Unquoted: true } scalar && scalar.Text is "true" or "false" or "null"
                ? new ScalarNode(scalar.Origin, scalar.Text == "null" ? ConfigValueType.Null : ConfigValueType.Boolean, scalar.Text)
                : pieces[0];
        }

        return new ConcatNode(pieces[0].Origin, pieces);
    }

    /// <summary>
    /// Sets <paramref name="key"/> in <paramref name="target"/> with HOCON's duplicate-key rules: objects merge,
    /// anything else overrides; a value whose type is known only after resolution merges lazily.
    /// </summary>
    internal static void Assign(ObjectNode target, string key, Node value, string[] fullPath)
    {
        target.Fields.TryGetValue(key, out var existing);
        if (value is ObjectNode obj)
        {
            switch (existing)
            {
                case ObjectNode existingObject:
                    foreach (var childKey in obj.Order)
                    {
                        Assign(existingObject, childKey, obj.Fields[childKey], [.. fullPath, childKey]);
                    }

                    return;
                case SubstitutionNode or ConcatNode or MergeNode:
                    target.Set(key, new MergeNode(existing, obj));
                    return;
                default:
                    if (obj.IsPathWrapper)
                    {
                        // a.b = ... over a non-object: a becomes a fresh object, and self-references inside see no prior.
                        var fresh = new ObjectNode(obj.Origin);
                        target.Set(key, fresh);
                        foreach (var childKey in obj.Order)
                        {
                            Assign(fresh, childKey, obj.Fields[childKey], [.. fullPath, childKey]);
                        }
                    }
                    else
                    {
                        target.Set(key, obj);
                    }

                    return;
            }
        }

        if (value is SubstitutionNode or ConcatNode)
        {
            BindSelfReferences(value, existing, fullPath);
            target.Set(key, existing is null ? value : new MergeNode(existing, value));
            return;
        }

        target.Set(key, value);
    }

    private static void BindSelfReferences(Node value, Node? prior, string[] fieldPath)
    {
        // Only substitutions that are the value itself or a direct piece of its concatenation; ones inside
        // object or array literals look forward (and can form an unbreakable cycle).
        IEnumerable<Node> candidates = value is ConcatNode concat ? concat.Pieces : [value];
        foreach (var candidate in candidates)
        {
            // A binding made with no earlier value (inside a literal) is redone when the literal merges over one.
            if (
                candidate is SubstitutionNode substitution
                && (!substitution.IsSelfReference || (substitution.IsTentative && prior is not null))
                && StartsWith(substitution.Path, fieldPath)
            )
            {
                substitution.BindToPrior(prior, substitution.Path[fieldPath.Length..]);
            }
        }
    }

    private static bool StartsWith(string[] path, string[] prefix) =>
        path.Length >= prefix.Length && prefix.AsSpan().SequenceEqual(path.AsSpan(0, prefix.Length));
}
