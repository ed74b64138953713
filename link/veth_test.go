package link_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/netnstest"
)

// ipLink is what "ip -d -j link show" says of one interface.
type ipLink struct {
	Name     string   `json:"ifname"`
	Index    int      `json:"ifindex"`
	Flags    []string `json:"flags"`
	Address  string   `json:"address"`
	Alias    string   `json:"ifalias"`
	Link     int      `json:"link_index"`
	NSID     *int     `json:"link_netnsid"`
	LinkInfo struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
	AddrInfo []struct {
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Scope     string `json:"scope"`
	} `json:"addr_info"`
}

func (l ipLink) up() bool { return slices.Contains(l.Flags, "UP") }

// ipShow runs "ip -n NS -d -j addr show" and returns its interfaces by name.
func ipShow(t *testing.T, ns string) map[string]ipLink {
	t.Helper()
	out := nstest.MustIP(t, "-n", ns, "-d", "-j", "addr", "show")
	var links []ipLink
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		t.Fatalf("ip -n %s -j addr: %v\n%s", ns, err, out)
	}
	m := map[string]ipLink{}
	for _, l := range links {
		m[l.Name] = l
	}
	return m
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestAddVeth(t *testing.T) {
	nstest.RequireIP(t)
	nstest.CheckThreadNS(t)
	a, b := netnstest.New(t), netnstest.New(t)
	ctx := context.Background()
	err := link.AddVeth(ctx,
		link.End{NS: a, Name: "eth0", Addrs: prefixes("10.9.0.1/24", "fd00:9::1/64")},
		link.End{NS: b, Name: "eth1", Addrs: prefixes("10.9.0.2/24")}, nil)
	if err != nil {
		t.Fatalf("AddVeth: %v", err)
	}
	la, lb := ipShow(t, a.Name()), ipShow(t, b.Name())
	for _, c := range []struct {
		ns    string
		links map[string]ipLink
		name  string
		addrs []string
	}{{a.Name(), la, "eth0", []string{"10.9.0.1/24", "fd00:9::1/64"}}, {b.Name(), lb, "eth1", []string{"10.9.0.2/24"}}} {
		if len(c.links) != 2 {
			t.Errorf("%s has %d interfaces, want lo and %s: %v", c.ns, len(c.links), c.name, c.links)
		}
		if lo := c.links["lo"]; !lo.up() {
			t.Errorf("%s: lo is not up: %v", c.ns, lo.Flags)
		}
		l, ok := c.links[c.name]
		if !ok {
			t.Fatalf("%s: no %s: %v", c.ns, c.name, c.links)
		}
		if !l.up() || l.LinkInfo.Kind != "veth" || l.Alias != link.DefaultAlias {
			t.Errorf("%s:%s: flags %v, kind %q, alias %q; want UP, veth, %q", c.ns, c.name, l.Flags, l.LinkInfo.Kind, l.Alias, link.DefaultAlias)
		}
		var got []string
		for _, ai := range l.AddrInfo {
			if ai.Scope == "global" {
				got = append(got, fmt.Sprintf("%s/%d", ai.Local, ai.PrefixLen))
			}
		}
		if !slices.Equal(got, c.addrs) {
			t.Errorf("%s:%s addresses %v, want %v", c.ns, c.name, got, c.addrs)
		}
	}
	// Each end names its peer, in another namespace.
	if la["eth0"].Link != lb["eth1"].Index || lb["eth1"].Link != la["eth0"].Index || la["eth0"].NSID == nil {
		t.Errorf("ends do not point at each other across namespaces: %+v, %+v", la["eth0"], lb["eth1"])
	}
	// ip 6.1 shows no IFA_PROTO: read it from the kernel.
	for _, p := range addrProtos(t, a) {
		if p != link.ProtoSetns {
			t.Errorf("%s: address protocols %v, want all %d", a.Name(), addrProtos(t, a), link.ProtoSetns)
			break
		}
	}
	if la["eth0"].Address == lb["eth1"].Address {
		t.Errorf("both ends have MAC %s", la["eth0"].Address)
	}
}

// echo checks that a line sent over c comes back from the server l.
func echo(t *testing.T, l net.Listener, c net.Conn) {
	t.Helper()
	go func() {
		s, err := l.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		io.Copy(s, s)
	}()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintln(c, "hello over the veth")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "hello over the veth\n" {
		t.Fatalf("echo: %q, %v", line, err)
	}
}

