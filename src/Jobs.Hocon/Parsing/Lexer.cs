using System.Globalization;
using System.Text;

namespace Jobs.Hocon.Parsing;

/// <summary>Turns HOCON text into tokens (comments dropped); errors name the origin, line and column.</summary>
internal sealed class Lexer(string text, string originName)
{
    // Characters that may not appear in unquoted text (HOCON "forbidden characters", plus whitespace).
    private const string Forbidden = "$\"{}[]:=,+#`^?!@*&\\";

    private int _pos;
    private int _line = 1;
    private int _column = 1;

    public static List<Token> Tokenize(string text, string originName)
    {
        var lexer = new Lexer(text, originName);
        var tokens = new List<Token>();
        Token token;
        do
        {
            token = lexer.Next();
            tokens.Add(token);
        } while (token.Kind != TokenKind.Eof);

        return tokens;
    }

    internal static bool IsWhitespace(char c) =>
        c is ' ' or '\t' or '\v' or '\f' or '\r' or '\u001C' or '\u001D' or '\u001E' or '\u001F' or '\uFEFF'
        || (
            c != '\n'
            && char.GetUnicodeCategory(c) is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        );

    private ConfigException Error(string message, int line, int column) => new(message, new ConfigOrigin(originName, line, column));

    private char Peek(int offset = 0) => _pos + offset < text.Length ? text[_pos + offset] : '\0';

    private bool AtEnd => _pos >= text.Length;

    private void Advance(int count = 1)
    {
        for (var i = 0; i < count && _pos < text.Length; i++)
        {
            if (text[_pos] == '\n')
            {
                _line++;
                _column = 1;
            }
            else
            {
                _column++;
            }

            _pos++;
        }
    }

    private Token Next()
    {
        while (true)
        {
            if (AtEnd)
            {
                return new Token(TokenKind.Eof, string.Empty, _line, _column);
            }

            var c = Peek();
            // Comments run to the end of the line; the newline itself is still a token.
            if (c == '#' || (c == '/' && Peek(1) == '/'))
            {
                while (!AtEnd && Peek() != '\n')
                {
                    Advance();
                }

                continue;
            }

            break;
        }

        var line = _line;
        var column = _column;
        var ch = Peek();
        switch (ch)
        {
            case '\n':
                Advance();
                return new Token(TokenKind.Newline, "\n", line, column);
            case ',':
                Advance();
                return new Token(TokenKind.Comma, ",", line, column);
            case ':':
                Advance();
                return new Token(TokenKind.Colon, ":", line, column);
            case '=':
                Advance();
                return new Token(TokenKind.Equals, "=", line, column);
            case '{':
                Advance();
                return new Token(TokenKind.OpenBrace, "{", line, column);
            case '}':
                Advance();
                return new Token(TokenKind.CloseBrace, "}", line, column);
            case '[':
                Advance();
                return new Token(TokenKind.OpenBracket, "[", line, column);
            case ']':
                Advance();
                return new Token(TokenKind.CloseBracket, "]", line, column);
            case '+':
                if (Peek(1) == '=')
                {
                    Advance(2);
                    return new Token(TokenKind.PlusEquals, "+=", line, column);
                }

                throw Error("'+' is only allowed as part of '+=' (quote the string if you meant a '+')", line, column);
            case '"':
                return Peek(1) == '"' && Peek(2) == '"' ? TripleQuoted(line, column) : Quoted(line, column);
            case '$':
                return Substitution(line, column);
        }

        if (IsWhitespace(ch))
        {
            var sb = new StringBuilder();
            while (!AtEnd && IsWhitespace(Peek()))
            {
                sb.Append(Peek());
                Advance();
            }

            return new Token(TokenKind.Whitespace, sb.ToString(), line, column);
        }

        if (ch == '-' || char.IsAsciiDigit(ch))
        {
            var number = TryNumber();
            if (number is not null)
            {
                return new Token(TokenKind.Number, number, line, column);
            }
        }

        if (Forbidden.Contains(ch, StringComparison.Ordinal))
        {
            throw Error($"the character '{ch}' is not allowed outside quotes (quote the string to use it)", line, column);
        }

        return Unquoted(line, column);
    }

    private string? TryNumber()
    {
        // JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
        var start = _pos;
        var i = _pos;
        if (i < text.Length && text[i] == '-')
        {
            i++;
        }

        var digitsStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i == digitsStart)
        {
            return null; // a lone '-' starts unquoted text
        }

