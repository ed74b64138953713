package netnstest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// Alias is the ifalias of both ends of every link Connect makes, the
// marker by which link.Delete and "netns link list" know them as setns's.
const Alias = "setns:netnstest"

// Endpoint is one end of a link Connect made.
type Endpoint struct {
	NS    *netns.NS    // the namespace the end is in
	Name  string       // its interface name: eth0, eth1, ... in the order Connect made them
	Addr4 netip.Prefix // an IPv4 /31 from 198.18.0.0/15 (RFC 2544, benchmarking)
	Addr6 netip.Prefix // an IPv6 /127 from the ULA prefix fdc9:2b3a:7e57::/48
}

// String returns "NS:IF".
func (e Endpoint) String() string { return e.NS.String() + ":" + e.Name }

var (
	pairs   atomic.Uint64
	ifnames sync.Map // namespace inode → *atomic.Int32, the next ethN
	base4   = netip.MustParseAddr("198.18.0.0").As4()
	base6   = netip.MustParseAddr("fdc9:2b3a:7e57::").As16()
)

// Connect joins a and b with a veth pair, both ends up, and gives the ends
// the two addresses of a fresh IPv4 /31 and IPv6 /127, usable at once: no
// duplicate address detection, and Connect returns only once both ends
// take traffic (the kernel drops packets until then, which would stall a
// first connection for a second). Ends are named eth0, eth1, ... in each
// namespace, in the order of Connect calls. The pairs of one test binary
// get distinct addresses (65536 of them for IPv4, then they repeat).
//
// The link goes when its namespaces do; if neither is New's, Connect
// deletes it at cleanup. Both ends are created directly in their
// namespaces, as "ip link add ... netns A type veth peer ... netns B";
// the calling thread is never moved.
func Connect(t testing.TB, a, b *netns.NS) (Endpoint, Endpoint) {
	t.Helper()
	if a == nil || b == nil {
		t.Fatal("netnstest: Connect: nil namespace")
	}
	n := pairs.Add(1) - 1
	ea, eb := endpoint(a, n, 0), endpoint(b, n, 1)
	_, ownA := owned.Load(a)
	_, ownB := owned.Load(b)
	if !ownA || !ownB {
		t.Cleanup(func() {
			err := link.Delete(context.Background(), a, ea.Name)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("netnstest: cleanup: %v", err)
			}
		})
	}
	err := link.AddVeth(t.Context(),
		link.End{NS: a, Name: ea.Name, Addrs: []netip.Prefix{ea.Addr4, ea.Addr6}},
		link.End{NS: b, Name: eb.Name, Addrs: []netip.Prefix{eb.Addr4, eb.Addr6}},
		// New brought lo up: AddVeth need not, for namespaces of New.
		&link.Options{Alias: Alias, NoDAD: true, KeepLoopback: ownA && ownB})
	if err != nil {
		t.Fatalf("netnstest: Connect %s %s: %v", ea, eb, err)
	}
	// Both ends at once: each wait is mostly waiting for the kernel.
	errb := make(chan error, 1)
	go func() { errb <- waitReady(t.Context(), eb.NS, eb.Name, eb.Addr6.Addr()) }()
	erra := waitReady(t.Context(), ea.NS, ea.Name, ea.Addr6.Addr())
	if err := cmp.Or(erra, <-errb); err != nil {
		t.Fatalf("netnstest: Connect: %v", err)
	}
	return ea, eb
}

// endpoint is side (0 or 1) of pair n in ns.
func endpoint(ns *netns.NS, n uint64, side int) Endpoint {
	v, _ := ifnames.LoadOrStore(ns.Inode(), new(atomic.Int32))
	idx := v.(*atomic.Int32).Add(1) - 1
	a4 := base4
	host := uint32(n%(1<<16))*2 + uint32(side) // 198.18.0.0/15 holds 2^17 addresses
	a4[1] += byte(host >> 16)
	a4[2] = byte(host >> 8)
	a4[3] = byte(host)
	a6 := base6
	id := n*2 + uint64(side)
	for i := range 8 {
		a6[15-i] = byte(id >> (8 * i))
	}
	return Endpoint{
		NS:    ns,
		Name:  fmt.Sprintf("eth%d", idx),
		Addr4: netip.PrefixFrom(netip.AddrFrom4(a4), 31),
		Addr6: netip.PrefixFrom(netip.AddrFrom16(a6), 127),
	}
}
