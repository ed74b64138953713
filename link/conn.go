package link

import (
	"context"

	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// Message types and attributes of linux/rtnetlink.h, if_link.h, veth.h,
// if_addr.h and net_namespace.h that rtnetlink/v2 does not export.
const (
	netlinkRoute = 0 // NETLINK_ROUTE

	rtmNewLink = 16
	rtmDelLink = 17
	rtmGetLink = 18
	rtmNewAddr = 20
	rtmGetAddr = 22
	rtmGetNSID = 90

	iflaIfname      = 3
	iflaLink        = 5
	iflaLinkinfo    = 18
	iflaGroup       = 27
	iflaLinkNetnsid = 37
	iflaInfoKind    = 1
	iflaInfoData    = 2
	vethInfoPeer    = 1

	ifaProto = 11

	netnsaNSID = 1
	netnsaFD   = 3

	iffUp       = 0x1
	loopbackIdx = 1 // lo is the first device of every namespace
	ifaFNoDAD   = 0x02
	ifinfoLen   = 16 // struct ifinfomsg
	rtgenmsgLen = 4  // struct rtgenmsg, padded
)

// ProtoSetns is the IFA_PROTO value on addresses this package adds (and
// the route protocol code that builds on it uses): a number iproute2's
// rt_protos leaves free (an "ip addr" that knows IFA_PROTO shows "proto
// 245"; iproute2 6.1 does not show it).
const ProtoSetns = 245

// conn is a NETLINK_ROUTE socket opened inside one namespace.
type conn struct {
	c *netlink.Conn
}

// dial opens a socket inside ns from its descriptor: mdlayher/netlink
// makes it on a thread of its own that it moves there and back (or
// discards), never the caller's. The descriptor is only used during the
// call.
func dial(ctx context.Context, ns *netns.NS) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := netlink.Dial(netlinkRoute, &netlink.Config{NetNS: ns.Fd(), Strict: true})
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	return &conn{c: c}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// do sends one request and waits for its acknowledgement (or, for dumps,
// every reply), turning the kernel's refusals into *netns.KernelError.
func (c *conn) do(ctx context.Context, typ uint16, flags netlink.HeaderFlags, data []byte) ([]netlink.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	msgs, err := c.c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: flags | netlink.Request},
		Data:   data,
	})
	return msgs, netns.AsKernelError(err)
}

// attrs encodes raw attributes with enc, for what rtnetlink/v2 cannot.
func attrs(enc func(ae *netlink.AttributeEncoder)) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	enc(ae)
	return ae.Encode()
}
