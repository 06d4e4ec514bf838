using Jobs.Actors.Protocol;
using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>
/// A schedule call's repeat is known by the token stored with the job, not by anything the entity holds in memory: the
/// repeat of a call whose job's entity has since started again elsewhere (a hand-off, a restart) is still its repeat.
/// </summary>
public sealed class ScheduleRepeatTests
{
    [Fact]
    public async Task EachScheduleCall_StoresItsOwnToken_WithTheJobItCreates()
    {
        // The client's repeats are known by this token: a call that stored none could not be told from another call.
        await using var node = await TestNode.StartAsync(Backend.Sqlite);
        var tokens = new List<string>();
        foreach (var id in new[] { "token-1", "token-2" })
        {
            await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload(id)) with { JobId = id, Delay = TimeSpan.FromHours(1) });
            var first = (await node.StoredEventsAsync(Entities.JobEntity.PersistenceIdOf(id)))[0];
            Assert.Equal("job-scheduled.v1", first.Manifest);
            tokens.Add(TestNode.RequestTokenOf(first)!);
        }

        Assert.All(tokens, t => Assert.False(string.IsNullOrEmpty(t)));
        Assert.NotEqual(tokens[0], tokens[1]);
    }

    [Fact]
    public async Task ARepeatReachingARecoveredEntity_IsAnsweredAsTheFirstCall()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-repeat-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        try
        {
            ScheduleJob repeat;
            string id;
            await using (var node = await TestNode.StartAsync(Backend.Sqlite, storageConfig: storage))
            {
                var runtime = node.Node.Runtime!;
                var request = ScheduleRequest.Create("echo", new EchoPayload("once")) with
                {
                    JobId = "repeat-1",
                    Delay = TimeSpan.FromHours(1),
                    OnConflict = UniqueConflict.Reject,
                };
                repeat = new ScheduleJob(runtime.Validator.Validate(request) with { Request = "call-1" }, UniqueConflict.Reject);
                id = (await runtime.Region.AskEntity<ScheduleResult>(repeat, TimeSpan.FromSeconds(10))).JobId;
            }

            await using (var node = await TestNode.StartAsync(Backend.Sqlite, storageConfig: storage))
            {
                var answer = await node.Node.Runtime!.Region.AskEntity<ScheduleResult>(repeat, TimeSpan.FromSeconds(10));
                Assert.Equal(new ScheduleResult(id, AlreadyExisted: false), answer);
                Assert.Equal(1, (await node.Client.GetAsync(id)).Revision);
                await Assert.ThrowsAsync<DuplicateJobException>(() =>
                    node.Node.Runtime!.Region.AskEntity<ScheduleResult>(
                        repeat with
                        {
                            Definition = repeat.Definition with { Request = "call-2" },
                        },
                        TimeSpan.FromSeconds(10)
                    )
                );
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
