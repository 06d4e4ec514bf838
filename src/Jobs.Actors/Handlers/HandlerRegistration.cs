using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Handlers;

/// <summary>A registered job kind: how to deserialize its payload and invoke its handler.</summary>
internal sealed record HandlerRegistration(string Kind, Type PayloadType, JobKindOptions Options, Func<IServiceProvider, string?, JobContext, Task<JobOutcome>> Invoke)
{
    public static HandlerRegistration For<THandler, TPayload>(string kind, JobKindOptions options, JsonSerializerOptions json)
        where THandler : class, IJobHandler<TPayload> =>
        new(kind, typeof(TPayload), options, async (services, payload, context) =>
        {
            // The payload type is fixed by the registration; the data never names a type.
            var value = payload is null ? default : JsonSerializer.Deserialize<TPayload>(payload, json);
            var handler = services.GetRequiredService<THandler>();
            return await handler.HandleAsync(value!, context).ConfigureAwait(false);
        });
}