func TestAddVethTCP(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.CheckThreadNS(t)
	a, b := netnstest.New(t), netnstest.New(t)
	err := link.AddVeth(context.Background(),
		link.End{NS: a, Name: "eth0", Addrs: prefixes("10.9.1.1/30")},
		link.End{NS: b, Name: "eth0", Addrs: prefixes("10.9.1.2/30")}, nil)
	if err != nil {
		t.Fatalf("AddVeth: %v", err)
	}
	l := netnstest.Listen(t, a, "tcp", "10.9.1.1:7")
	echo(t, l, netnstest.Dial(t, b, "tcp", "10.9.1.1:7"))
}

func TestAddVethIPv6TCP(t *testing.T) {
	nstest.RequireRoot(t)
	a, b := netnstest.New(t), netnstest.New(t)
	err := link.AddVeth(context.Background(),
		link.End{NS: a, Name: "e", Addrs: prefixes("fd00:9:2::1/64")},
		link.End{NS: b, Name: "e", Addrs: prefixes("fd00:9:2::2/64")}, &link.Options{NoDAD: true})
	if err != nil {
		t.Fatalf("AddVeth: %v", err)
	}
	l := netnstest.Listen(t, a, "tcp", "[fd00:9:2::1]:7")
	echo(t, l, netnstest.Dial(t, b, "tcp", "[fd00:9:2::1]:7"))
}

// linkLocal returns the IPv6 link-local address of ifname in ns. The
// kernel adds it from a work item once the link is ready, which can come
// a while after AddVeth returns on a busy machine: wait for it (up to 5 s).
func linkLocal(t *testing.T, ns, ifname string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, ai := range ipShow(t, ns)[ifname].AddrInfo {
			if ai.Scope == "link" {
				return ai.Local
			}
		}
	}
	return ""
}

func TestStableMACAcrossRecreate(t *testing.T) {
	nstest.RequireIP(t)
	a, b := netnstest.New(t), netnstest.New(t)
	ctx := context.Background()
	var macs [2][2]string
	var lls [2]string
	for i := range 2 {
		if err := link.AddVeth(ctx, link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, nil); err != nil {
			t.Fatalf("AddVeth #%d: %v", i+1, err)
		}
		macs[i] = [2]string{ipShow(t, a.Name())["eth0"].Address, ipShow(t, b.Name())["eth0"].Address}
		lls[i] = linkLocal(t, a.Name(), "eth0")
		if err := link.Delete(ctx, b, "eth0"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if macs[0] != macs[1] || macs[0][0] == "" {
		t.Errorf("MACs changed on re-create: %v then %v", macs[0], macs[1])
	}
	if macs[0][0] == macs[0][1] {
		t.Errorf("both ends have MAC %s", macs[0][0])
	}
	if lls[0] != lls[1] || lls[0] == "" {
		t.Errorf("link-local changed on re-create: %q then %q", lls[0], lls[1])
	}
	mac, _ := net.ParseMAC(macs[0][0])
	if mac[0]&1 != 0 || mac[0]&2 == 0 {
		t.Errorf("MAC %s is not unicast and locally administered", mac)
	}
}

func TestAddVethBadInput(t *testing.T) {
	nstest.RequireIP(t)
	a, b := netnstest.New(t), netnstest.New(t)
	// A closed handle fails any system call on it: an error other than the
	// validation's proves nothing was checked before a syscall.
	closed := netnstest.New(t)
	closed.Close()
	ctx := context.Background()
	long := strings.Repeat("x", 16)
	for _, c := range []struct {
		a, b link.End
		o    *link.Options
		want error
	}{
		{link.End{NS: a, Name: long}, link.End{NS: b, Name: "eth0"}, nil, link.ErrInvalidName},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "a:b"}, nil, link.ErrInvalidName},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "a b"}, nil, link.ErrInvalidName},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: ".."}, nil, link.ErrInvalidName},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "x/y"}, nil, link.ErrInvalidName},
		{link.End{NS: closed, Name: long}, link.End{NS: b, Name: "eth0"}, nil, link.ErrInvalidName},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: closed, Name: ""}, nil, link.ErrInvalidName},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: a, Name: "eth0"}, nil, nil},
		{link.End{NS: a, Name: "eth0", MAC: net.HardwareAddr{1, 2, 3, 4, 5, 6}}, link.End{NS: b, Name: "eth0"}, nil, nil},
		{link.End{NS: a, Name: "eth0", Addrs: []netip.Prefix{{}}}, link.End{NS: b, Name: "eth0"}, nil, nil},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, &link.Options{Alias: "mine"}, nil},
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, &link.Options{MTU: 10}, nil},
	} {
		err := link.AddVeth(ctx, c.a, c.b, c.o)
		var le *link.Error
		if !errors.As(err, &le) || (c.want != nil && !errors.Is(err, c.want)) || errors.Is(err, fs.ErrClosed) {
			t.Errorf("AddVeth(%v, %v, %+v) = %v, want a *link.Error wrapping %v", c.a, c.b, c.o, err, c.want)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "link add ") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("error %q: want one line starting \"link add \"", err)
		}
	}
	for _, ns := range []string{a.Name(), b.Name()} {
		if l := ipShow(t, ns); len(l) != 1 {
			t.Errorf("bad input created something in %s: %v", ns, l)
		}
	}
}

