using System.Net;
using System.Net.Sockets;

namespace Jobs.Host;

/// <summary>
/// Where the sample http-get handler may connect: anywhere but link-local addresses, which include the cloud
/// metadata services (169.254.169.254 and its IPv6 forms) that hand out credentials. The check is made on the
/// address actually connected to, after name resolution and on every redirect, so a name that resolves there is
/// refused too.
/// </summary>
internal static class SampleNetwork
{
    /// <summary>The metadata address of IPv6-only cloud instances.</summary>
    private static readonly IPAddress Ipv6Metadata = IPAddress.Parse("fd00:ec2::254");

    /// <summary>Connects to the first allowed address of the endpoint's host; refuses when none is allowed.</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(
                $"'{endpoint.Host}' resolves only to link-local or metadata addresses, which the http-get sample does not reach"
            );
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>False for link-local (169.254.0.0/16, fe80::/10), the metadata addresses of the large clouds, and unspecified addresses.</summary>
    internal static bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 169 && b[1] == 254) && !(b[0] == 100 && b[1] == 100 && b[2] == 100 && b[3] == 200);
        }

        return !address.IsIPv6LinkLocal && !address.Equals(Ipv6Metadata);
    }
}
