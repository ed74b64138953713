package link

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// End is one end of a veth pair.
type End struct {
	// NS is the namespace the end is created in; nil is the namespace of
	// the calling process (what "ip link" run by it would show).
	NS *netns.NS
	// Name is the interface name, checked with ValidName.
	Name string
	// MAC is the end's address; nil gives StableMAC(machine id, the
	// namespace's name, Name). A namespace without a name (opened by path
	// or pid, or nil) is keyed by its inode number instead.
	MAC net.HardwareAddr
	// Addrs are added to the end once it exists.
	Addrs []netip.Prefix
}

// String returns "NS:IF" with the namespace's name, its path when it has
// none, or Host for nil.
func (e End) String() string {
	if e.NS == nil {
		return Host + ":" + e.Name
	}
	return e.NS.String() + ":" + e.Name
}

// Options tune AddVeth; nil means the defaults.
type Options struct {
	// MTU of both ends; 0 leaves the kernel's (1500).
	MTU uint32
	// Alias is the ifalias of both ends, the ownership marker; it must
	// start with "setns:". "" is DefaultAlias.
	Alias string
	// Group is the device group of both ends, so that many links can be
	// deleted at once ("ip link del group N"); 0 is the default group.
	Group uint32
	// Down leaves both ends down (lo is brought up all the same).
	Down bool
	// KeepLoopback leaves lo as it is in both namespaces instead of
	// bringing it up: one request less per namespace, for a caller that
	// knows lo is up already (netnstest.New brought it up).
	KeepLoopback bool
	// NoDAD adds the addresses without duplicate address detection, so
	// IPv6 ones are usable at once instead of tentative for a second or two.
	NoDAD bool
}

// DefaultAlias is the ifalias AddVeth gives both ends unless told
// otherwise: the marker by which Delete and List know their own links.
const DefaultAlias = "setns:link"

// Marker starts the ifalias of every link setns makes.
const Marker = "setns:"

func (o *Options) alias() string {
	if o == nil || o.Alias == "" {
		return DefaultAlias
	}
	return o.Alias
}

// check validates everything AddVeth is given, before any system call.
func check(a, b End, o *Options) error {
	for _, e := range []End{a, b} {
		if err := ValidName(e.Name); err != nil {
			return &Error{Op: "add", Endpoint: e.String(), Err: err}
		}
		if e.MAC != nil && (len(e.MAC) != 6 || e.MAC[0]&1 != 0 || isZero(e.MAC)) {
			return &Error{Op: "add", Endpoint: e.String(), Err: fmt.Errorf("invalid MAC %s: want a unicast Ethernet address", e.MAC)}
		}
		for _, p := range e.Addrs {
			if !p.IsValid() {
				return &Error{Op: "add", Endpoint: e.String(), Err: fmt.Errorf("invalid address prefix %v", p)}
			}
		}
	}
	if a.Name == b.Name && sameNS(a.NS, b.NS) {
		return &Error{Op: "add", Endpoint: a.String(), Err: errors.New("both ends have the same namespace and name")}
	}
	if al := o.alias(); !strings.HasPrefix(al, Marker) || len(al) > 255 {
		return &Error{Op: "add", Endpoint: a.String(), Err: fmt.Errorf("invalid alias %q: want %q and at most 255 bytes", al, Marker+"...")}
	}
	if o != nil && o.MTU != 0 && (o.MTU < 68 || o.MTU > 65535) {
		return &Error{Op: "add", Endpoint: a.String(), Err: fmt.Errorf("invalid MTU %d: want 68 to 65535", o.MTU)}
	}
	return nil
}

func isZero(mac net.HardwareAddr) bool {
	for _, x := range mac {
		if x != 0 {
			return false
		}
	}
	return true
}

func sameNS(a, b *netns.NS) bool { return a == b || a.Equal(b) }

