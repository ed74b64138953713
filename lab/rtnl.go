package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// Message types, attributes and flags of linux/rtnetlink.h, if_link.h,
// if_addr.h and veth.h, encoded by hand: the lab needs attributes
// rtnetlink/v2 does not write (device group, IFA_PROTO) and reads only a
// few fields of each dump, which a raw decoder does without allocating
// every statistic.
const (
	rtmNewLink  = 16
	rtmDelLink  = 17
	rtmGetLink  = 18
	rtmNewAddr  = 20
	rtmDelAddr  = 21
	rtmGetAddr  = 22
	rtmNewRoute = 24
	rtmDelRoute = 25
	rtmGetRoute = 26

	iflaAddress  = 1
	iflaIfname   = 3
	iflaMTU      = 4
	iflaLink     = 5
	iflaMaster   = 10
	iflaLinkinfo = 18
	iflaIfalias  = 20
	iflaGroup    = 27
	iflaExtMask  = 29

	rtextFilterSkipStats = 1 << 3

	iflaInfoKind = 1
	iflaInfoData = 2

	iflaBrForwardDelay = 1
	iflaBrStpState     = 5

	ifaAddress   = 1
	ifaLocal     = 2
	ifaBroadcast = 4
	ifaFlags     = 8
	ifaProto     = 11
	ifaFNoDAD    = 0x02

	rtaDst      = 1
	rtaOif      = 4
	rtaGateway  = 5
	rtaPriority = 6
	rtaTable    = 15

	rtTableMain    = 254
	rtScopeLink    = 253
	rtnUnicast     = 1
	afInet         = 2
	afInet6        = 10
	iffUp          = 0x1
	ifinfoLen      = 16
	ifaddrLen      = 8
	rtmsgLen       = 12
	loopbackIndex  = 1
	defaultMTU     = 1500
	ipv6MetricBase = 1024 // the metric the kernel gives an IPv6 route without one
)

// Proto marks the addresses (IFA_PROTO) and routes (rtm_protocol) a lab
// adds: the number package link uses too, one iproute2's rt_protos
// leaves free.
const Proto = 245

// writes counts the kernel writes of this process (every request that
// is not a dump or a read), so a test can prove a no-op apply writes
// nothing.
var writes atomic.Int64

// sock is a NETLINK_ROUTE socket inside one namespace.
type sock struct{ c *netlink.Conn }

// dial opens a socket inside ns (nil: the namespace of the process) from
// its descriptor; mdlayher/netlink does that on a thread of its own, never
// the caller's.
func dial(ctx context.Context, ns *netns.NS) (*sock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := &netlink.Config{Strict: true}
	if ns != nil {
		cfg.NetNS = ns.Fd()
	}
	c, err := netlink.Dial(0, cfg)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	return &sock{c: c}, nil
}

func (s *sock) Close() error { return s.c.Close() }

// do sends one request and waits for its acknowledgement or replies.
func (s *sock) do(typ uint16, flags netlink.HeaderFlags, data []byte) ([]netlink.Message, error) {
	if typ%4 != 2 { // not an RTM_GET* (reads are 18, 22, 26, ..., 82)
		writes.Add(1)
		flags |= netlink.Acknowledge
	}
	msgs, err := s.c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: flags | netlink.Request},
		Data:   data,
	})
	return msgs, netns.AsKernelError(err)
}

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}

var ne = binary.NativeEndian

// ifinfo is a struct ifinfomsg.
func ifinfo(index int32, flags, change uint32) []byte {
	b := make([]byte, ifinfoLen)
	ne.PutUint32(b[4:], uint32(index))
	ne.PutUint32(b[8:], flags)
	ne.PutUint32(b[12:], change)
	return b
}

func encode(head []byte, enc func(ae *netlink.AttributeEncoder)) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	enc(ae)
	b, err := ae.Encode()
	return append(head, b...), err
}

// device is what the lab reads of an interface.
type device struct {
	index  int32
	name   string
	kind   string
	alias  string
	mac    net.HardwareAddr
	mtu    uint32
	group  uint32
	up     bool
	master int32
	peer   int32 // IFLA_LINK: a veth's peer's ifindex
}

