namespace Jobs.Persistence.Sql;

/// <summary>Automatic migration is off and the database schema is not at the version this build needs.</summary>
public sealed class SchemaVersionException : Exception
{
    /// <summary>Creates the exception naming the component and versions.</summary>
    public SchemaVersionException(string component, int found, int required)
        : base($"schema of '{component}' is at version {found} but version {required} is required; enable auto-migrate or apply the migrations")
    {
        Component = component;
        Found = found;
        Required = required;
    }

    /// <summary>The component whose schema is behind.</summary>
    public string Component { get; }

    /// <summary>The version found.</summary>
    public int Found { get; }

    /// <summary>The version required.</summary>
    public int Required { get; }
}
