using Jobs.Persistence.Postgres;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>
/// The job system's PostgreSQL connections keep the statements they repeat prepared, so that the server does not
/// parse and plan them on every execution (a three-node load run spent ~7% of the machine's CPU in PostgreSQL's
/// parser and planner before); a connection string that sets Max Auto Prepare keeps its own choice.
/// </summary>
public sealed class PostgresAutoPrepareTests
{
    [Theory]
    [InlineData("Host=db;Database=jobs", 64)]
    [InlineData("Host=db;Database=jobs;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Database=jobs;maxautoprepare=10", 10)]
    [InlineData("Host=db;Database=jobs;MAX AUTO PREPARE=5", 5)]
    public void ConnectionStrings_GetAutoPrepare_UnlessTheySetItThemselves(string given, int expected)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresDataSources.WithAutoPrepare(given));
        Assert.Equal(expected, builder.MaxAutoPrepare);
        Assert.Equal("db", builder.Host);
        Assert.Equal("jobs", builder.Database);
    }

    [Fact]
    public async Task AStatementRunRepeatedly_IsPreparedOnItsConnection_AndAnsweredAsBefore()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("autoprepare");
        await using var dataSource = PostgresDataSources.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        for (var i = 0; i < 5; i++)
        {
            await using var command = new NpgsqlCommand("SELECT $1::int + 1", connection) { Parameters = { new() { Value = i } } };
            Assert.Equal(i + 1, await command.ExecuteScalarAsync());
        }

        await using var prepared = new NpgsqlCommand(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int + 1%'",
            connection
        );
        Assert.Equal(1L, await prepared.ExecuteScalarAsync());
    }
}
