using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Jobs.Benchmarks.Load;

/// <summary>
/// Draws the load tool's JSON lines as one SVG: throughput (jobs/s, with the 10,000 target) per system, and latency
/// (p50 and p99 of the latency and delayed workloads, with their targets) per system. No dependencies: plain SVG text.
/// </summary>
internal static class LoadChart
{
    private const int Width = 900;
    private const int PanelHeight = 260;
    private const int Left = 190;
    private const int Right = 40;

    public static void Write(string jsonl, string svgPath)
    {
        var lines = File.ReadLines(jsonl).Where(l => l.TrimStart().StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        double Field(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
        string Text(JsonElement e, string name) => e.GetProperty(name).GetString()!;

        var throughput = lines
            .Where(l => Text(l, "workload") is "throughput" or "priorities")
            .Select(l => ($"{Text(l, "system")} {(Text(l, "workload") == "throughput" ? "20k" : "backlog drain")}", Field(l, "jobs_per_s")))
            .ToList();
        var latency = lines
            .Where(l => Text(l, "workload") is "latency" or "delayed")
            .Select(l => ($"{Text(l, "system")} {Text(l, "workload")}", Field(l, "p50_ms"), Field(l, "p99_ms")))
            .ToList();

        var svg = new StringBuilder();
        var height = (2 * PanelHeight) + 80 + (20 * (throughput.Count + (2 * latency.Count)));
        svg.Append(
            CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>");
        var y = 30;
        y = Bars(svg, y, "Throughput, jobs/s (higher is better; target 10,000)", [.. throughput.Select(t => (t.Item1, t.Item2, "#3b6ea5"))], 10_000);
        y += 30;
        Bars(
            svg,
            y,
            "Latency, ms (p50 light, p99 dark; lower is better; targets: latency p99 10, delayed p99 20)",
            [.. latency.SelectMany(l => new[] { (l.Item1 + " p50", l.Item2, "#9cc3e6"), (l.Item1 + " p99", l.Item3, "#1f4e79") })],
            10
        );
        svg.Append("</svg>");
        File.WriteAllText(svgPath, svg.ToString());
    }

    /// <summary>One horizontal bar per item with its value, and a dashed line at <paramref name="target"/>; returns the next y.</summary>
    private static int Bars(StringBuilder svg, int y, string title, IReadOnlyList<(string Label, double Value, string Color)> items, double target)
    {
        svg.Append(
            CultureInfo.InvariantCulture,
            $"<text x=\"10\" y=\"{y}\" font-size=\"14\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>"
        );
        y += 15;
        var max = Math.Max(target, items.Count == 0 ? 1 : items.Max(i => i.Value)) * 1.1;
        var plot = Width - Left - Right;
        var top = y;
        foreach (var (label, value, color) in items)
        {
            var w = Math.Max(1, value / max * plot);
            svg.Append(
                CultureInfo.InvariantCulture,
                $"<text x=\"{Left - 6}\" y=\"{y + 13}\" text-anchor=\"end\">{WebUtility.HtmlEncode(label)}</text>"
            );
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{y + 2}\" width=\"{w:0.#}\" height=\"14\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + w + 4:0.#}\" y=\"{y + 13}\">{value:#,0.##}</text>");
            y += 20;
        }

        var tx = Left + (target / max * plot);
        svg.Append(
            CultureInfo.InvariantCulture,
            $"<line x1=\"{tx:0.#}\" y1=\"{top}\" x2=\"{tx:0.#}\" y2=\"{y}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>"
        );
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{tx + 3:0.#}\" y=\"{y + 12}\" fill=\"#c00\">target {target:#,0}</text>");
        return y + 20;
    }
}