        if (i < text.Length && text[i] == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]))
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
        }

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            var j = i + 1;
            if (j < text.Length && text[j] is '+' or '-')
            {
                j++;
            }

            if (j < text.Length && char.IsAsciiDigit(text[j]))
            {
                while (j < text.Length && char.IsAsciiDigit(text[j]))
                {
                    j++;
                }

                i = j;
            }
        }

        Advance(i - start);
        return text[start..i];
    }

    private Token Unquoted(int line, int column)
    {
        var start = _pos;
        while (!AtEnd)
        {
            var c = Peek();
            if (c == '\n' || IsWhitespace(c) || Forbidden.Contains(c, StringComparison.Ordinal) || (c == '/' && Peek(1) == '/'))
            {
                break;
            }

            Advance();
        }

        return new Token(TokenKind.UnquotedText, text[start.._pos], line, column);
    }

    private Token Quoted(int line, int column)
    {
        Advance(); // opening quote
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Error("unterminated quoted string (missing closing '\"')", line, column);
            }

            var c = Peek();
            if (c == '"')
            {
                Advance();
                return new Token(TokenKind.QuotedString, sb.ToString(), line, column);
            }

            if (c == '\n')
            {
                throw Error("newline inside a quoted string (use \\n or a triple-quoted string)", _line, _column);
            }

            if (char.IsControl(c) && c != '\t')
            {
                throw Error($"control character U+{(int)c:X4} inside a quoted string (escape it)", _line, _column);
            }

            if (c != '\\')
            {
                sb.Append(c);
                Advance();
                continue;
            }

            var escapeLine = _line;
            var escapeColumn = _column;
            Advance();
            var e = Peek();
            Advance();
            switch (e)
            {
                case '"':
                    sb.Append('"');
                    break;
                case '\\':
                    sb.Append('\\');
                    break;
                case '/':
                    sb.Append('/');
                    break;
                case 'b':
                    sb.Append('\b');
                    break;
                case 'f':
                    sb.Append('\f');
                    break;
                case 'n':
                    sb.Append('\n');
                    break;
                case 'r':
                    sb.Append('\r');
                    break;
                case 't':
                    sb.Append('\t');
                    break;
                case 'u':
                    if (
                        _pos + 4 > text.Length
                        || !int.TryParse(text.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code)
                    )
                    {
                        throw Error("\\u must be followed by four hex digits", escapeLine, escapeColumn);
                    }

                    sb.Append((char)code);
                    Advance(4);
                    break;
                default:
                    throw Error($"invalid escape '\\{e}' in a quoted string", escapeLine, escapeColumn);
            }
        }
    }

    private Token TripleQuoted(int line, int column)
    {
        Advance(3);
        var start = _pos;
        while (true)
        {
            if (AtEnd)
            {
                throw Error("unterminated triple-quoted string (missing closing '\"\"\"')", line, column);
            }

            if (Peek() == '"' && Peek(1) == '"' && Peek(2) == '"')
            {
                // Any run of three or more quotes ends the string; the extra quotes belong to it.
                var run = 0;
                while (Peek(run) == '"')
                {
                    run++;
                }

                var end = _pos + run - 3;
                var value = text[start..end];
                Advance(run);
                return new Token(TokenKind.QuotedString, value, line, column);
            }

            Advance();
        }
    }

    private Token Substitution(int line, int column)
    {
        if (Peek(1) != '{')
        {
            throw Error("'$' must start a substitution '${...}' (quote the string to use a '$')", line, column);
        }

        Advance(2);
        var optional = false;
        if (Peek() == '?')
        {
            optional = true;
            Advance();
        }

        var start = _pos;
        var inQuotes = false;
        while (true)
        {
            if (AtEnd || Peek() == '\n')
            {
                throw Error("unterminated substitution (missing '}')", line, column);
            }

            var c = Peek();
            if (inQuotes && c == '\\')
            {
                Advance(2);
                continue;
            }

            if (c == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (c == '}' && !inQuotes)
            {
                break;
            }

            Advance();
        }

        var pathText = text[start.._pos];
        Advance(); // '}'
        if (string.IsNullOrWhiteSpace(pathText))
        {
            throw Error("empty substitution '${}'", line, column);
        }

        return new Token(TokenKind.Substitution, pathText, line, column, optional);
    }
}
