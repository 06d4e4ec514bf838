namespace Jobs.Hocon.Parsing;

internal enum TokenKind
{
    Eof,
    Newline,
    Whitespace,
    Comma,
    Colon,
    Equals,
    PlusEquals,
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    QuotedString,
    UnquotedText,
    Number,
    Substitution,
}

/// <summary>One lexical token; <see cref="Text"/> is the decoded string, the number as written, or the substitution's path text.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Line, int Column, bool Optional = false)
{
    public bool IsValuePiece => Kind is TokenKind.QuotedString or TokenKind.UnquotedText or TokenKind.Number or TokenKind.Substitution;
}
