package nstest

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// The addresses of Internet's test networks (RFC 5737 documentation
// ranges: never routed anywhere real).
const (
	HostWAN   = "198.51.100.2"  // the host's address towards the internet
	WanGW     = "198.51.100.1"  // the host's default gateway
	ServerIP  = "203.0.113.10"  // the server on the internet
	ServerTCP = ServerIP + ":7" // where it answers
)

// Internet makes a namespace playing the host and one playing the
// internet: a veth between them, the host's default route via WanGW, and
// on ServerTCP a server that answers each connection with the peer
// address it sees (see Serve). Uplink tests connect namespaces to the
// host, so that nothing touches the machine's own network.
func Internet(t testing.TB) (host *netns.NS, hostName string, wan *netns.NS, wanName string) {
	t.Helper()
	RequireRoot(t)
	host, hostName = NewNamed(t)
	wan, wanName = NewNamed(t)
	if err := link.AddVeth(context.Background(),
		link.End{NS: host, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix(HostWAN + "/24")}},
		link.End{NS: wan, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix(WanGW + "/24"), netip.MustParsePrefix(ServerIP + "/24")}},
		nil); err != nil {
		t.Fatal(err)
	}
	MustIP(t, "-n", hostName, "route", "add", "default", "via", WanGW)
	Serve(t, wan, ServerTCP)
	return host, hostName, wan, wanName
}

// Serve answers every TCP connection to addr inside ns with the peer's
// address as seen there, one line, until the test ends.
func Serve(t testing.TB, ns *netns.NS, addr string) {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			c.Write([]byte(h + "\n"))
			c.Close()
		}
	}()
}
