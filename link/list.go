package link

import (
	"context"
	"net/netip"
	"runtime"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// Link is one veth end as List reports it; it encodes to JSON as is.
type Link struct {
	NS      string         `json:"ns"` // namespace name, Host for the process's, else its path
	Name    string         `json:"ifname"`
	Index   uint32         `json:"ifindex"`
	MAC     string         `json:"address"`
	MTU     uint32         `json:"mtu"`
	Up      bool           `json:"up"`
	Alias   string         `json:"ifalias"` // the ownership marker
	Group   uint32         `json:"group"`
	Addrs   []netip.Prefix `json:"addrs"` // every address, link-local ones too
	Peer    Peer           `json:"peer"`
	IsOwned bool           `json:"owned"` // Alias starts with Marker
}

// Peer is the other end of a veth.
type Peer struct {
	// NS is the peer's namespace as Link.NS names it, or "" when it is in
	// none of the namespaces List searched.
	NS    string `json:"ns"`
	Name  string `json:"ifname"` // "" when NS is
	Index uint32 `json:"ifindex"`
}

// ListOptions tune List; nil means the defaults.
type ListOptions struct {
	// All lists every veth, not only those setns made.
	All bool
	// Peers are more namespaces to look for peers in, beyond those
	// listed (a nil entry is the process's namespace).
	Peers []*netns.NS
}

// space is one namespace List looks at.
type space struct {
	ns     *netns.NS
	label  string
	listed bool
	c      *conn
	devs   []device
	nsids  map[*space]int32 // its nsid as each listed space sees it
}

// List returns the veth ends in each of namespaces (a nil entry is the
// process's namespace), in that order and by ifindex, with their
// addresses and peers, like "ip -d link show type veth" and "ip addr" in
// each. A peer is looked for in namespaces and o.Peers, by the nsid the
// kernel reports for it. Unless o.All, only links setns made are listed.
// The calling thread is never moved. Needs CAP_SYS_ADMIN.
func List(ctx context.Context, namespaces []*netns.NS, o *ListOptions) ([]Link, error) {
	var peers []*netns.NS
	if o != nil {
		peers = o.Peers
	}
	spaces, err := openSpaces(ctx, namespaces, peers)
	defer func() {
		for _, s := range spaces {
			s.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, s := range spaces {
		if !s.listed {
			continue
		}
		links, err := s.links(ctx, spaces, o != nil && o.All)
		if err != nil {
			return nil, &Error{Op: "list", Endpoint: s.label, Err: err}
		}
		out = append(out, links...)
	}
	return out, nil
}

// openSpaces dials into each namespace once and dumps its devices.
func openSpaces(ctx context.Context, listed, peers []*netns.NS) ([]*space, error) {
	var spaces []*space
	add := func(ns *netns.NS, isListed bool) error {
		for _, s := range spaces {
			if sameNS(s.ns, ns) || (ns == nil && s.ns == nil) {
				s.listed = s.listed || isListed
				return nil
			}
		}
		s := &space{ns: ns, listed: isListed}
		err := s.open(ctx)
		if err != nil && !isListed {
			s.close()
			return nil // a peer cannot be looked for there; not an error
		}
		spaces = append(spaces, s)
		return err
	}
	for _, ns := range listed {
		if err := add(ns, true); err != nil {
			return spaces, err
		}
	}
	for _, ns := range peers {
		if err := add(ns, false); err != nil {
			return spaces, err
		}
	}
	return spaces, nil
}

func (s *space) open(ctx context.Context) (err error) {
	s.label = Host
	ns := s.ns
	if ns == nil {
		if ns, err = processNS(); err != nil {
			return &Error{Op: "list", Endpoint: s.label, Err: err}
		}
		defer ns.Close()
	} else if ns.Name() != "" {
		s.label = ns.Name()
	} else {
		s.label = ns.Path()
	}
	if s.c, err = dial(ctx, ns); err != nil {
		return &Error{Op: "list", Endpoint: s.label, Err: err}
	}
	if s.devs, err = devices(ctx, s.c); err != nil {
		return &Error{Op: "list", Endpoint: s.label, Err: err}
	}
	s.nsids = map[*space]int32{}
	return nil
}

func (s *space) close() {
	if s.c != nil {
		s.c.Close()
	}
}

func (s *space) byIndex(i uint32) *device {
	for k := range s.devs {
		if s.devs[k].index == i {
			return &s.devs[k]
		}
	}
	return nil
}

// links builds the Link of each veth in s.
func (s *space) links(ctx context.Context, spaces []*space, all bool) ([]Link, error) {
	addrs, err := addresses(ctx, s.c)
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, d := range s.devs {
		isOwned := strings.HasPrefix(d.alias, Marker)
		if d.kind != "veth" || (!all && !isOwned) {
			continue
		}
		if addrs[d.index] == nil {
			addrs[d.index] = []netip.Prefix{} // [] in JSON, not null
		}
		l := Link{NS: s.label, Name: d.name, Index: d.index, MAC: d.mac.String(), MTU: d.mtu,
			Up: d.up, Alias: d.alias, Group: d.group, Addrs: addrs[d.index], IsOwned: isOwned,
			Peer: Peer{Index: d.peerIndex}}
		if p := s.peerSpace(ctx, spaces, d); p != nil {
			l.Peer.NS = p.label
			l.Peer.Name = p.byIndex(d.peerIndex).name
		}
		out = append(out, l)
	}
	return out, nil
}

// peerSpace finds the namespace of d's peer: s itself when the kernel
// gives no nsid, else the space that holds a veth pointing back at d and
// whose nsid in s is the one the kernel gave.
func (s *space) peerSpace(ctx context.Context, spaces []*space, d device) *space {
	for _, p := range spaces {
		back := p.byIndex(d.peerIndex)
		if back == nil || back.kind != "veth" || back.peerIndex != d.index {
			continue
		}
		if d.peerNSID < 0 {
			if p == s {
				return p
			}
			continue
		}
		if p != s && s.nsidOf(ctx, p) == d.peerNSID {
			return p
		}
	}
	return nil
}

// nsidOf is the nsid s's namespace has for p's (RTM_GETNSID), or -1.
func (s *space) nsidOf(ctx context.Context, p *space) int32 {
	if id, ok := s.nsids[p]; ok {
		return id
	}
	id := int32(-1)
	ns := p.ns
	if ns == nil {
		if pns, err := processNS(); err == nil {
			defer pns.Close()
			ns = pns
		}
	}
	if ns != nil {
		data, err := attrs(func(ae *netlink.AttributeEncoder) { ae.Uint32(netnsaFD, uint32(ns.Fd())) })
		if err == nil {
			msgs, err := s.c.do(ctx, rtmGetNSID, 0, append(make([]byte, rtgenmsgLen), data...))
			if err == nil && len(msgs) == 1 && len(msgs[0].Data) > rtgenmsgLen {
				if ad, err := netlink.NewAttributeDecoder(msgs[0].Data[rtgenmsgLen:]); err == nil {
					for ad.Next() {
						if ad.Type() == netnsaNSID {
							id = ad.Int32()
						}
					}
				}
			}
		}
		runtime.KeepAlive(ns)
	}
	s.nsids[p] = id
	return id
}

// addresses is "ip addr show": the prefixes of each ifindex.
func addresses(ctx context.Context, c *conn) (map[uint32][]netip.Prefix, error) {
	m, err := (&rtnetlink.AddressMessage{}).MarshalBinary()
	if err != nil {
		return nil, err
	}
	msgs, err := c.do(ctx, rtmGetAddr, netlink.Dump, m)
	if err != nil {
		return nil, err
	}
	out := map[uint32][]netip.Prefix{}
	for _, m := range msgs {
		var am rtnetlink.AddressMessage
		if err := am.UnmarshalBinary(m.Data); err != nil || am.Attributes == nil {
			continue
		}
		ip := am.Attributes.Local
		if ip == nil {
			ip = am.Attributes.Address
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		out[am.Index] = append(out[am.Index], netip.PrefixFrom(a.Unmap(), int(am.PrefixLength)))
	}
	return out, nil
}
