namespace Jobs.Hocon;

/// <summary>The JSON type of a resolved configuration value.</summary>
public enum ConfigValueType
{
    /// <summary>An object of named fields.</summary>
    Object,

    /// <summary>An ordered list.</summary>
    List,

    /// <summary>A string.</summary>
    String,

    /// <summary>A number, kept as written.</summary>
    Number,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>null.</summary>
    Null,
}
