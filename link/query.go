package link

import (
	"context"
	"errors"
	"io/fs"
	"net"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
)

// device is what this package reads of one interface.
type device struct {
	index     uint32
	name      string
	kind      string // IFLA_INFO_KIND: "veth", "" for lo
	alias     string
	mac       net.HardwareAddr
	mtu       uint32
	group     uint32
	up        bool
	peerIndex uint32 // IFLA_LINK: a veth's peer's ifindex
	peerNSID  int32  // IFLA_LINK_NETNSID, -1 when the peer is in the same namespace
}

// decodeDevice reads an RTM_NEWLINK message: rtnetlink/v2's fields, plus
// IFLA_LINK_NETNSID, which it skips.
func decodeDevice(m netlink.Message) (device, error) {
	var lm rtnetlink.LinkMessage
	if err := lm.UnmarshalBinary(m.Data); err != nil {
		return device{}, err
	}
	d := device{index: lm.Index, up: lm.Flags&iffUp != 0, peerNSID: -1}
	if a := lm.Attributes; a != nil {
		d.name, d.mac, d.mtu = a.Name, a.Address, a.MTU
		d.peerIndex = a.Type // rtnetlink/v2 stores IFLA_LINK in Type
		if a.Alias != nil {
			d.alias = *a.Alias
		}
		if a.NetDevGroup != nil {
			d.group = *a.NetDevGroup
		}
		if a.Info != nil {
			d.kind = a.Info.Kind
		}
	}
	ad, err := netlink.NewAttributeDecoder(m.Data[ifinfoLen:])
	if err != nil {
		return device{}, err
	}
	for ad.Next() {
		if ad.Type() == iflaLinkNetnsid {
			d.peerNSID = ad.Int32()
		}
	}
	return d, ad.Err()
}

// getByName is "ip link show NAME": fs.ErrNotExist when there is none.
func getByName(ctx context.Context, c *conn, name string) (device, error) {
	m, err := (&rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: name}}).MarshalBinary()
	if err != nil {
		return device{}, err
	}
	msgs, err := c.do(ctx, rtmGetLink, 0, m)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNoDevice) {
			return device{}, fs.ErrNotExist
		}
		return device{}, err
	}
	if len(msgs) != 1 {
		return device{}, errors.New("unexpected reply to RTM_GETLINK")
	}
	return decodeDevice(msgs[0])
}

// exists reports whether the namespace of c has an interface name; on
// errors it says yes, which is what the caller needs to blame the end.
func exists(ctx context.Context, c *conn, name string) bool {
	_, err := getByName(ctx, c, name)
	return !errors.Is(err, fs.ErrNotExist)
}

// devices is "ip link show": every interface in c's namespace.
func devices(ctx context.Context, c *conn) ([]device, error) {
	m, err := (&rtnetlink.LinkMessage{}).MarshalBinary()
	if err != nil {
		return nil, err
	}
	msgs, err := c.do(ctx, rtmGetLink, netlink.Dump, m)
	if err != nil {
		return nil, err
	}
	out := make([]device, 0, len(msgs))
	for _, m := range msgs {
		d, err := decodeDevice(m)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// deleteByName is "ip link del NAME"; the kernel takes the name
// (IFLA_IFNAME) in place of an index.
func deleteByName(ctx context.Context, c *conn, name string) error {
	m, err := (&rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: name}}).MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.do(ctx, rtmDelLink, netlink.Acknowledge, m)
	return err
}

// deleteByIndex is "ip link del dev INDEX".
func deleteByIndex(ctx context.Context, c *conn, index uint32) error {
	m, err := (&rtnetlink.LinkMessage{Index: index}).MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.do(ctx, rtmDelLink, netlink.Acknowledge, m)
	return err
}