func decodeDevice(b []byte) (device, error) {
	var d device
	if len(b) < ifinfoLen {
		return d, errors.New("short ifinfomsg")
	}
	d.index = int32(ne.Uint32(b[4:]))
	d.up = ne.Uint32(b[8:])&iffUp != 0
	ad, err := netlink.NewAttributeDecoder(b[ifinfoLen:])
	if err != nil {
		return d, err
	}
	for ad.Next() {
		switch ad.Type() {
		case iflaIfname:
			d.name = ad.String()
		case iflaAddress:
			d.mac = net.HardwareAddr(ad.Bytes())
		case iflaMTU:
			d.mtu = ad.Uint32()
		case iflaLink:
			d.peer = int32(ad.Uint32())
		case iflaMaster:
			d.master = int32(ad.Uint32())
		case iflaIfalias:
			d.alias = ad.String()
		case iflaGroup:
			d.group = ad.Uint32()
		case iflaLinkinfo:
			ad.Nested(func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
					if nd.Type() == iflaInfoKind {
						d.kind = nd.String()
					}
				}
				return nil
			})
		}
	}
	return d, ad.Err()
}

// links dumps every interface of the socket's namespace, without their
// statistics (RTEXT_FILTER_SKIP_STATS), which the lab never reads.
func (s *sock) links() ([]device, error) {
	req, err := encode(ifinfo(0, 0, 0), func(ae *netlink.AttributeEncoder) { ae.Uint32(iflaExtMask, rtextFilterSkipStats) })
	if err != nil {
		return nil, err
	}
	msgs, err := s.do(rtmGetLink, netlink.Dump, req)
	if err != nil {
		return nil, err
	}
	out := make([]device, 0, len(msgs))
	for _, m := range msgs {
		d, err := decodeDevice(m.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// linkByIndex reads one interface.
func (s *sock) linkByIndex(index int32) (device, error) {
	msgs, err := s.do(rtmGetLink, 0, ifinfo(index, 0, 0))
	if err != nil {
		return device{}, err
	}
	if len(msgs) != 1 {
		return device{}, errors.New("unexpected reply to RTM_GETLINK")
	}
	return decodeDevice(msgs[0].Data)
}

// address is one address of an interface.
type address struct {
	index int32
	p     netip.Prefix
	proto uint8
}

func (s *sock) addresses() ([]address, error) {
	msgs, err := s.do(rtmGetAddr, netlink.Dump, make([]byte, ifaddrLen))
	if err != nil {
		return nil, err
	}
	out := make([]address, 0, len(msgs))
	for _, m := range msgs {
		b := m.Data
		if len(b) < ifaddrLen {
			continue
		}
		a := address{index: int32(ne.Uint32(b[4:]))}
		bits := int(b[1])
		ad, err := netlink.NewAttributeDecoder(b[ifaddrLen:])
		if err != nil {
			return nil, err
		}
		var addr, local netip.Addr
		for ad.Next() {
			switch ad.Type() {
			case ifaAddress:
				addr, _ = netip.AddrFromSlice(ad.Bytes())
			case ifaLocal:
				local, _ = netip.AddrFromSlice(ad.Bytes())
			case ifaProto:
				a.proto = ad.Uint8()
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		if local.IsValid() {
			addr = local
		}
		if !addr.IsValid() {
			continue
		}
		a.p = netip.PrefixFrom(addr.Unmap(), bits)
		out = append(out, a)
	}
	return out, nil
}

func family(a netip.Addr) uint8 {
	if a.Is4() {
		return afInet
	}
	return afInet6
}

// addrMsg is the ifaddrmsg and attributes naming p on index.
func addrMsg(index int32, p netip.Prefix, add bool) ([]byte, error) {
	head := make([]byte, ifaddrLen)
	head[0], head[1] = family(p.Addr()), uint8(p.Bits())
	ne.PutUint32(head[4:], uint32(index))
	ip := p.Addr().AsSlice()
	return encode(head, func(ae *netlink.AttributeEncoder) {
		if p.Addr().Is4() {
			ae.Bytes(ifaLocal, ip)
		}
		ae.Bytes(ifaAddress, ip)
		if !add {
			return
		}
		if p.Addr().Is4() && p.Bits() <= 30 {
			ae.Bytes(ifaBroadcast, broadcast(p).AsSlice())
		}
		ae.Uint32(ifaFlags, ifaFNoDAD)
		ae.Uint8(ifaProto, Proto)
	})
}

func (s *sock) addAddr(index int32, p netip.Prefix) error {
	m, err := addrMsg(index, p, true)
	if err == nil {
		_, err = s.do(rtmNewAddr, netlink.Create|netlink.Excl, m)
	}
	return err
}

func (s *sock) delAddr(index int32, p netip.Prefix) error {
	m, err := addrMsg(index, p, false)
	if err == nil {
		_, err = s.do(rtmDelAddr, 0, m)
	}
	return err
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	x := binary.BigEndian.Uint32(b[:]) | (uint32(1)<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], x)
	return netip.AddrFrom4(b)
}

// kroute is a route as the kernel reports it.
type kroute struct {
	dst    netip.Prefix
	via    netip.Addr
	oif    int32
	metric uint32
	proto  uint8
	table  uint32
}

// routes dumps the main table's routes of protocol Proto; the kernel
// filters them (the socket is strict, NETLINK_GET_STRICT_CHK).
func (s *sock) routes() ([]kroute, error) {
	req := make([]byte, rtmsgLen)
	req[4], req[5] = rtTableMain, Proto
	msgs, err := s.do(rtmGetRoute, netlink.Dump, req)
	if err != nil {
		return nil, err
	}
	var out []kroute
	for _, m := range msgs {
		b := m.Data
		if len(b) < rtmsgLen || b[5] != Proto {
			continue
		}
		r := kroute{proto: b[5], table: uint32(b[4])}
		fam, bits := b[0], int(b[1])
		ad, err := netlink.NewAttributeDecoder(b[rtmsgLen:])
		if err != nil {
			return nil, err
		}
		var dst netip.Addr
		for ad.Next() {
			switch ad.Type() {
			case rtaDst:
				dst, _ = netip.AddrFromSlice(ad.Bytes())
			case rtaGateway:
				r.via, _ = netip.AddrFromSlice(ad.Bytes())
			case rtaOif:
				r.oif = int32(ad.Uint32())
			case rtaPriority:
				r.metric = ad.Uint32()
			case rtaTable:
				r.table = ad.Uint32()
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		if r.table != rtTableMain {
			continue
		}
		if !dst.IsValid() {
			dst = netip.IPv4Unspecified()
			if fam == afInet6 {
				dst = netip.IPv6Unspecified()
			}
		}
		r.dst = netip.PrefixFrom(dst.Unmap(), bits)
		r.via = r.via.Unmap()
		out = append(out, r)
	}
	return out, nil
}

func routeMsg(r kroute, add bool) ([]byte, error) {
	head := make([]byte, rtmsgLen)
	head[0], head[1] = family(r.dst.Addr()), uint8(r.dst.Bits())
	head[4], head[5], head[7] = rtTableMain, Proto, rtnUnicast
	if !r.via.IsValid() {
		head[6] = rtScopeLink
	}
	return encode(head, func(ae *netlink.AttributeEncoder) {
		if r.dst.Bits() > 0 {
			ae.Bytes(rtaDst, r.dst.Addr().AsSlice())
		}
		if r.via.IsValid() {
			ae.Bytes(rtaGateway, r.via.AsSlice())
		}
		if r.oif != 0 {
			ae.Uint32(rtaOif, uint32(r.oif))
		}
		if r.metric != 0 {
			ae.Uint32(rtaPriority, r.metric)
		}
	})
}

func (s *sock) addRoute(r kroute) error {
	m, err := routeMsg(r, true)
	if err == nil {
		_, err = s.do(rtmNewRoute, netlink.Create|netlink.Excl, m)
	}
	return err
}

func (s *sock) delRoute(r kroute) error {
	m, err := routeMsg(r, false)
	if err == nil {
		_, err = s.do(rtmDelRoute, 0, m)
	}
	return err
}

// setLink is "ip link set INDEX [alias A] [mtu M] [master BR] up".
type linkSet struct {
	name   string // with index 0: the device by name
	alias  *string
	mtu    uint32
	master int32 // 0 leaves it
	up     bool
}

func (s *sock) setLink(index int32, o linkSet) error {
	var flags uint32
	if o.up {
		flags = iffUp
	}
	m, err := encode(ifinfo(index, flags, flags), func(ae *netlink.AttributeEncoder) {
		if index == 0 {
			ae.String(iflaIfname, o.name)
		}
		if o.alias != nil {
			ae.String(iflaIfalias, *o.alias)
		}
		if o.mtu != 0 {
			ae.Uint32(iflaMTU, o.mtu)
		}
		if o.master != 0 {
			ae.Uint32(iflaMaster, uint32(o.master))
		}
	})
	if err == nil {
		_, err = s.do(rtmNewLink, 0, m)
	}
	return err
}

func (s *sock) delLink(index int32) error {
	_, err := s.do(rtmDelLink, 0, ifinfo(index, 0, 0))
	return err
}

// addBridge creates br in the socket's namespace: STP off, forward delay
// 0, up, in the lab's group, with its marker alias set right after (the
// kernel ignores IFLA_IFALIAS in a creating message).
func (s *sock) addBridge(name string, mac net.HardwareAddr, group uint32) error {
	m, err := encode(ifinfo(0, iffUp, iffUp), func(ae *netlink.AttributeEncoder) {
		ae.String(iflaIfname, name)
		ae.Bytes(iflaAddress, mac)
		ae.Uint32(iflaGroup, group)
		ae.Nested(iflaLinkinfo, func(nae *netlink.AttributeEncoder) error {
			nae.String(iflaInfoKind, "bridge")
			nae.Nested(iflaInfoData, func(dae *netlink.AttributeEncoder) error {
				dae.Uint32(iflaBrForwardDelay, 0)
				dae.Uint32(iflaBrStpState, 0)
				return nil
			})
			return nil
		})
	})
	if err != nil {
		return err
	}
	_, err = s.do(rtmNewLink, netlink.Create|netlink.Excl, m)
	return err
}

// netconf: the IPv4 and IPv6 settings the kernel reports over netlink
// (RTM_GETNETCONF), read far more cheaply than their /proc/sys files,
// whose lookup slows down with every namespace on the machine.
const (
	rtmGetNetconf      = 82
	netconfaIfindex    = 1
	netconfaForwarding = 2
	netconfaRpFilter   = 3
	netconfAll         = -1 // NETCONFA_IFINDEX_ALL
	netconfDefault     = -2 // NETCONFA_IFINDEX_DEFAULT
)

// netconfKey is where a sysctl's value is in a netconf dump.
type netconfKey struct {
	family uint8
	dev    string // "all", "default" or an interface name
	attr   uint16
}

// netconfOf returns where key is in a netconf dump, if it is there.
func netconfOf(key string) (netconfKey, bool) {
	if key == "net.ipv4.ip_forward" {
		return netconfKey{afInet, "all", netconfaForwarding}, true
	}
	p := strings.Split(key, ".")
	if len(p) != 5 || p[0] != "net" || p[2] != "conf" {
		return netconfKey{}, false
	}
	fam := map[string]uint8{"ipv4": afInet, "ipv6": afInet6}[p[1]]
	attr := map[string]uint16{"forwarding": netconfaForwarding, "rp_filter": netconfaRpFilter}[p[4]]
	if fam == 0 || attr == 0 || fam == afInet6 && attr != netconfaForwarding {
		return netconfKey{}, false
	}
	return netconfKey{fam, p[3], attr}, true
}

// netconf dumps family's settings: by ifindex (netconfAll, netconfDefault
// or a device's), attribute, value.
func (s *sock) netconf(family uint8) (map[int32]map[uint16]int32, error) {
	req := make([]byte, 4)
	req[0] = family
	msgs, err := s.do(rtmGetNetconf, netlink.Dump, req)
	if err != nil {
		return nil, err
	}
	out := map[int32]map[uint16]int32{}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return nil, err
		}
		vals := map[uint16]int32{}
		var ix int32
		for ad.Next() {
			if ad.Type() == netconfaIfindex {
				ix = int32(ad.Uint32())
			} else if len(ad.Bytes()) == 4 {
				vals[ad.Type()] = int32(ad.Uint32())
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		out[ix] = vals
	}
	return out, nil
}

// readNetconf reads the keys found in netconf dumps into into (as
// sysctl would print them), and returns the other keys.
func (s *sock) readNetconf(keys []string, index map[string]int32, into map[string]string) ([]string, error) {
	var rest []string
	dumps := map[uint8]map[int32]map[uint16]int32{}
	for _, k := range keys {
		nk, ok := netconfOf(k)
		if !ok {
			rest = append(rest, k)
			continue
		}
		d, done := dumps[nk.family]
		if !done {
			var err error
			if d, err = s.netconf(nk.family); err != nil {
				return nil, err
			}
			dumps[nk.family] = d
		}
		var ix int32
		switch nk.dev {
		case "all":
			ix = netconfAll
		case "default":
			ix = netconfDefault
		default:
			i, ok := index[nk.dev]
			if !ok {
				continue // no such device (yet): unreadable
			}
			ix = i
		}
		if v, ok := d[ix][nk.attr]; ok {
			into[k] = strconv.Itoa(int(v))
		}
	}
	return rest, nil
}
