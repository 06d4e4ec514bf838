namespace Jobs.Host.Tests;

/// <summary>
/// The layout rule the formatter cannot apply: it wraps code at 150 columns, but not the text of comments and string
/// literals; those are wrapped by hand, and this test names every line that is not.
/// </summary>
public sealed class SourceLayoutTests
{
    private const int MaxLineLength = 150;

    [Fact]
    public void NoSourceLine_IsLongerThan150Characters()
    {
        var root = RepositoryPaths.Root();
        var sources = new[] { "src", "tests", "bench" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains("/obj/", StringComparison.Ordinal) && !path.Contains("/bin/", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(sources);

        var tooLong = sources
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (path, line, number: index + 1)))
            .Where(l => l.line.Length > MaxLineLength)
            .Select(l => $"{Path.GetRelativePath(root, l.path)}:{l.number} ({l.line.Length} characters)")
            .ToList();
        Assert.True(tooLong.Count == 0, $"{tooLong.Count} lines longer than {MaxLineLength} characters:\n{string.Join("\n", tooLong)}");
    }
}
