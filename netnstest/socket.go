package netnstest

import (
	"net"
	"testing"

	"github.com/setns/setns/netns"
)

// Listen returns a listener whose socket lives in ns, like net.Listen
// run inside "ip netns exec": network is "tcp", "tcp4", "tcp6" or "unix",
// and addr should be a literal address ("0.0.0.0:0", "[::1]:0"), since a
// name would be resolved outside ns. The listener is closed at cleanup.
//
// The socket is made by a goroutine locked to a private thread inside ns
// ((*netns.NS).Do): a socket stays in the namespace it was created in,
// and the calling thread is never moved.
func Listen(t testing.TB, ns *netns.NS, network, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	err := ns.Do(func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: Listen %s %s in %s: %v", network, addr, ns, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// ListenPacket is Listen for packet sockets ("udp", "udp4", "udp6",
// "unixgram", "ip4:icmp", ...), as net.ListenPacket.
func ListenPacket(t testing.TB, ns *netns.NS, network, addr string) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := ns.Do(func() (err error) {
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: ListenPacket %s %s in %s: %v", network, addr, ns, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// Dial returns a connection whose socket lives in ns, like net.Dial run
// inside "ip netns exec"; addr should be a literal address, such as a
// Listener's Addr().String(). The dial ends with the test's context, and
// the connection is closed at cleanup. The calling thread is never moved.
func Dial(t testing.TB, ns *netns.NS, network, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	err := ns.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(t.Context(), network, addr)
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: Dial %s %s in %s: %v", network, addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
