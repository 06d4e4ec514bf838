using System.Text.Json;

namespace Jobs.Actors.Entities;

/// <summary>Turns a stored payload back into JSON for queries, whatever an older version let into storage.</summary>
internal static class StoredPayload
{
    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    /// <summary>
    /// The payload as a JSON element: JSON null when there is none, and, for text that cannot be parsed or written
    /// back (a lone surrogate stored before the door refused them), the stored text as a JSON string, so that one
    /// bad row shows as what it is instead of failing every read and list that includes it.
    /// </summary>
    public static JsonElement ToElement(string? payload)
    {
        if (payload is null)
        {
            return Null;
        }

        try
        {
            var element = JsonDocument.Parse(payload).RootElement.Clone();
            using var sink = new Utf8JsonWriter(Stream.Null);
            element.WriteTo(sink);
            return element;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return JsonSerializer.SerializeToElement(payload);
        }
    }
}
