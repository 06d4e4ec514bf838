using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Handlers;

/// <summary>A registered job kind: how to check and deserialize its payload and invoke its handler.</summary>
/// <param name="Kind">The job kind.</param>
/// <param name="PayloadType">The handler's payload type (for messages only: data never names a type).</param>
/// <param name="Options">The kind's defaults.</param>
/// <param name="Bind">
/// The payload to store for a request's payload text (null when the request has none), or a
/// <see cref="JsonException"/> saying why the handler could not receive it. It binds exactly as the worker does.
/// </param>
/// <param name="Invoke">Deserializes the stored payload and runs the handler.</param>
internal sealed record HandlerRegistration(
    string Kind,
    Type PayloadType,
    JobKindOptions Options,
    Func<string?, string?> Bind,
    Func<IServiceProvider, string?, JobContext, Task<JobOutcome>> Invoke
)
{
    public static HandlerRegistration For<THandler, TPayload>(string kind, JobKindOptions options, Func<JsonSerializerOptions> json)
        where THandler : class, IJobHandler<TPayload>
    {
        // Required constructor parameters and non-nullable annotations are enforced, so that a payload accepted at the
        // door is one the handler can use: {"kind":"echo"} is refused for a record Echo(string Text) instead of
        // reaching the handler with a null Text and failing every attempt. The options are read at first use (the
        // node runs), not at registration: they may be set after the handlers are added.
        var strict = new Lazy<JsonSerializerOptions>(() =>
        {
            var made = new JsonSerializerOptions(json()) { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true };
            made.MakeReadOnly(populateMissingResolver: true);
            return made;
        });
        return new(
            kind,
            typeof(TPayload),
            options,
            payload => BindPayload<TPayload>(payload, strict.Value),
            async (services, payload, context) =>
            {
                // The payload type is fixed by the registration; the data never names a type.
                var value = JsonSerializer.Deserialize<TPayload>(payload ?? "null", strict.Value);
                var handler = services.GetRequiredService<THandler>();
                return await handler.HandleAsync(value!, context).ConfigureAwait(false);
            }
        );
    }

    /// <summary>
    /// A missing payload is an empty object for payload classes that bind from one (a payload type with no required
    /// members), JSON null for value types that take it, and an error otherwise; a reference-typed payload is never
    /// bound to null.
    /// </summary>
    private static string? BindPayload<TPayload>(string? payload, JsonSerializerOptions options)
    {
        var text = payload ?? (typeof(TPayload).IsValueType ? "null" : "{}");
        try
        {
            if (JsonSerializer.Deserialize<TPayload>(text, options) is null && !typeof(TPayload).IsValueType)
            {
                throw new JsonException($"must not be null: the kind takes a {typeof(TPayload).Name}");
            }
        }
        catch (JsonException ex) when (payload is null)
        {
            throw new JsonException($"is required ({Describe(ex)})", ex);
        }
        catch (JsonException ex)
        {
            throw new JsonException(Describe(ex), ex);
        }
        catch (NotSupportedException ex)
        {
            throw new JsonException("cannot be bound to the kind's payload type", ex);
        }

        return payload is null && typeof(TPayload).IsValueType ? null : text;
    }

    /// <summary>What a binding error means for the sender, without the serializer's type names and advice to developers.</summary>
    private static string Describe(JsonException ex)
    {
        var at = ex.Path is { Length: > 1 } path ? " at " + path : string.Empty;
        var message = ex.Message;
        var missing = message.IndexOf("missing required properties including: ", StringComparison.Ordinal);
        if (missing >= 0)
        {
            return "missing required properties: " + message[(missing + "missing required properties including: ".Length)..].TrimEnd('.');
        }

        if (
            message.Contains("doesn't allow null values", StringComparison.Ordinal)
            || message.Contains("null", StringComparison.OrdinalIgnoreCase) && message.Contains("nullability", StringComparison.Ordinal)
        )
        {
            return "a required value is null" + at;
        }

        return message.Contains("could not be converted", StringComparison.Ordinal)
            ? "a value has the wrong type" + at
            : "it does not bind to the kind's payload" + at;
    }
}
