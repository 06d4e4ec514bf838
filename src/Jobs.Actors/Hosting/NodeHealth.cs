namespace Jobs.Actors.Hosting;

/// <summary>The outcome of <see cref="JobsNode.CheckHealthAsync"/>: ready when every check says <see cref="Ok"/>.</summary>
/// <param name="Ready">Whether the node can take and run jobs now.</param>
/// <param name="Checks">Each check by name (node, journal, scheduler, pool:queue) and its result: "ok", or what is wrong.</param>
public sealed record NodeHealth(bool Ready, IReadOnlyDictionary<string, string> Checks)
{
    /// <summary>The result of a check that passed.</summary>
    public const string Ok = "ok";
}
