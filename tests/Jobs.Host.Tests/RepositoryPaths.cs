namespace Jobs.Host.Tests;

/// <summary>Where the repository's files are, for tests that read them (docs, configs, sources).</summary>
internal static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries that holds Jobs.Actors.sln.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (with Jobs.Actors.sln) was not found above " + AppContext.BaseDirectory);
    }
}
