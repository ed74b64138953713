package uplink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/setns/setns/netns"
)

// Constants of linux/netfilter.h and nf_conntrack_common.h.
const (
	nfprotoIPv4 = 2
	nfprotoIPv6 = 10
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	rtnLocal    = 2 // RTN_LOCAL, fib's address type
	ctEstRel    = 0x2 | 0x4
	ipsDstNAT   = 0x20
)

// keeper is the netlink socket that owns a temporary connection's table.
type keeper struct {
	c *nftables.Conn
}

func (k *keeper) close() {
	if k != nil && k.c != nil {
		_ = k.c.CloseLasting()
		k.c = nil
	}
}

// ifname is an interface name as nft compares it: NUL-padded to IFNAMSIZ.
func ifname(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

// createTable makes the connection's table in host: masquerading out of
// anything but the host end, the forward rules, and DNAT for published
// ports. temporary: owner flag only (the kernel deletes the table with
// the returned keeper's socket); otherwise owner and persist, falling
// back to no flags on kernels without persist (before 6.9).
func createTable(host *netns.NS, r *record) (*keeper, error) {
	flags := nftables.TableFlagOwner
	if !r.Temporary {
		flags |= nftables.TableFlagPersist
	}
	k, err := buildTable(host, r, flags)
	if err != nil && !r.Temporary && isInvalid(err) {
		k, err = buildTable(host, r, 0)
	}
	if err != nil {
		return nil, err
	}
	if !r.Temporary {
		k.close()
		return nil, nil
	}
	return k, nil
}

func isInvalid(err error) bool {
	return strings.Contains(err.Error(), "invalid argument") || strings.Contains(err.Error(), "not supported")
}

func buildTable(host *netns.NS, r *record, flags nftables.TableFlags) (*keeper, error) {
	c, err := nftables.New(nftables.AsLasting(), nftables.WithNetNSFd(host.Fd()))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	k := &keeper{c: c}
	t := c.AddTable(&nftables.Table{Name: r.Table, Family: nftables.TableFamilyINet, Flags: flags})
	accept := nftables.ChainPolicyAccept
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	hostIf := ifname(r.HostIf)

	// ip saddr SUBNET oifname != HOSTIF masquerade
	for _, sn := range []netip.Prefix{r.Subnet, r.Subnet6} {
		if !sn.IsValid() {
			continue
		}
		e := matchSaddr(sn)
		e = append(e,
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: hostIf},
			&expr.Masq{})
		c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: e})
	}
	// iifname HOSTIF ip saddr SUBNET accept (and ip6 saddr SUBNET6)
	// iifname HOSTIF drop: the namespace's root (a delegated owner, say)
	// must not send packets with another source through the host.
	iif := func(tail ...expr.Any) []expr.Any {
		return append([]expr.Any{
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: hostIf},
		}, tail...)
	}
	for _, sn := range []netip.Prefix{r.Subnet, r.Subnet6} {
		if sn.IsValid() {
			e := append(iif(matchSaddr(sn)...), &expr.Verdict{Kind: expr.VerdictAccept})
			c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: e})
		}
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: iif(&expr.Verdict{Kind: expr.VerdictDrop})})
	// oifname HOSTIF ct state established,related accept
	// oifname HOSTIF ct status dnat accept (published ports)
	// oifname HOSTIF drop: nothing else reaches the namespace from outside.
	ctMatch := func(key expr.CtKey, mask uint32) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: hostIf},
			&expr.Ct{Key: key, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(mask), Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: ctMatch(expr.CtKeySTATE, ctEstRel)})
	if len(r.Publish) > 0 {
		c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: ctMatch(expr.CtKeySTATUS, ipsDstNAT)})
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: hostIf},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})

	if len(r.Publish) > 0 {
		pre := c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
		out := c.AddChain(&nftables.Chain{Name: "output", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
		for _, p := range r.Publish {
			c.AddRule(&nftables.Rule{Table: t, Chain: pre, Exprs: dnat(p, r.NSAddr.Addr(), false)})
			c.AddRule(&nftables.Rule{Table: t, Chain: out, Exprs: dnat(p, r.NSAddr.Addr(), true)})
		}
	}
	if err := c.Flush(); err != nil {
		k.close()
		return nil, fmt.Errorf("nftables: create table inet %s: %w", r.Table, err)
	}
	return k, nil
}

// matchSaddr matches packets of the family of sn from inside sn.
func matchSaddr(sn netip.Prefix) []expr.Any {
	proto, off, n := byte(nfprotoIPv4), uint32(12), uint32(4)
	if sn.Addr().Is6() {
		proto, off, n = nfprotoIPv6, 8, 16
	}
	mask := netip.PrefixFrom(sn.Addr(), sn.Bits())
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: prefixMask(mask), Xor: make([]byte, n)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: sn.Masked().Addr().AsSlice()},
	}
}

