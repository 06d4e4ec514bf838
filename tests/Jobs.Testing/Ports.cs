using System.Net;
using System.Net.Sockets;

namespace Jobs.Testing;

/// <summary>Loopback ports for tests.</summary>
public static class Ports
{
    /// <summary>A loopback TCP port that was free a moment ago (the OS picked it).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
