package uplink

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

const (
	afInet   = 2
	afInet6  = 10
	rtTabAll = 0 // RT_TABLE_UNSPEC: dump every table
)

// dialRoute opens an rtnetlink socket inside ns without moving the
// caller's thread.
//
// A rootless user (root only in the keeper's user namespace) may enter
// their own namespaces but not move back into the host's, which
// Config.NetNS insists on: there the socket is made by ns.Do, which
// discards a thread it cannot move back, or here, for the process's own.
func dialRoute(ns *netns.NS) (*rtnetlink.Conn, error) {
	if initialUserNS() {
		return rtnetlink.Dial(&netlink.Config{NetNS: ns.Fd(), Strict: false})
	}
	if isSelf(ns) {
		return rtnetlink.Dial(nil)
	}
	var c *rtnetlink.Conn
	err := ns.Do(func() (err error) { c, err = rtnetlink.Dial(nil); return err })
	return c, err
}

// hostRoutes lists the destinations of every IPv4 route of every table
// in ns but default routes, and the names of the interfaces the default
// routes of the main table leave by.
func hostRoutes(c *rtnetlink.Conn) (dsts []netip.Prefix, outIfs []string, err error) {
	msgs, err := c.Route.List()
	if err != nil {
		return nil, nil, fmt.Errorf("list routes: %w", err)
	}
	var outIdx []uint32
	for _, m := range msgs {
		if m.Family != afInet {
			continue
		}
		if m.DstLength == 0 {
			if m.Table != 254 && m.Attributes.Table != 254 {
				continue
			}
			if m.Attributes.OutIface != 0 {
				outIdx = append(outIdx, m.Attributes.OutIface)
			}
			for _, nh := range m.Attributes.Multipath {
				outIdx = append(outIdx, nh.Hop.IfIndex)
			}
			continue
		}
		a, ok := netip.AddrFromSlice(m.Attributes.Dst)
		if !ok {
			continue
		}
		dsts = append(dsts, netip.PrefixFrom(a.Unmap(), int(m.DstLength)).Masked())
	}
	for _, i := range outIdx {
		l, err := c.Link.Get(i)
		if err != nil || l.Attributes == nil {
			continue
		}
		if !slices.Contains(outIfs, l.Attributes.Name) {
			outIfs = append(outIfs, l.Attributes.Name)
		}
	}
	return dsts, outIfs, nil
}

// addDefault adds "default via gw" in the namespace of c.
func addDefault(c *rtnetlink.Conn, gw netip.Addr, ifname string) error {
	l, err := c.Link.List()
	if err != nil {
		return err
	}
	var idx uint32
	for _, x := range l {
		if x.Attributes != nil && x.Attributes.Name == ifname {
			idx = x.Index
		}
	}
	if idx == 0 {
		return fmt.Errorf("no %s in the namespace", ifname)
	}
	fam := uint8(afInet)
	if gw.Is6() {
		fam = afInet6
	}
	return c.Route.Add(&rtnetlink.RouteMessage{
		Family:   fam,
		Table:    254, // main
		Protocol: 245, // link.ProtoSetns: ours
		Scope:    0,   // universe
		Type:     1,   // unicast
		Attributes: rtnetlink.RouteAttributes{
			Gateway:  net.IP(gw.AsSlice()),
			OutIface: idx,
		},
	})
}

// overlaps reports whether a and b share an address.
func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// allocate picks the first /30 of pool that overlaps none of taken.
func allocate(pool netip.Prefix, taken []netip.Prefix) (netip.Prefix, error) {
	a := pool.Masked().Addr()
	for pool.Contains(a) {
		p := netip.PrefixFrom(a, 30)
		free := true
		for _, t := range taken {
			if overlaps(p, t) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
		for i := 0; i < 4; i++ {
			a = a.Next()
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /30 in %v (routes of the host or other connections cover it); choose another with --pool or --subnet", pool)
}

// firstTwo returns the first two host addresses of an IPv4 subnet.
func firstTwo(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	a := p.Masked().Addr().Next()
	return netip.PrefixFrom(a, p.Bits()), netip.PrefixFrom(a.Next(), p.Bits())
}
