using Jobs.Hocon;

namespace Jobs.Host.Tests;

/// <summary>
/// The shipped cluster configurations start: docker-compose's nodes listen on all interfaces with an API key, list
/// the names they are reached by, and join the first node; the stock node's cluster options become settings.
/// </summary>
public sealed class ClusterConfigTests
{
    [Fact]
    public void ComposeConfig_RequiresAnApiKey_AllowsTheServiceNames_AndJoinsTheFirstNode()
    {
        var root = RepositoryPaths.Root();
        var compose = File.ReadAllText(Path.Combine(root, "docker-compose.yml"));
        Assert.Contains("/app/hocon/compose.conf", compose, StringComparison.Ordinal);
        Assert.Contains("JOBS_API_KEY_SHA256", compose, StringComparison.Ordinal);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("key"u8));
        var environment = new Dictionary<string, string>
        {
            ["JOBS_API_KEY_SHA256"] = sha,
            ["JOBS_CLUSTER_HOST"] = "node2",
            ["JOBS_NODE_NAME"] = "node2",
            ["JOBS_POSTGRES"] = "Host=db;Username=jobs;Password=jobs;Database=jobs",
        };
        var options = new ConfigParseOptions { Environment = name => environment.GetValueOrDefault(name) };
        var config = ConfigFactory.Load(Path.Combine(root, "hocon", "compose.conf"), null, options);
        var http = HttpSettings.FromConfig(config);
        Assert.Equal(sha, Convert.ToHexStringLower(Assert.Single(http.ApiKeys).Sha256));
        Assert.True(http.IsHostAllowed("node3"));
        Assert.False(http.IsHostAllowed("evil.example"));
        Assert.Equal("node2", config.GetString("jobs.node.name"));
        Assert.Equal("postgresql", config.GetString("jobs.persistence.backend"));
        Assert.Equal("node2", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(["akka.tcp://jobs@node1:4053"], config.GetStringList("akka.cluster.seed-nodes"));

        // Without the key's hash the file does not load: a node of the compose cluster never runs open.
        var error = Assert.ThrowsAny<ConfigException>(() =>
            ConfigFactory.Load(
                Path.Combine(root, "hocon", "compose.conf"),
                null,
                new ConfigParseOptions { Environment = name => name == "JOBS_API_KEY_SHA256" ? null : environment.GetValueOrDefault(name) }
            )
        );
        Assert.Contains("JOBS_API_KEY_SHA256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NodeOptions_ClusterOptions_BecomeSettings_AndABadSeedIsNamed()
    {
        var options = NodeOptions.Parse([
            "--port",
            "4054",
            "--host",
            "10.0.0.2",
            "--seed",
            "akka.tcp://jobs@10.0.0.1:4053",
            "--seed",
            "akka.tcp://jobs@10.0.0.3:4053",
            "--name",
            "n2",
        ]);
        var config = ConfigFactory.Load(null, options.Overrides);
        Assert.Equal(4054, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("10.0.0.2", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(["akka.tcp://jobs@10.0.0.1:4053", "akka.tcp://jobs@10.0.0.3:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("n2", config.GetString("jobs.node.name"));
        Assert.Contains(
            "akka.tcp://jobs@host:4053",
            Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--seed", "10.0.0.1:4053"])).Message,
            StringComparison.Ordinal
        );
        Assert.Contains("--port", Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--port", "http"])).Message, StringComparison.Ordinal);
    }
}
