using System.Data.Common;
using System.Globalization;

namespace Jobs.Persistence.Sql;

/// <summary>Binds a list of values as parameters for an <c>IN (...)</c> clause.</summary>
internal static class SqlLists
{
    /// <summary>Adds <c>@p0</c>, <c>@p1</c>, ... for <paramref name="values"/> and returns them joined for the IN list.</summary>
    public static string BindInList(DbCommand command, IReadOnlyList<string> values)
    {
        var names = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            names[i] = "@p" + i.ToString(CultureInfo.InvariantCulture);
            var parameter = command.CreateParameter();
            parameter.ParameterName = names[i];
            parameter.Value = values[i];
            command.Parameters.Add(parameter);
        }

        return string.Join(", ", names);
    }
}
