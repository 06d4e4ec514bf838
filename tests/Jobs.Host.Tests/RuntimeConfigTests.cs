using System.Text.Json;

namespace Jobs.Host.Tests;

/// <summary>
/// The node host's runtime settings that performance depends on (docs/benchmarks.md): they live in the project file,
/// where a cleanup could drop them without any other test noticing.
/// </summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void NodeHost_CompilesMethodsOptimizedOnTheirFirstCall()
    {
        // Copied beside the tests by the project reference: the file `dotnet Jobs.Host.dll` starts with.
        var path = Path.Combine(AppContext.BaseDirectory, "Jobs.Host.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(
            properties.TryGetProperty("System.Runtime.TieredCompilation.QuickJit", out var quickJit) && !quickJit.GetBoolean(),
            $"{path} does not turn quick JIT off (TieredCompilationQuickJit in src/Jobs.Host/Jobs.Host.csproj)"
        );
    }
}
