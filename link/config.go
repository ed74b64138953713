package link

import (
	"context"
	"net/netip"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
)

// failure says which step of AddVeth failed, and on which end.
type failure struct {
	op  string
	end End
}

// configure brings lo up in both namespaces and adds the addresses of
// both ends, through the socket of each end's namespace.
func configure(ctx context.Context, ca, cb *conn, a, b End, o *Options) (failure, error) {
	for i, s := range []struct {
		c *conn
		e End
	}{{ca, a}, {cb, b}} {
		if (i == 0 || cb != ca) && (o == nil || !o.KeepLoopback) {
			if err := loUp(ctx, s.c); err != nil {
				return failure{"lo up", s.e}, err
			}
		}
		if err := setEnd(ctx, s.c, s.e.Name, o.alias(), i == 1 && (o == nil || !o.Down)); err != nil {
			return failure{"set", s.e}, err
		}
		if len(s.e.Addrs) == 0 {
			continue
		}
		l, err := getByName(ctx, s.c, s.e.Name)
		if err != nil {
			return failure{"addr add", s.e}, err
		}
		for _, p := range s.e.Addrs {
			if err := addAddr(ctx, s.c, l.index, p, o != nil && o.NoDAD); err != nil {
				return failure{"addr add " + p.String(), s.e}, err
			}
		}
	}
	return failure{}, nil
}

// loUp is "ip link set lo up".
func loUp(ctx context.Context, c *conn) error {
	m, err := (&rtnetlink.LinkMessage{Index: loopbackIdx, Flags: iffUp, Change: iffUp}).MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.do(ctx, rtmNewLink, netlink.Acknowledge, m)
	return err
}

// setEnd is "ip link set NAME alias ALIAS [up]". The kernel ignores
// IFLA_IFALIAS in the message that creates a device, so the marker is
// set right after; the device group, which it does take, is what marks
// a link from its first moment.
func setEnd(ctx context.Context, c *conn, name, alias string, up bool) error {
	lm := &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: name, Alias: &alias}}
	if up {
		lm.Flags, lm.Change = iffUp, iffUp
	}
	m, err := lm.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.do(ctx, rtmNewLink, netlink.Acknowledge, m)
	return err
}

// addAddr is "ip addr add P dev INDEX" (with "brd +" for IPv4 prefixes
// up to /30, and nodad if asked), marked with IFA_PROTO ProtoSetns.
func addAddr(ctx context.Context, c *conn, index uint32, p netip.Prefix, noDAD bool) error {
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	ip := p.Addr().AsSlice()
	am := &rtnetlink.AddressMessage{
		Family:       familyOf(p.Addr()),
		PrefixLength: uint8(p.Bits()),
		Index:        index,
		Attributes:   &rtnetlink.AddressAttributes{Address: ip, Local: ip},
	}
	if p.Addr().Is6() {
		am.Attributes.Local = nil
	} else if p.Bits() <= 30 {
		am.Attributes.Broadcast = broadcast(p).AsSlice()
	}
	if noDAD {
		am.Attributes.Flags = ifaFNoDAD
	}
	m, err := am.MarshalBinary()
	if err != nil {
		return err
	}
	proto, err := attrs(func(ae *netlink.AttributeEncoder) { ae.Uint8(ifaProto, ProtoSetns) })
	if err != nil {
		return err
	}
	_, err = c.do(ctx, rtmNewAddr, netlink.Acknowledge|netlink.Create|netlink.Excl, append(m, proto...))
	return err
}

func familyOf(a netip.Addr) uint8 {
	if a.Is4() {
		return 2 // AF_INET
	}
	return 10 // AF_INET6
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	x := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	x |= host
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}
