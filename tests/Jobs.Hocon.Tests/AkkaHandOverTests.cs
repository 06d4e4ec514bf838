using Akka.Actor;

namespace Jobs.Hocon.Tests;

/// <summary>
/// One parser reads a node's files: values written with HOCON features Akka's own parser misses (triple-quoted
/// strings, `${?ENV}` from the environment, includes, `+=`, quoted keys with dots) reach Akka's effective
/// configuration as this reader understood them.
/// </summary>
public sealed class AkkaHandOverTests
{
    [Fact]
    public async Task ValuesSetInAFile_ReachAkkasEffectiveConfig()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-hocon-akka-").FullName;
        try
        {
            var file = Path.Combine(directory, "node.conf");
            await File.WriteAllTextAsync(
                file,
                """"
                include "timeouts.conf"
                akka {
                  loglevel = """WARNING"""
                  actor {
                    ask-timeout = ${?JOBS_TEST_ASK_TIMEOUT}
                  }
                  custom.quoted { "a.b, c" = 9001 }
                  actor {
                  }
                  custom.greeting = "hello,   wörld"
                  custom.poem = """first line
                    second "line" """
                  custom.list = [a]
                  custom.list += b
                  custom.nothing = null
                }
                """"
            );
            await File.WriteAllTextAsync(Path.Combine(directory, "timeouts.conf"), "akka.actor.creation-timeout = 7s\n");
            var environment = new Dictionary<string, string> { ["JOBS_TEST_ASK_TIMEOUT"] = "3s" };
            var ours = ConfigFactory.ParseFile(file, new ConfigParseOptions { Environment = name => environment.GetValueOrDefault(name) });

            using var system = ActorSystem.Create("handover", ours.ToAkkaConfig());
            var effective = system.Settings.Config;
            Assert.Equal("WARNING", effective.GetString("akka.loglevel"));
            Assert.Equal(TimeSpan.FromSeconds(3), effective.GetTimeSpan("akka.actor.ask-timeout"));
            Assert.Equal(TimeSpan.FromSeconds(7), effective.GetTimeSpan("akka.actor.creation-timeout"));
            Assert.Equal(TimeSpan.FromSeconds(3), system.Settings.AskTimeout);
            Assert.Equal("hello,   wörld", effective.GetString("akka.custom.greeting"));
            Assert.Equal("first line\n    second \"line\"", effective.GetString("akka.custom.poem")); // (Akka trims a string's ends when it reads it)
            Assert.Equal(["a", "b"], effective.GetStringList("akka.custom.list"));
            Assert.Equal(9001, effective.GetInt("akka.custom.quoted.\"a.b, c\""));
            // Akka's defaults stay beneath (10 ms)
            Assert.Equal(TimeSpan.FromSeconds(5), effective.GetTimeSpan("akka.scheduler.tick-duration") * 500);
            await system.Terminate();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void NoAkkaTree_HandsOverNothing()
    {
        Assert.True(ConfigFactory.ParseString("jobs.x = 1").ToAkkaConfig().IsEmpty);
    }
}
