package netnstest

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

const (
	netlinkRoute    = 0    // NETLINK_ROUTE
	rtmGetLink      = 18   // RTM_GETLINK
	rtmGetMulticast = 58   // RTM_GETMULTICAST
	afInet6         = 10   // AF_INET6
	ifaMulticast    = 7    // IFA_MULTICAST
	iffUp           = 0x1  // IFF_UP
	iffRunning      = 0x40 // IFF_RUNNING: operationally up
)

// waitReady waits until the interface ifname in ns takes traffic for its
// IPv4 address and its IPv6 address a: it is operationally up
// (IFF_RUNNING), and it has joined a's solicited-node multicast group.
//
// A veth's carrier comes on when both ends are up, but the kernel starts
// the transmit queue of the end that was up first only later, from a work
// item (linkwatch) that marks it operationally up just before, and that
// runs up to a second late when many devices change at once; IPv6 joins
// an address's groups from another work item. Until then packets are
// dropped: the first ARP request or neighbour solicitation is lost, and
// the test's first connection stalls for the one-second retransmit.
//
// Both are asked over one rtnetlink socket opened in ns (the group with
// an RTM_GETMULTICAST dump, what /proc/net/igmp6 lists), so the wait
// moves no thread into ns after the socket is made.
func waitReady(ctx context.Context, ns *netns.NS, ifname string, a netip.Addr) error {
	fail := func(err error) error { return fmt.Errorf("wait for %s:%s to come up: %w", ns, ifname, err) }
	// Strict: the kernel then filters the group dump by interface.
	c, err := netlink.Dial(netlinkRoute, &netlink.Config{NetNS: ns.Fd(), Strict: true}) // a socket inside ns
	runtime.KeepAlive(ns)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	getLink, err := (&rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: ifname}}).MarshalBinary()
	if err != nil {
		return fail(err)
	}
	b := a.As16()
	group := netip.AddrFrom16([16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
	var index uint32
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		if index == 0 {
			msgs, err := c.Execute(netlink.Message{Header: netlink.Header{Type: rtmGetLink, Flags: netlink.Request}, Data: getLink})
			if err != nil {
				return fail(err)
			}
			var lm rtnetlink.LinkMessage
			if len(msgs) == 1 && lm.UnmarshalBinary(msgs[0].Data) == nil && lm.Flags&iffRunning != 0 {
				index = lm.Index
			}
		}
		if index != 0 {
			joined, err := hasGroup(c, index, group)
			if err != nil || joined {
				if err != nil {
					return fail(err)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(pause):
		}
	}
}

// hasGroup reports whether the interface index has joined the IPv6
// multicast group. (Its groups only: /proc/net/igmp6 lists every
// interface's, which grows with the links in the namespace.)
func hasGroup(c *netlink.Conn, index uint32, group netip.Addr) (bool, error) {
	req := make([]byte, 8) // struct ifaddrmsg: the family and the interface
	req[0] = afInet6
	binary.NativeEndian.PutUint32(req[4:], index)
	msgs, err := c.Execute(netlink.Message{Header: netlink.Header{Type: rtmGetMulticast, Flags: netlink.Request | netlink.Dump}, Data: req})
	if err != nil {
		return false, err
	}
	for _, m := range msgs {
		if len(m.Data) < 8 || binary.NativeEndian.Uint32(m.Data[4:8]) != index {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[8:])
		if err != nil {
			return false, err
		}
		for ad.Next() {
			if ad.Type() == ifaMulticast {
				if g, ok := netip.AddrFromSlice(ad.Bytes()); ok && g == group {
					return true, nil
				}
			}
		}
	}
	return false, nil
}
