namespace Jobs.Hocon.Tests;

public sealed class HoconConformanceTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "conformance");

    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (var folder in Directory.GetDirectories(Corpus).Order())
        {
            foreach (var file in Directory.GetFiles(folder).Where(f => Path.GetFileName(f) != "original.json").Order())
            {
                data.Add(Path.GetFileName(folder), Path.GetFileName(file));
            }
        }

        return data;
    }

    [Fact]
    public void Corpus_IsPresent_WithEveryFolder()
    {
        Assert.Equal(["equiv01", "equiv02", "equiv05"], Directory.GetDirectories(Corpus).Select(Path.GetFileName).Order());
        Assert.True(Files().Count >= 13);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void File_ResolvesTo_OriginalJson(string folder, string file)
    {
        var expected = ConfigFactory.ParseFile(Path.Combine(Corpus, folder, "original.json"), new ConfigParseOptions { Environment = null });
        var actual = ConfigFactory.ParseFile(Path.Combine(Corpus, folder, file), new ConfigParseOptions { Environment = null });
        Assert.True(
            expected.Root.ContentEquals(actual.Root),
            $"{folder}/{file}:\nexpected {expected.Root.ToJson()}\nactual   {actual.Root.ToJson()}"
        );
    }
}
