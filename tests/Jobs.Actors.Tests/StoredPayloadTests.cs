using System.Text.Json;
using Jobs.Actors.Entities;

namespace Jobs.Actors.Tests;

/// <summary>Stored payloads written by older versions (none at all, or a lone surrogate) still read back as JSON.</summary>
public sealed class StoredPayloadTests
{
    [Fact]
    public void NoPayload_ReadsAsJsonNull_AndSerializes()
    {
        var element = StoredPayload.ToElement(null);
        Assert.Equal(JsonValueKind.Null, element.ValueKind);
        Assert.Equal("null", JsonSerializer.Serialize(element));
    }

    [Fact]
    public void LoneSurrogate_ReadsAsTheStoredText_InsteadOfFailingEveryRead()
    {
        const string stored = """{"text":"\ud800"}""";
        var element = StoredPayload.ToElement(stored);
        Assert.Equal(JsonValueKind.String, element.ValueKind);
        Assert.Equal(stored, element.GetString());
        _ = JsonSerializer.Serialize(element); // what failed every GET and list before
    }

    [Fact]
    public void WellFormedPayload_IsItself()
    {
        var element = StoredPayload.ToElement("""{"a":[1,"x"]}""");
        Assert.Equal(JsonValueKind.Object, element.ValueKind);
        Assert.Equal("""{"a":[1,"x"]}""", JsonSerializer.Serialize(element));
    }
}
