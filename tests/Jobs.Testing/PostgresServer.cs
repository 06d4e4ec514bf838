using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Jobs.Testing;

/// <summary>
/// A throwaway PostgreSQL server started from the machine's binaries (initdb + pg_ctl in a temp directory, a free
/// loopback port, fsync and synchronous_commit on). As root (CI), the server runs as the 'postgres' user, because
/// initdb refuses root. Set JOBS_TEST_POSTGRES to a connection string to use an existing server instead.
/// There is deliberately no "skip when missing": a test that needs PostgreSQL fails if none can be started.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The environment variable naming an existing server to use.</summary>
    public const string ExternalVariable = "JOBS_TEST_POSTGRES";

    // One server per test process, shared by every test class; stopped when the process exits. A process-wide
    // resource, not test state: tests isolate themselves with their own databases (CreateDatabaseAsync).
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(() =>
        StartAsync(external: Environment.GetEnvironmentVariable(ExternalVariable))
    );

    private readonly string? _dataDirectory;
    private readonly string? _root;
    private readonly string? _binDirectory;
    private readonly int _port;
    private int _databaseCounter;

    private PostgresServer(string adminConnectionString, string? root, string? dataDirectory, string? binDirectory, int port)
    {
        AdminConnectionString = adminConnectionString;
        _root = root;
        _dataDirectory = dataDirectory;
        _binDirectory = binDirectory;
        _port = port;
    }

    /// <summary>A connection string to the server's maintenance database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>True when this process started the server (and can stop and restart it).</summary>
    public bool IsOwned => _dataDirectory is not null;

    /// <summary>The server shared by every test in this process.</summary>
    public static Task<PostgresServer> SharedAsync() => SharedServer.Value;

    /// <summary>Starts a dedicated server (for tests that stop or crash it).</summary>
    public static Task<PostgresServer> StartDedicatedAsync() => StartAsync(external: null);

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var safePrefix = new string([.. prefix.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(20)]);
        var name = $"{safePrefix}_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid().ToString("N")[..16]}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = name,
            Pooling = true,
            MaxPoolSize = 50,
        }.ToString();
    }

    /// <summary>Stops the server like a power cut (pg_ctl stop -m immediate): no checkpoint, WAL recovery on next start.</summary>
    public async Task StopImmediateAsync()
    {
        EnsureOwned();
        NpgsqlConnection.ClearAllPools();
        await RunAsync(Tool("pg_ctl"), ["-D", _dataDirectory!, "-m", "immediate", "-w", "stop"]);
    }

    /// <summary>Starts a stopped server again on the same port and data directory.</summary>
    public async Task RestartAsync()
    {
        EnsureOwned();
        await StartServerAsync(_binDirectory!, _root!, _dataDirectory!, _port);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!IsOwned)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Tool("pg_ctl"), ["-D", _dataDirectory!, "-m", "fast", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_root!, recursive: true);
        }
        catch (IOException) { }
    }

    private static async Task<PostgresServer> StartAsync(string? external)
    {
        if (!string.IsNullOrWhiteSpace(external))
        {
            return new PostgresServer(external, null, null, null, 0);
        }

        var bin = FindBinaries();
        await RemoveStaleServersAsync(bin);
        var root = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var data = Path.Combine(root, "data");
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", root], asPostgres: false);
        }

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "jobs", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        var port = Ports.Free();
        await StartServerAsync(bin, root, data, port);
        var server = new PostgresServer(
            new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Username = "jobs",
                Database = "postgres",
                Pooling = true,
                Timeout = 30,
                CommandTimeout = 120,
            }.ToString(),
            root,
            data,
            bin,
            port
        );
        // Shared and dedicated servers alike are stopped and deleted when the test process exits normally; a killed
        // process leaves them to the next run's sweep (RemoveStaleServersAsync).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    private const string DirectoryPrefix = "jobs-pg-";

    /// <summary>
    /// Stops and deletes the servers of test processes that are gone (killed before they could clean up): each
    /// server's directory is named for the process that made it. Servers of live processes (another test project
    /// running now) are left alone.
    /// </summary>
    private static async Task RemoveStaleServersAsync(string bin)
    {
        foreach (var directory in Directory.GetDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            var name = Path.GetFileName(directory)[DirectoryPrefix.Length..];
            if (!int.TryParse(name.Split('-')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var owner) || ProcessAlive(owner))
            {
                continue;
            }

            var data = Path.Combine(directory, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                try
                {
                    await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
                }
                catch (InvalidOperationException)
                {
                    // Not running (a stale pid file): nothing to stop.
                }
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another sweeping process got there first, or it is not ours to delete.
            }
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task StartServerAsync(string bin, string root, string data, int port)
    {
        var options = string.Join(
            ' ',
            $"-c port={port.ToString(CultureInfo.InvariantCulture)}",
            "-c listen_addresses=127.0.0.1",
            $"-c unix_socket_directories={root}",
            "-c fsync=on",
            "-c synchronous_commit=on",
            "-c max_connections=300",
            "-c shared_buffers=128MB"
        );
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(root, "server.log"), "-o", options, "-w", "-t", "120", "start"]);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private string Tool(string name) => Path.Combine(_binDirectory!, name);

    private void EnsureOwned()
    {
        if (!IsOwned)
        {
            throw new InvalidOperationException(
                $"this test stops and restarts PostgreSQL, which needs a server it started itself (unset {ExternalVariable})"
            );
        }
    }

    private static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory
                .GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install Debian's postgresql package, or set {ExternalVariable})"
            );
    }

    private static async Task RunAsync(string file, string[] arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres && IsRoot)
        {
            start.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            start.FileName = file;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}"
            );
        }
    }
}