func TestAddVethExists(t *testing.T) {
	nstest.RequireRoot(t)
	a, b := netnstest.New(t), netnstest.New(t)
	ctx := context.Background()
	if err := link.AddVeth(ctx, link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a, b link.End
		want string
	}{
		{link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth9"}, fmt.Sprintf("link add %q: ", a.Name()+":eth0")},
		{link.End{NS: a, Name: "eth9"}, link.End{NS: b, Name: "eth0"}, fmt.Sprintf("link add %q: ", b.Name()+":eth0")},
	} {
		err := link.AddVeth(ctx, c.a, c.b, nil)
		if !errors.Is(err, fs.ErrExist) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("AddVeth(%v, %v) = %v, want %s... wrapping fs.ErrExist", c.a, c.b, err, c.want)
		}
	}
}

func TestAddVethConcurrent(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.CheckThreadNS(t)
	const n = 16
	var spaces [n][2]*netns.NS
	for i := range spaces {
		spaces[i] = [2]*netns.NS{netnstest.New(t), netnstest.New(t)}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = link.AddVeth(ctx,
				link.End{NS: spaces[i][0], Name: "eth0", Addrs: prefixes(fmt.Sprintf("10.8.%d.1/24", i))},
				link.End{NS: spaces[i][1], Name: "eth0", Addrs: prefixes(fmt.Sprintf("10.8.%d.2/24", i))}, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("AddVeth #%d: %v", i, err)
		}
	}
	for i := range n {
		links, err := link.List(ctx, []*netns.NS{spaces[i][0]}, &link.ListOptions{Peers: []*netns.NS{spaces[i][1]}})
		if err != nil || len(links) != 1 || links[0].Peer.NS != spaces[i][1].Name() {
			t.Errorf("pair #%d: List = %+v, %v", i, links, err)
		}
	}
}

// KeepLoopback leaves lo alone; without it AddVeth brings lo up.
func TestAddVethKeepLoopback(t *testing.T) {
	nstest.RequireIP(t)
	a, b := netnstest.New(t), netnstest.New(t)
	for _, ns := range []*netns.NS{a, b} {
		nstest.MustIP(t, "-n", ns.Name(), "link", "set", "lo", "down")
	}
	ctx := context.Background()
	if err := link.AddVeth(ctx, link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, &link.Options{KeepLoopback: true}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []*netns.NS{a, b} {
		if l := ipShow(t, ns.Name()); l["lo"].up() || !l["eth0"].up() {
			t.Errorf("%s with KeepLoopback: lo %v, eth0 %v; want lo down, eth0 up", ns, l["lo"].Flags, l["eth0"].Flags)
		}
	}
	if err := link.AddVeth(ctx, link.End{NS: a, Name: "eth1"}, link.End{NS: b, Name: "eth1"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []*netns.NS{a, b} {
		if l := ipShow(t, ns.Name()); !l["lo"].up() {
			t.Errorf("%s without KeepLoopback: lo %v, want up", ns, l["lo"].Flags)
		}
	}
}
