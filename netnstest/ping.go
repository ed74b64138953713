package netnstest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/netns"
)

// PingTimeout is how long Ping waits for the echo reply.
const PingTimeout = 5 * time.Second

// Ping sends one ICMP (or ICMPv6) echo request from ns to to and fails t
// unless the matching reply comes back within PingTimeout. It needs no
// ping binary and no privilege: the socket is an unprivileged ICMP echo
// socket (SOCK_DGRAM, IPPROTO_ICMP) made inside ns, which New's
// net.ipv4.ping_group_range allows; in other namespaces that sysctl may
// have to be opened first. The calling thread is never moved.
func Ping(t testing.TB, ns *netns.NS, to netip.Addr) {
	t.Helper()
	if err := ping(ns, to.Unmap()); err != nil {
		t.Fatalf("netnstest: ping %s from %s: %v", to, ns, err)
	}
}

func ping(ns *netns.NS, to netip.Addr) error {
	family, proto, request, reply := syscall.AF_INET, syscall.IPPROTO_ICMP, byte(8), byte(0)
	if to.Is6() {
		family, proto, request, reply = syscall.AF_INET6, syscall.IPPROTO_ICMPV6, 128, 129
	}
	var pc net.PacketConn
	err := ns.Do(func() error {
		fd, err := icmpEchoSocket(family, proto)
		if err != nil {
			if errors.Is(err, syscall.EACCES) {
				return fmt.Errorf("icmp echo socket: %w (open net.ipv4.ping_group_range)", err)
			}
			return fmt.Errorf("icmp echo socket: %w", err)
		}
		f := os.NewFile(uintptr(fd), "icmp")
		defer f.Close()
		pc, err = net.FilePacketConn(f) // a dup, still in ns
		return err
	})
	if err != nil {
		return err
	}
	defer pc.Close()
	payload := []byte(fmt.Sprintf("netnstest %d", time.Now().UnixNano()))
	msg := append([]byte{request, 0, 0, 0, 0, 0, 0, 1}, payload...) // id and checksum: the kernel's
	if _, err := pc.WriteTo(msg, &net.UDPAddr{IP: to.AsSlice(), Zone: to.Zone()}); err != nil {
		return err
	}
	pc.SetReadDeadline(time.Now().Add(PingTimeout))
	buf := make([]byte, 1500)
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("no reply in %v", PingTimeout)
			}
			return err
		}
		if n >= 8 && buf[0] == reply && bytes.Equal(buf[8:n], payload) {
			return nil
		}
	}
}
