namespace Jobs.Hocon.Tests;

/// <summary>One test (or a few) per rule of HOCON.md, in the order of the spec's sections.</summary>
public sealed class HoconSpecTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["HOME"] = "/home/jobs",
        ["JOBS_TEST_PORT"] = "8080",
        ["PATH"] = "/usr/bin",
        ["EMPTY"] = string.Empty,
    };

    private static Config Parse(string text) =>
        ConfigFactory.ParseString(text, "test.conf", new ConfigParseOptions { Environment = name => Env.GetValueOrDefault(name) });

    private static string Json(string text) => Parse(text).Root.ToJson();

    // --- Comments ---------------------------------------------------------------------------------------

    [Fact]
    public void Comments_HashAndSlashes_Ignored_ExceptInQuotes()
    {
        var config = Parse(
            """
            # hash comment
            a = 1 // slash comment
            b = "not # a comment"
            c = "not // either" # but this is
            """
        );
        Assert.Equal(1, config.GetInt("a"));
        Assert.Equal("not # a comment", config.GetString("b"));
        Assert.Equal("not // either", config.GetString("c"));
    }

    [Fact]
    public void Comments_UnquotedUrlLikeText_StopsAtDoubleSlash()
    {
        // An unquoted URL is the text "http", a forbidden ':' and a comment: an error that says to quote it.
        Assert.Contains(
            "':' is not allowed in a value",
            Assert.Throws<ConfigException>(() => Parse("a = http://x")).Message,
            StringComparison.Ordinal
        );
        Assert.Equal("http://x", Parse("a = \"http://x\"").GetString("a"));
        Assert.Equal("""{"a":"x"}""", Json("a = x//comment"));
    }

    // --- Root braces, separators, commas ------------------------------------------------------------------

    [Theory]
    [InlineData("{ a : 1 }")]
    [InlineData("a : 1")]
    [InlineData("a = 1")]
    [InlineData("a=1,")]
    [InlineData("\n\n  a\n  :\n  1\n")]
    public void RootBracesAndSeparators_Optional(string text) => Assert.Equal("""{"a":1}""", Json(text));

    [Fact]
    public void Separator_OmittedBeforeObject()
    {
        Assert.Equal("""{"a":{"b":1}}""", Json("a { b = 1 }"));
        Assert.Equal("""{"a":{"b":{}}}""", Json("a.b {}"));
    }

    [Fact]
    public void Commas_NewlinesSeparate_TrailingCommaAllowed()
    {
        Assert.Equal("""{"a":[1,2,3],"b":1,"c":2}""", Json("a = [1,2,3,]\nb = 1\nc = 2,"));
        Assert.Equal("""{"a":[1,2,3]}""", Json("a = [\n1\n2\n3\n]"));
    }

    [Theory]
    [InlineData("a = [1,,2]", "two commas")]
    [InlineData("a = [,1]", "comma")]
    [InlineData("a = [1,2,,]", "two commas")]
    [InlineData("a = 1,, b = 2", "two commas")]
    [InlineData("{ a = 1 ", "missing '}'")]
    [InlineData("a = 1 }", "unbalanced")]
    [InlineData("a = [1, 2", "missing ']'")]
    [InlineData("[1, 2]", "must be an object")]
    public void Syntax_Errors_NameTheProblem(string text, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("test.conf:1:", error.Message, StringComparison.Ordinal);
    }

    // --- Whitespace ------------------------------------------------------------------------------------

    [Fact]
    public void Whitespace_UnicodeSpacesAndBom_AreWhitespace()
    {
        var config = Parse("\uFEFFa\u00A0=\u20071\nb = x\u2003y");
        Assert.Equal(1, config.GetInt("a"));
        Assert.Equal("x\u2003y", config.GetString("b")); // whitespace between simple values is kept as written
    }

    // --- Duplicate keys and merging -------------------------------------------------------------------------

    [Fact]
    public void DuplicateKeys_ObjectsMerge_OtherwiseLastWins()
    {
        Assert.Equal("""{"foo":{"a":42,"b":43}}""", Json("""foo : { a : 42 }, foo : { b : 43 }"""));
        Assert.Equal("""{"foo":{"b":43}}""", Json("""foo : { a : 42 }, foo : null, foo : { b : 43 }"""));
        Assert.Equal("""{"a":2}""", Json("a = 1\na = 2"));
        Assert.Equal("""{"a":{"x":{"y":1,"z":2}}}""", Json("a.x.y = 1\na { x { z = 2 } }"));
    }

    // --- Unquoted strings -------------------------------------------------------------------------------

    [Fact]
    public void Unquoted_Strings_AndTypedLiterals()
    {
        var config = Parse("a = hello\nb = true\nc = null\nd = 42\ne = -1.5e3\nf = truefoo\ng = 10.0bar\nh = foo-bar_baz.qux");
        Assert.Equal(ConfigValueType.String, config.GetValue("a").ValueType);
        Assert.Equal(ConfigValueType.Boolean, config.GetValue("b").ValueType);
        Assert.Equal(ConfigValueType.Null, config.GetValue("c").ValueType);
        Assert.Equal(ConfigValueType.Number, config.GetValue("d").ValueType);
        Assert.Equal(-1500.0, config.GetDouble("e"));
        Assert.Equal("truefoo", config.GetString("f"));
        Assert.Equal("10.0bar", config.GetString("g"));
        Assert.Equal("foo-bar_baz.qux", config.GetString("h"));
    }

    [Theory]
    [InlineData("a = x$y", "'$'")]
    [InlineData("a = x@y", "'@'")]
    [InlineData("a = b:c", "':'")]
    [InlineData("a = x+y", "'+'")]
    public void Unquoted_ForbiddenCharacters_AreErrors(string text, string character) =>
        Assert.Contains(character, Assert.Throws<ConfigException>(() => Parse(text)).Message, StringComparison.Ordinal);

    // --- Quoted and multi-line strings -----------------------------------------------------------------------

    [Fact]
    public void Quoted_JsonEscapes()
    {
        Assert.Equal("a\"b\\c/d\be\ff\ng\rh\ti\u00e9", Parse("""x = "a\"b\\c\/d\be\ff\ng\rh\ti\u00e9" """).GetString("x"));
        Assert.Contains("invalid escape", Assert.Throws<ConfigException>(() => Parse("""x = "\q" """)).Message, StringComparison.Ordinal);
        Assert.Contains(
            "newline inside a quoted string",
            Assert.Throws<ConfigException>(() => Parse("x = \"a\nb\"")).Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void TripleQuoted_RawMultiline_ExtraQuotesBelongToString()
    {
        Assert.Equal("a\\n\n  \"b\"", Parse("x = \"\"\"a\\n\n  \"b\"\"\"\"").GetString("x"));
        Assert.Equal("foo\"", Parse("x = \"\"\"foo\"\"\"\"").GetString("x"));
    }

    // --- Value concatenation ------------------------------------------------------------------------------

    [Fact]
    public void Concatenation_Strings_KeepInnerWhitespace_TrimOuter()
    {
        Assert.Equal("foo bar  baz", Parse("a =   foo bar  baz   ").GetString("a"));
        Assert.Equal("null bar 42 baz true 3.14 hi", Parse("a = null bar 42 \"baz\" true 3.14 hi").GetString("a"));
        Assert.Equal("1 2 3 4", Parse("a = [ 1 2 3 4 ]").GetStringList("a").Single());
    }

    [Fact]
    public void Concatenation_ArraysAppend_ObjectsMerge()
    {
        Assert.Equal("""{"a":[1,2,3,4]}""", Json("a = [1, 2] [3, 4]"));
        Assert.Equal("""{"a":{"b":1,"c":2}}""", Json("a = { b : 1 } { c : 2 }"));
        Assert.Equal("""{"a":[[1,2,3,4]]}""", Json("a = [ [ 1, 2 ] [ 3, 4 ] ]"));
        Assert.Equal("""{"a":[[1,2],[3,4]]}""", Json("a = [ [ 1, 2 ]\n[ 3, 4 ] ]"));
    }

    [Fact]
    public void Concatenation_MixedTypes_IsErrorNamingBoth()
    {
        var error = Assert.Throws<ConfigException>(() => Parse("a = [1] foo"));
        Assert.Contains("cannot concatenate a list with a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Concatenation_SubstitutionsWithWhitespace_ObjectsIgnoreIt_StringsKeepIt()
    {
        Assert.Equal("""{"x":{"a":1},"y":{"b":2},"z":{"a":1,"b":2}}""", Json("x = {a:1}\ny = {b:2}\nz = ${x} ${y}"));
        Assert.Equal("hello world", Parse("x = hello\ny = world\nz = ${x} ${y}").GetString("z"));
        Assert.Equal("my name is jobs", Parse("name = jobs\nz = my name is ${name}").GetString("z"));
    }

    // --- Path expressions and keys ----------------------------------------------------------------------

    [Fact]
    public void PathKeys_QuotedElementsKeepDots_NumbersSplit()
    {
        Assert.Equal("""{"a":{"b.c":{"d":1}}}""", Json("a.\"b.c\".d = 1"));
        Assert.Equal("""{"10":{"5":"x"}}""", Json("10.5 = x"));
        Assert.Equal("""{"foo bar":{"baz":1}}""", Json("foo bar.baz = 1"));
        Assert.Equal("""{"":1}""", Json("\"\" = 1"));
        Assert.Contains("empty element", Assert.Throws<ConfigException>(() => Parse("a..b = 1")).Message, StringComparison.Ordinal);
        Assert.Contains("not allowed in keys", Assert.Throws<ConfigException>(() => Parse("${x} = 1")).Message, StringComparison.Ordinal);
    }

    // --- Substitutions ------------------------------------------------------------------------------

    [Fact]
    public void Substitution_LooksForward_AndPreservesType()
    {
        var config = Parse("a = ${b}\nb = ${c}\nc = 42\nd = [${c}, ${b}]\ne { f = ${c} }");
        Assert.Equal(ConfigValueType.Number, config.GetValue("a").ValueType);
        Assert.Equal(
            [42, 42],
            config.GetList("d").Select(v => int.Parse(((ConfigScalar)v).Text!, System.Globalization.CultureInfo.InvariantCulture))
        );
        Assert.Equal(42, config.GetInt("e.f"));
    }

    [Fact]
    public void Substitution_SeesFinalMergedValue()
    {
        Assert.Equal(43, Parse("bar : { foo : 42, baz : ${bar.foo} }\nbar : { foo : 43 }").GetInt("bar.baz"));
        var mutual = Parse("bar : { a : ${foo.d}, b : 1 }\nbar.b = 3\nfoo : { c : ${bar.b}, d : 2 }\nfoo.d = 4");
        Assert.Equal(4, mutual.GetInt("bar.a"));
        Assert.Equal(3, mutual.GetInt("foo.c"));
    }

    [Fact]
    public void Substitution_Optional_Undefined_RemovesFieldOrElement_KeepsPrevious()
    {
        Assert.Equal("""{"b":1}""", Json("a = ${?nope}\nb = 1"));
        Assert.Equal("""{"a":[1,2]}""", Json("a = [1, ${?nope}, 2]"));
        Assert.Equal("""{"a":1}""", Json("a = 1\na = ${?nope}"));
        Assert.Equal("""{"a":"foo"}""", Json("a = ${?nope}foo"));
        Assert.Equal("""{}""", Json("a = ${?x}${?y}"));
    }

    [Fact]
    public void Substitution_Missing_IsErrorNamingPathAndPosition()
    {
        var error = Assert.Throws<ConfigException>(() => Parse("a {\n  b = ${does.not.exist}\n}"));
        Assert.Contains("${does.not.exist}", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.conf:2:7", error.Message, StringComparison.Ordinal);
        Assert.Contains("'a.b'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Substitution_HiddenByLaterNonObject_NeverEvaluated()
    {
        Assert.Equal(42, Parse("foo : ${does-not-exist}\nfoo : 42").GetInt("foo"));
        Assert.Equal(42, Parse("foo : ${foo}\nfoo : 42").GetInt("foo"));
    }

    [Fact]
    public void Substitution_EnvironmentFallback_AndNullBlocksIt()
    {
        Assert.Equal("/home/jobs", Parse("home = ${HOME}").GetString("home"));
        Assert.Equal(8080, Parse("port = ${?JOBS_TEST_PORT}").GetInt("port"));
        Assert.Equal(string.Empty, Parse("e = ${EMPTY}").GetString("e"));
        Assert.False(Parse("HOME = null\nhome = ${HOME}").HasPath("home"));
    }

    [Fact]
    public void Substitution_Cycles_AreErrors()
    {
        Assert.Contains("cycle", Assert.Throws<ConfigException>(() => Parse("bar : ${foo}\nfoo : ${bar}")).Message, StringComparison.Ordinal);
        Assert.Contains("cycle", Assert.Throws<ConfigException>(() => Parse("a : ${b}\nb : ${c}\nc : ${a}")).Message, StringComparison.Ordinal);
        Assert.Contains("cycle", Assert.Throws<ConfigException>(() => Parse("a : { b : ${a} }")).Message, StringComparison.Ordinal);
        Assert.Contains("cycle", Assert.Throws<ConfigException>(() => Parse("a : [${a}]")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Substitution_OptionalInCycle_IsUndefined()
    {
        Assert.Equal("""{"b":1}""", Json("a : ${?a}\nb = 1"));
    }

    // --- Self-referential substitutions ---------------------------------------------------------------

    [Fact]
    public void SelfReference_RefersToEarlierValue()
    {
        Assert.Equal("a:b:c:d", Parse("path : \"a:b:c\"\npath : ${path}\":d\"").GetString("path"));
        Assert.Equal(["/bin", "/usr/bin"], Parse("path = [ /bin ]\npath = ${path} [ /usr/bin ]").GetStringList("path"));
        Assert.Equal("""{"foo":{"a":1}}""", Json("foo : { a : 1 }\nfoo : ${foo}"));
        Assert.Equal("""{"a":"foo"}""", Json("a = ${?a}foo"));
    }

    [Fact]
    public void SelfReference_WithoutEarlierValue_FallsBackToEnvironment_OrFails()
    {
        Assert.Equal("/usr/bin:/opt/jobs", Parse("PATH = ${PATH}\":/opt/jobs\"").GetString("PATH"));
        Assert.Contains("has no earlier value", Assert.Throws<ConfigException>(() => Parse("foo : ${foo}")).Message, StringComparison.Ordinal);
        Assert.Equal("""{}""", Json("foo : ${?foo}"));
    }

    [Fact]
    public void SelfReference_ThroughSubPath_LooksBelow()
    {
        var config = Parse("foo : { a : { c : 1 } }\nfoo : ${foo.a}\nfoo : { a : 2 }");
        Assert.Equal(1, config.GetInt("foo.c"));
        Assert.Equal(2, config.GetInt("foo.a"));
        Assert.Equal(2, config.GetConfig("foo").Root.Count);
    }

    [Fact]
    public void SelfReference_InNestedPathKey()
    {
        Assert.Equal("x-y", Parse("a { b = x }\na.b = ${a.b}-y").GetString("a.b"));
        Assert.Equal("ab", Parse("a { b { c = a } }\na { b { c = ${a.b.c}b } }").GetString("a.b.c"));
    }

    [Fact]
    public void PlusEquals_AppendsToArray_EvenWithoutEarlierValue()
    {
        Assert.Equal(["a", "b"], Parse("x += a\nx += b").GetStringList("x"));
        Assert.Equal(["1", "2", "3"], Parse("x = [1]\nx += 2\nx += 3").GetStringList("x"));
        Assert.Equal(["a"], Parse("o.x += a").GetStringList("o.x"));
        Assert.Contains("cannot concatenate", Assert.Throws<ConfigException>(() => Parse("x = 1\nx += 2")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MergingWithSubstitutions_Inheritance()
    {
        var config = Parse("generic = { size = 6, name = generic }\neast = ${generic} { name = east }");
        Assert.Equal(6, config.GetInt("east.size"));
        Assert.Equal("east", config.GetString("east.name"));
    }

    // --- Includes -------------------------------------------------------------------------------------

    [Fact]
    public void Includes_RelativeToIncludingFile_RequiredAndOptional_WithFixups()
    {
        var dir = Directory.CreateTempSubdirectory("hocon-include").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            File.WriteAllText(Path.Combine(dir, "sub", "foo.conf"), "x : 10, y : ${x}, z : ${top}");
            File.WriteAllText(
                Path.Combine(dir, "sub", "main.conf"),
                "top = 1\na : { include \"foo.conf\" }\na : { x : 42 }\ninclude \"missing\"\nb { include file(\"foo.conf\") }"
            );
            File.WriteAllText(Path.Combine(dir, "sub", "both.json"), """{ "j" : 1, "k" : 1 }""");
            File.WriteAllText(Path.Combine(dir, "sub", "both.conf"), "k : 2");
            File.WriteAllText(Path.Combine(dir, "sub", "props.properties"), "p.q = v\n# comment\np.r : w");
            File.WriteAllText(
                Path.Combine(dir, "root.conf"),
                "include required(\"sub/main.conf\")\ninclude \"sub/both\"\ninclude url(\"file://"
                    + Path.Combine(dir, "sub", "props.properties")
                    + "\")\nc = ${a.y}"
            );
            var config = ConfigFactory.ParseFile(Path.Combine(dir, "root.conf"), new ConfigParseOptions { Environment = null });
            Assert.Equal(42, config.GetInt("a.y")); // ${x} fixed up to ${a.x}, which the later a.x overrides
            Assert.Equal(1, config.GetInt("a.z")); // ${top} not under a: falls back to the root path
            Assert.Equal(10, config.GetInt("b.x"));
            Assert.Equal(42, config.GetInt("c"));
            Assert.Equal(1, config.GetInt("j"));
            Assert.Equal(2, config.GetInt("k")); // .conf loads after .json
            Assert.Equal("w", config.GetString("p.r"));

            File.WriteAllText(Path.Combine(dir, "bad.conf"), "include required(\"nope.conf\")");
            var error = Assert.Throws<ConfigException>(() => ConfigFactory.ParseFile(Path.Combine(dir, "bad.conf")));
            Assert.Contains("required include 'nope.conf' was not found", error.Message, StringComparison.Ordinal);
            Assert.Contains("bad.conf:1:1", error.Message, StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(dir, "loop.conf"), "include \"loop.conf\"");
            Assert.Contains(
                "include cycle",
                Assert.Throws<ConfigException>(() => ConfigFactory.ParseFile(Path.Combine(dir, "loop.conf"))).Message,
                StringComparison.Ordinal
            );
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Includes_EmbeddedResource_Classpath()
    {
        var config = Parse("include classpath(\"reference.conf\")");
        Assert.True(config.HasPath("jobs.scheduler.prefetch"));
    }

    [Fact]
    public void Includes_NetworkUrl_Refused()
    {
        Assert.Contains(
            "only file: URLs",
            Assert.Throws<ConfigException>(() => Parse("include url(\"http://example.com/x.conf\")")).Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void Include_AsValueOrLaterInKey_IsPlainString()
    {
        Assert.Equal(
            """{"foo include":42,"a":"include","b":["include"],"include":1}""",
            Json("foo include : 42\na : include\nb : [ include ]\n\"include\" : 1")
        );
    }

    // --- Units, typed access and conversions ------------------------------------------------------------------

    [Theory]
    [InlineData("10", 10.0)]
    [InlineData("10ms", 10.0)]
    [InlineData("1.5 s", 1500.0)]
    [InlineData("2 minutes", 120_000.0)]
    [InlineData("1h", 3_600_000.0)]
    [InlineData("1 d", 86_400_000.0)]
    [InlineData("500us", 0.5)]
    [InlineData("2000000 nanoseconds", 2.0)]
    public void Durations_AllUnits(string text, double milliseconds) =>
        Assert.Equal(milliseconds, Parse($"d = \"{text}\"").GetDuration("d").TotalMilliseconds, 6);

    [Theory]
    [InlineData("512", 512L)]
    [InlineData("1K", 1024L)]
    [InlineData("1 KiB", 1024L)]
    [InlineData("1kB", 1000L)]
    [InlineData("1 kilobytes", 1000L)]
    [InlineData("2M", 2L * 1024 * 1024)]
    [InlineData("2MB", 2_000_000L)]
    [InlineData("1 GiB", 1L << 30)]
    [InlineData("1GB", 1_000_000_000L)]
    [InlineData("1 mebibyte", 1L << 20)]
    [InlineData("3 bytes", 3L)]
    public void Sizes_AllUnits(string text, long bytes) => Assert.Equal(bytes, Parse($"s = \"{text}\"").GetBytes("s"));

    [Fact]
    public void Units_BadValues_NameKeyAndUnit()
    {
        var error = Assert.Throws<ConfigException>(() => Parse("a { timeout = 10 parsecs }").GetDuration("a.timeout"));
        Assert.Contains("'a.timeout'", error.Message, StringComparison.Ordinal);
        Assert.Contains("parsecs", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.conf:1:15", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not fit", Assert.Throws<ConfigException>(() => Parse("s = 20 EiB").GetBytes("s")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Booleans_AllSpellings()
    {
        var config = Parse("a = yes, b = off, c = on, d = no, e = true, f = \"false\"");
        Assert.Equal([true, false, true, false, true, false], new[] { "a", "b", "c", "d", "e", "f" }.Select(config.GetBoolean));
        Assert.Contains("a boolean", Assert.Throws<ConfigException>(() => Parse("x = maybe").GetBoolean("x")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypedAccess_WrongType_NamesPathAndTypes()
    {
        var config = Parse("a { b = [1, 2] }\nn = null\ns = abc");
        var error = Assert.Throws<ConfigException>(() => config.GetInt("a.b"));
        Assert.Contains("'a.b'", error.Message, StringComparison.Ordinal);
        Assert.Contains("list", error.Message, StringComparison.Ordinal);
        Assert.Contains("is null", Assert.Throws<ConfigException>(() => config.GetString("n")).Message, StringComparison.Ordinal);
        Assert.Contains("is missing", Assert.Throws<ConfigException>(() => config.GetString("nope")).Message, StringComparison.Ordinal);
        Assert.Contains("an integer", Assert.Throws<ConfigException>(() => config.GetLong("s")).Message, StringComparison.Ordinal);
        Assert.Contains("out of range", Assert.Throws<ConfigException>(() => Parse("x = 99999999999").GetInt("x")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypedAccess_Conversions()
    {
        var config = Parse("n = 42\ns = \"17\"\nb = true\nd = \"2.5\"");
        Assert.Equal("42", config.GetString("n"));
        Assert.Equal(17, config.GetInt("s"));
        Assert.Equal("true", config.GetString("b"));
        Assert.Equal(2.5, config.GetDouble("d"));
    }

    [Fact]
    public void NumericallyIndexedObject_ReadsAsList()
    {
        Assert.Equal(["a", "b", "c"], Parse("x { 2 = c, 0 = a, 1 = b }").GetStringList("x"));
    }

    [Fact]
    public void GetConfig_And_WithFallback_Layer()
    {
        var user = Parse("jobs { a = 1, nested { x = 1 } }");
        var reference = Parse("jobs { a = 0, b = 2, nested { y = 2 } }");
        var merged = user.WithFallback(reference);
        Assert.Equal(1, merged.GetInt("jobs.a"));
        Assert.Equal(2, merged.GetInt("jobs.b"));
        var nested = merged.GetConfig("jobs.nested");
        Assert.Equal(1, nested.GetInt("x"));
        Assert.Equal(2, nested.GetInt("y"));
        Assert.Contains("'jobs.nested.z'", Assert.Throws<ConfigException>(() => nested.GetInt("z")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UserOverReference_ResolvedTogether()
    {
        var config = ConfigFactory.Load(
            text: "jobs.scheduler.prefetch = 7\nmine = ${jobs.scheduler.prefetch}",
            options: new ConfigParseOptions { Environment = null }
        );
        Assert.Equal(7, config.GetInt("jobs.scheduler.prefetch"));
        Assert.Equal(7, config.GetInt("mine"));
        Assert.True(config.HasPath("jobs.scheduler.batch-size"));
    }
}
