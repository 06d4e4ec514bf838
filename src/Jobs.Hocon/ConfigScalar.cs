using System.Globalization;
using System.Text.Json;

namespace Jobs.Hocon;

/// <summary>A string, number, boolean or null; numbers keep the text they were written with.</summary>
public sealed class ConfigScalar : ConfigValue
{
    internal ConfigScalar(ConfigValueType type, string? text, ConfigOrigin origin)
        : base(origin)
    {
        if (type is ConfigValueType.Object or ConfigValueType.List)
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "a scalar cannot be an object or a list");
        }

        ValueType = type;
        Text = type == ConfigValueType.Null ? null : text;
    }

    /// <inheritdoc />
    public override ConfigValueType ValueType { get; }

    /// <summary>The value as text (numbers as written, booleans as true/false); null for null.</summary>
    public string? Text { get; }

    /// <summary>Creates a string value.</summary>
    public static ConfigScalar FromString(string value, ConfigOrigin? origin = null) =>
        new(ConfigValueType.String, value, origin ?? ConfigOrigin.Code);

    /// <inheritdoc />
    public override bool ContentEquals(ConfigValue other)
    {
        if (other is not ConfigScalar scalar || scalar.ValueType != ValueType)
        {
            return false;
        }

        if (ValueType == ConfigValueType.Number)
        {
            return double.Parse(Text!, CultureInfo.InvariantCulture) == double.Parse(scalar.Text!, CultureInfo.InvariantCulture);
        }

        return Text == scalar.Text;
    }

    /// <inheritdoc />
    public override string ToString() => Text ?? "null";

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        switch (ValueType)
        {
            case ConfigValueType.Null:
                writer.WriteNullValue();
                break;
            case ConfigValueType.Boolean:
                writer.WriteBooleanValue(Text == "true");
                break;
            case ConfigValueType.Number:
                writer.WriteRawValue(Text!);
                break;
            default:
                writer.WriteStringValue(Text);
                break;
        }
    }
}
