package uplink

import (
	"net/netip"

	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// ctnetlink, by hand: one dump and one delete per matching entry is all
// that is needed, two message shapes that do not justify a dependency.
const (
	netlinkNetfilter = 12
	ctGet            = 1<<8 | 1 // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
	ctDelete         = 1<<8 | 2 // ... IPCTNL_MSG_CT_DELETE
	ctaTupleOrig     = 1
	ctaTupleReply    = 2
	ctaZone          = 18
	ctaTupleIP       = 1
	ctaIPv4Src       = 1
	ctaIPv4Dst       = 2
	ctaIPv6Src       = 3
	ctaIPv6Dst       = 4
)

// flushConntrack deletes host's conntrack entries that have one of addrs
// as an endpoint of either direction, so that a later connection reusing
// the addresses does not inherit NAT state (a stale UDP entry would keep
// sending replies to a vanished masquerade). Without ctnetlink (module
// nf_conntrack_netlink missing) there is nothing to do: it is only
// missing when nothing ever loaded conntrack's netlink side, and the
// entries then time out on their own. Returns how many were deleted.
func flushConntrack(host *netns.NS, addrs []netip.Addr) (int, error) {
	// The dump walks the kernel's whole table, all namespaces' entries (about
	// 10 ms); the per-namespace count says when there is nothing to find.
	if n, err := readSysctl(host, "net/netfilter/nf_conntrack_count"); err != nil || n == "0" {
		return 0, nil // no conntrack in the kernel, or nothing tracked here
	}
	c, err := netlink.Dial(netlinkNetfilter, &netlink.Config{NetNS: host.Fd()})
	if err != nil {
		return 0, nil
	}
	defer c.Close()
	n := 0
	// One dump for all families (AF_UNSPEC).
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: ctGet, Flags: netlink.Request | netlink.Dump},
		Data:   []byte{0, 0, 0, 0},
	})
	if err != nil {
		return 0, nil // no ctnetlink
	}
	{
		for _, m := range msgs {
			if len(m.Data) < 4 {
				continue
			}
			orig, zone, match := parseEntry(m.Data[4:], addrs)
			if !match || orig == nil {
				continue
			}
			ae := netlink.NewAttributeEncoder()
			ae.Bytes(ctaTupleOrig|netlink.Nested, orig)
			if zone != nil {
				ae.Bytes(ctaZone, zone)
			}
			b, err := ae.Encode()
			if err != nil {
				continue
			}
			if _, err := c.Execute(netlink.Message{
				Header: netlink.Header{Type: ctDelete, Flags: netlink.Request | netlink.Acknowledge},
				Data:   append([]byte{m.Data[0], 0, 0, 0}, b...),
			}); err == nil {
				n++
			}
		}
	}
	return n, nil
}

// parseEntry returns an entry's original tuple (raw), its zone and
// whether either tuple has one of addrs as source or destination.
func parseEntry(b []byte, addrs []netip.Addr) (orig, zone []byte, match bool) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, nil, false
	}
	for ad.Next() {
		switch ad.Type() {
		case ctaTupleOrig, ctaTupleReply:
			raw := ad.Bytes()
			if ad.Type() == ctaTupleOrig {
				orig = raw
			}
			if tupleHas(raw, addrs) {
				match = true
			}
		case ctaZone:
			zone = ad.Bytes()
		}
	}
	return orig, zone, match
}

func tupleHas(tuple []byte, addrs []netip.Addr) bool {
	ad, err := netlink.NewAttributeDecoder(tuple)
	if err != nil {
		return false
	}
	for ad.Next() {
		if ad.Type() != ctaTupleIP {
			continue
		}
		ip, err := netlink.NewAttributeDecoder(ad.Bytes())
		if err != nil {
			return false
		}
		for ip.Next() {
			switch ip.Type() {
			case ctaIPv4Src, ctaIPv4Dst, ctaIPv6Src, ctaIPv6Dst:
				a, ok := netip.AddrFromSlice(ip.Bytes())
				if !ok {
					continue
				}
				for _, x := range addrs {
					if x == a {
						return true
					}
				}
			}
		}
	}
	return false
}
