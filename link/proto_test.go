package link_test

import (
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// addrProtos dumps the global addresses in ns and returns each one's
// IFA_PROTO (0 when absent).
func addrProtos(t *testing.T, ns *netns.NS) map[netip.Addr]uint8 {
	t.Helper()
	c, err := netlink.Dial(0, &netlink.Config{NetNS: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: 22, Flags: netlink.Request | netlink.Dump}, // RTM_GETADDR
		Data:   make([]byte, 8),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[netip.Addr]uint8{}
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data[8:])
		if err != nil {
			t.Fatal(err)
		}
		var addr netip.Addr
		var proto uint8
		for ad.Next() {
			switch ad.Type() {
			case 1: // IFA_ADDRESS
				addr, _ = netip.AddrFromSlice(ad.Bytes())
			case 11: // IFA_PROTO
				proto = ad.Uint8()
			}
		}
		if m.Data[3] == 0 { // RT_SCOPE_UNIVERSE
			out[addr] = proto
		}
	}
	if len(out) == 0 {
		t.Errorf("no global addresses in %s", ns)
	}
	return out
}