// AddVeth makes the veth pair a–b, like
//
//	ip link add name A netns NSA type veth peer name B netns NSB
//
// with both ends created directly in their namespaces by one RTM_NEWLINK
// (no rename, no move, nothing ever in the caller's namespace unless an
// End asks for it), then brings lo up in both namespaces (unless
// o.KeepLoopback) and adds each end's addresses. Both ends come up
// unless o.Down. Names, MACs, prefixes
// and options are checked before any system call. If a later step fails,
// the pair it made is deleted again. The calling thread is never moved.
// Errors are *Error naming the end at fault; an end that already exists
// gives one wrapping fs.ErrExist. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN.
func AddVeth(ctx context.Context, a, b End, o *Options) error {
	if err := check(a, b, o); err != nil {
		return err
	}
	for _, e := range []*End{&a, &b} {
		if e.NS == nil {
			ns, err := processNS()
			if err != nil {
				return &Error{Op: "add", Endpoint: e.String(), Err: err}
			}
			defer ns.Close()
			e.NS = ns
		}
		if e.MAC == nil {
			e.MAC = defaultMAC(e.NS, e.Name)
		}
	}
	ca, err := dial(ctx, a.NS)
	if err != nil {
		return &Error{Op: "add", Endpoint: a.String(), Err: err}
	}
	defer ca.Close()
	cb := ca
	if !sameNS(a.NS, b.NS) {
		if cb, err = dial(ctx, b.NS); err != nil {
			return &Error{Op: "add", Endpoint: b.String(), Err: err}
		}
		defer cb.Close()
	}
	if err := create(ctx, ca, a, b, o); err != nil {
		at := a
		if errors.Is(err, fs.ErrExist) && !exists(ctx, ca, a.Name) {
			at = b
		}
		return &Error{Op: "add", Endpoint: at.String(), Err: err}
	}
	if e, err := configure(ctx, ca, cb, a, b, o); err != nil {
		// The pair is ours: we just made it. Deleting one end takes both.
		_ = deleteByName(ctx, ca, a.Name)
		return &Error{Op: e.op, Endpoint: e.end.String(), Err: err}
	}
	return nil
}

// processNS opens the network namespace of the process (of its main
// thread, which the library never moves).
func processNS() (*netns.NS, error) { return netns.OpenPID(os.Getpid()) }

// create sends the one RTM_NEWLINK that makes the pair.
func create(ctx context.Context, c *conn, a, b End, o *Options) error {
	peer, err := linkMessage(b, o, false)
	if err != nil {
		return err
	}
	data, err := attrs(func(ae *netlink.AttributeEncoder) { ae.Bytes(vethInfoPeer, peer) })
	if err != nil {
		return err
	}
	m, err := linkMessage(a, o, o == nil || !o.Down, &rtnetlink.LinkInfo{Kind: "veth", Data: &rtnetlink.LinkData{Name: "veth", Data: data}})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, rtmNewLink, netlink.Acknowledge|netlink.Create|netlink.Excl, m)
	runtime.KeepAlive(a.NS)
	runtime.KeepAlive(b.NS)
	return err
}

// linkMessage encodes the ifinfomsg and attributes of one end: name,
// namespace fd, MAC, MTU, alias and group, plus info for the first end.
// Only the first end can come up in this message: the kernel opens the
// peer before it knows its partner, and veth_open then fails with
// ENOTCONN, so configure brings the peer up afterwards.
func linkMessage(e End, o *Options, up bool, info ...*rtnetlink.LinkInfo) ([]byte, error) {
	la := &rtnetlink.LinkAttributes{
		Name:    e.Name,
		Address: e.MAC,
		NetNS:   rtnetlink.NetNSForFD(uint32(e.NS.Fd())),
	}
	if o != nil {
		la.MTU = o.MTU
	}
	if len(info) > 0 {
		la.Info = info[0]
	}
	lm := &rtnetlink.LinkMessage{Attributes: la}
	if up {
		lm.Flags, lm.Change = iffUp, iffUp
	}
	b, err := lm.MarshalBinary()
	if err != nil || o == nil || o.Group == 0 {
		return b, err
	}
	// rtnetlink/v2 decodes IFLA_GROUP but never encodes it.
	g, err := attrs(func(ae *netlink.AttributeEncoder) { ae.Uint32(iflaGroup, o.Group) })
	return append(b, g...), err
}
