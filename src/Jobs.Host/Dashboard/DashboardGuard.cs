using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Jobs.Host.Dashboard;

/// <summary>
/// Who may use the dashboard and how its forms are protected. Without API keys configured, only requests from this
/// machine are answered (403 otherwise). With keys, a login form takes a key and sets a signed, HttpOnly,
/// SameSite=Strict session cookie; a read-only key (or jobs.dashboard.read-only) allows pages but no actions.
/// Every POST must carry the form token of this browser: an HMAC, under the dashboard's secret, of a random
/// per-browser id (a cookie) and the session, so that a cookie and field pair chosen by someone else never passes;
/// and a same-origin Origin header when the browser sends one.
/// </summary>
internal sealed class DashboardGuard(HttpSettings http, DashboardSettings settings)
{
    public const string SessionCookie = "jobs_session";
    public const string CsrfCookie = "jobs_csrf";
    public const string CsrfField = "csrf";
    private readonly byte[] _secret = settings.Secret is { } shared
        ? SHA256.HashData(Encoding.UTF8.GetBytes(shared))
        : RandomNumberGenerator.GetBytes(32);

    public bool AuthRequired => http.ApiKeys.Count > 0;

    /// <summary>The outcome of checking a request: allowed (and whether it may change things), or refused with a status.</summary>
    public readonly record struct Access(bool Allowed, bool CanAct, int Status, string Reason);

    public Access Check(HttpContext context)
    {
        if (!AuthRequired)
        {
            var remote = context.Connection.RemoteIpAddress;
            if (remote is not null && !IPAddress.IsLoopback(remote))
            {
                return new Access(
                    false,
                    false,
                    403,
                    "the dashboard answers only requests from this machine unless authentication is configured (jobs.http.auth.api-keys)"
                );
            }

            return new Access(true, !settings.ReadOnly, 200, string.Empty);
        }

        if (ReadSession(context) is not { } readOnlyKey)
        {
            return new Access(false, false, 401, "log in with an API key");
        }

        return new Access(true, !settings.ReadOnly && !readOnlyKey, 200, string.Empty);
    }

    /// <summary>Logs in with <paramref name="presented"/>: sets the session cookie when it is a configured key.</summary>
    public bool LogIn(HttpContext context, string? presented)
    {
        if (string.IsNullOrEmpty(presented) || ApiGuards.Match(presented, http.ApiKeys) is not { } key)
        {
            return false;
        }

        var expires = DateTimeOffset.UtcNow + settings.SessionLifetime;
        var payload = $"{(key.ReadOnly ? 1 : 0)}|{expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
        var value = payload + "|" + Convert.ToBase64String(Sign(payload));
        context.Response.Cookies.Append(
            SessionCookie,
            value,
            new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/dashboard",
                Expires = expires,
            }
        );
        return true;
    }

    /// <summary>The form token of this browser (and session): sets the browser's id cookie when it has none.</summary>
    public string CsrfToken(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CsrfCookie, out var browser) || browser is not { Length: 43 })
        {
            if (context.Items[CsrfCookie] is string issued)
            {
                browser = issued;
            }
            else
            {
                browser = Base64Url(RandomNumberGenerator.GetBytes(32));
                context.Items[CsrfCookie] = browser;
                context.Response.Cookies.Append(
                    CsrfCookie,
                    browser,
                    new CookieOptions
                    {
                        HttpOnly = true,
                        SameSite = SameSiteMode.Strict,
                        Secure = context.Request.IsHttps,
                        Path = "/dashboard",
                    }
                );
            }
        }

        return FormToken(browser, Session(context));
    }

    /// <summary>True when a POST carries this browser's form token and, if present, a same-origin Origin header.</summary>
    public bool CsrfValid(HttpContext context, IFormCollection form)
    {
        if (!context.Request.Cookies.TryGetValue(CsrfCookie, out var browser) || string.IsNullOrEmpty(browser))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(FormToken(browser, Session(context)));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(form[CsrfField].ToString())))
        {
            return false;
        }

        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length == 0 || origin == "null"
            ? origin.Length == 0
            : Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static string Session(HttpContext context) =>
        context.Request.Cookies.TryGetValue(SessionCookie, out var session) ? session ?? string.Empty : string.Empty;

    private string FormToken(string browser, string session) => Base64Url(Sign("csrf|" + browser + "|" + session));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private bool? ReadSession(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(SessionCookie, out var value) || value is null)
        {
            return null;
        }

        var parts = value.Split('|');
        if (parts.Length != 3)
        {
            return null;
        }

        var payload = parts[0] + "|" + parts[1];
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return null;
        }

        if (
            !CryptographicOperations.FixedTimeEquals(signature, Sign(payload))
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.FromUnixTimeSeconds(expires) < DateTimeOffset.UtcNow
        )
        {
            return null;
        }

        return parts[0] == "1";
    }

    private byte[] Sign(string payload) => HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(payload));
}