func prefixMask(p netip.Prefix) []byte {
	n := p.Addr().BitLen() / 8
	b := make([]byte, n)
	for i := 0; i < p.Bits(); i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return b
}

// dnat is "[ip daddr HOSTIP | fib daddr type local] PROTO dport HOSTPORT
// dnat ip to NSADDR:PORT"; in the output chain loopback destinations are
// left alone (they would need route_localnet on the host).
func dnat(p Publish, to netip.Addr, output bool) []expr.Any {
	proto := byte(ipprotoTCP)
	if p.Proto == "udp" {
		proto = ipprotoUDP
	}
	e := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{nfprotoIPv4}},
	}
	if p.HostIP.IsValid() {
		e = append(e,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.HostIP.AsSlice()})
	} else {
		e = append(e,
			&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(rtnLocal)})
	}
	if output {
		e = append(e,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{127}})
	}
	port := make([]byte, 2)
	binary.BigEndian.PutUint16(port, p.HostPort)
	toPort := make([]byte, 2)
	binary.BigEndian.PutUint16(toPort, p.Port)
	return append(e,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: port},
		&expr.Immediate{Register: 1, Data: to.AsSlice()},
		&expr.Immediate{Register: 2, Data: toPort},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: nfprotoIPv4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

// destroyTable removes the table if it is there.
func destroyTable(host *netns.NS, name string) error {
	if !strings.HasPrefix(name, "setns-") {
		return fmt.Errorf("journal: table %q is not one connect makes", name)
	}
	c, err := nftables.New(nftables.WithNetNSFd(host.Fd()))
	if err != nil {
		return err
	}
	c.DestroyTable(&nftables.Table{Name: name, Family: nftables.TableFamilyINet})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table inet %s: %w", name, err)
	}
	return nil
}

// tableExists reports whether inet NAME exists in host.
func tableExists(host *netns.NS, name string) (bool, error) {
	c, err := nftables.New(nftables.WithNetNSFd(host.Fd()))
	if err != nil {
		return false, err
	}
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// forwardDrop is a base chain on the forward hook that drops by policy.
type forwardDrop struct {
	family nftables.TableFamily
	table  string
	chain  string
}

func (d forwardDrop) String() string {
	return fmt.Sprintf("table %s %s chain %s", familyName(d.family), d.table, d.chain)
}

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyBridge:
		return "bridge"
	}
	return fmt.Sprint(int(f))
}

// forwardDrops lists the nftables base chains of host (iptables-nft's
// included) that drop forwarded packets: by policy, or by a rule that
// drops or rejects everything that reaches it (firewalld ends its forward
// chain with one). Our own tables are left out.
func forwardDrops(host *netns.NS) ([]forwardDrop, error) {
	c, err := nftables.New(nftables.WithNetNSFd(host.Fd()))
	if err != nil {
		return nil, err
	}
	chains, err := c.ListChains()
	if err != nil {
		return nil, fmt.Errorf("nftables: list chains: %w", err)
	}
	var out []forwardDrop
	for _, ch := range chains {
		if ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookForward || strings.HasPrefix(ch.Table.Name, "setns-") {
			continue
		}
		switch ch.Table.Family {
		case nftables.TableFamilyIPv4, nftables.TableFamilyIPv6, nftables.TableFamilyINet:
		default:
			continue
		}
		d := forwardDrop{ch.Table.Family, ch.Table.Name, ch.Name}
		if ch.Policy != nil && *ch.Policy == nftables.ChainPolicyDrop {
			out = append(out, d)
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("nftables: list %v: %w", d, err)
		}
		for _, r := range rules {
			if dropsAll(r.Exprs) {
				out = append(out, d)
				break
			}
		}
	}
	return out, nil
}

// dropsAll reports whether a rule drops or rejects whatever reaches it:
// no match, only counters, logs and the verdict.
func dropsAll(exprs []expr.Any) bool {
	drops := false
	for _, e := range exprs {
		switch e := e.(type) {
		case *expr.Counter, *expr.Log:
		case *expr.Reject:
			drops = true
		case *expr.Verdict:
			drops = e.Kind == expr.VerdictDrop
		default:
			return false
		}
	}
	return drops
}

// chainExists reports whether table FAMILY TABLE has chain NAME.
func chainExists(host *netns.NS, family nftables.TableFamily, table, name string) bool {
	c, err := nftables.New(nftables.WithNetNSFd(host.Fd()))
	if err != nil {
		return false
	}
	_, err = c.ListChain(&nftables.Table{Name: table, Family: family}, name)
	return err == nil
}

var errRefuse = errors.New("refused")
