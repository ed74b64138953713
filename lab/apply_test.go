package lab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/lab"
	"github.com/setns/setns/netns"
)

// demoYAML is the minimal lab, under the name NAME.
const demoYAML = `lab: NAME
nodes:
  r1:
    sysctls: {net.ipv4.ip_forward: "1"}
  h1:
    routes: ["default via 10.0.1.1"]
  h2:
    routes: ["default via 10.0.2.1"]
  sw:
    kind: bridge
links:
  - endpoints: [r1:eth0, h1:eth0]
    addresses: [10.0.1.1/24, 10.0.1.2/24]
  - endpoints: [r1:eth1, h2:eth0]
    addresses: [10.0.2.1/24, 10.0.2.2/24]
`

// newLab writes text (NAME replaced by a fresh lab name) to a file,
// parses it and registers the lab's destruction.
func newLab(t *testing.T, text string) (*lab.Lab, string) {
	t.Helper()
	nstest.RequireIP(t)
	name := nstest.TempName(t)
	l, file := parseText(t, name, text)
	t.Cleanup(func() {
		if _, err := lab.Destroy(context.Background(), name, nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return l, file
}

func parseText(t *testing.T, name, text string) (*lab.Lab, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(text, "NAME", name)), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := lab.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return l, file
}

func apply(t *testing.T, l *lab.Lab) *lab.Result {
	t.Helper()
	res, err := lab.Apply(context.Background(), l, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

// ipLink is what ip -j link shows of an interface.
type ipLink struct {
	Index   int      `json:"ifindex"`
	Name    string   `json:"ifname"`
	Address string   `json:"address"`
	Flags   []string `json:"flags"`
	MTU     int      `json:"mtu"`
	Master  string   `json:"master"`
	Alias   string   `json:"ifalias"`
}

// links returns ip's view of every interface of namespace ns, by name.
func links(t *testing.T, ns string) map[string]ipLink {
	t.Helper()
	args := []string{"-j", "link", "show"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		t.Fatalf("ip -n %s link: %v", ns, err)
	}
	var list []ipLink
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	m := map[string]ipLink{}
	for _, l := range list {
		m[l.Name] = l
	}
	return m
}

// snapshot is every interface of every node of l.
func snapshot(t *testing.T, l *lab.Lab) map[string]ipLink {
	t.Helper()
	m := map[string]ipLink{}
	for _, n := range l.Nodes {
		for name, li := range links(t, l.Namespace(n.Name)) {
			m[n.Name+":"+name] = li
		}
	}
	return m
}

func TestDemoTCP(t *testing.T) {
	l, _ := newLab(t, demoYAML)
	res := apply(t, l)
	if res.Changes == 0 {
		t.Fatal("apply from nothing reported no changes")
	}
	names, _ := netns.List()
	for _, n := range []string{"r1", "h1", "h2", "sw"} {
		if !slices.Contains(names, l.Namespace(n)) {
			t.Errorf("no namespace %s in %v", l.Namespace(n), names)
		}
	}
	h1, err := netns.Open(l.Namespace("h1"))
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	h2, err := netns.Open(l.Namespace("h2"))
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	// h1 reaches h2 through r1, which forwards: TCP, as there is no ping.
	var ln net.Listener
	if err := h2.Do(func() (err error) { ln, err = net.Listen("tcp", "10.0.2.2:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	var c net.Conn
	if err := h1.Do(func() (err error) { c, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second); return err }); err != nil {
		t.Fatalf("h1 -> h2 through r1: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping\n" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	// The bridge node holds an up br0 marked as the lab's.
	if br := links(t, l.Namespace("sw"))["br0"]; !slices.Contains(br.Flags, "UP") || !strings.HasPrefix(br.Alias, "setns:lab=") {
		t.Errorf("sw br0: %+v", br)
	}
	// Sysctls are written: r1 forwards, h1 does not, whatever the host does.
	for node, want := range map[string]string{"r1": "1", "h1": "0"} {
		out, err := exec.Command("ip", "netns", "exec", l.Namespace(node), "cat", "/proc/sys/net/ipv4/ip_forward").Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s ip_forward = %q, %v; want %s", node, out, err, want)
		}
	}
}

// A bridge node's link ends are ports of its br0, and hosts on it reach
// each other.
func TestBridge(t *testing.T) {
	l, _ := newLab(t, `lab: NAME
nodes:
  sw: {kind: bridge}
  a: {}
  b: {}
links:
  - endpoints: [a:eth0, sw:p1]
    addresses: [10.7.0.1/24, ""]
  - endpoints: [b:eth0, sw:p2]
    addresses: [10.7.0.2/24, []]
`)
	apply(t, l)
	sw := links(t, l.Namespace("sw"))
	for _, p := range []string{"p1", "p2"} {
		if sw[p].Master != "br0" || !slices.Contains(sw[p].Flags, "UP") {
			t.Errorf("sw:%s = %+v, want an up port of br0", p, sw[p])
		}
	}
	a, _ := netns.Open(l.Namespace("a"))
	defer a.Close()
	b, _ := netns.Open(l.Namespace("b"))
	defer b.Close()
	var ln net.Listener
	if err := b.Do(func() (err error) { ln, err = net.Listen("tcp", "10.7.0.2:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	if err := a.Do(func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("a -> b over the bridge: %v", err)
	}
}

// Re-applying an unchanged file writes nothing: no change reported, no
// request sent, every interface keeps its ifindex and MAC.
func TestReapplyNoop(t *testing.T) {
	l, _ := newLab(t, demoYAML)
	apply(t, l)
	before := snapshot(t, l)
	w := lab.Writes()
	res := apply(t, l)
	if res.Changes != 0 || len(res.Steps) != 0 {
		t.Errorf("re-apply: %d changes %v, want 0", res.Changes, res.Steps)
	}
	if n := lab.Writes() - w; n != 0 {
		t.Errorf("re-apply made %d kernel writes, want 0", n)
	}
	after := snapshot(t, l)
	for k, b := range before {
		if a := after[k]; a.Index != b.Index || a.Address != b.Address {
			t.Errorf("%s: ifindex %d MAC %s became %d %s", k, b.Index, b.Address, a.Index, a.Address)
		}
	}
	st, err := lab.GetStatus(context.Background(), l)
	if err != nil || len(st.Drift) != 0 {
		t.Errorf("status: %v, drift %v", err, st)
	}
}

// A destroyed lab made again gets the same MACs (stable, hash-derived).
func TestStableMACs(t *testing.T) {
	l, _ := newLab(t, demoYAML)
	apply(t, l)
	before := snapshot(t, l)
	if _, err := lab.Destroy(context.Background(), l.Name, nil); err != nil {
		t.Fatal(err)
	}
	apply(t, l)
	after := snapshot(t, l)
	for k, b := range before {
		if strings.HasSuffix(k, ":lo") {
			continue
		}
		if a := after[k]; a.Address != b.Address {
			t.Errorf("%s: MAC %s became %s", k, b.Address, a.Address)
		}
	}
}

func steps(res *lab.Result) []string {
	var s []string
	for _, st := range res.Steps {
		s = append(s, st.Op+" "+st.Kind+" "+st.Node+" "+st.Object)
	}
	slices.Sort(s)
	return s
}

// Each kind of edit changes exactly its object: the other interfaces
// keep their ifindex and MAC, and the edited file, applied again, is a
// no-op.
func TestEdits(t *testing.T) {
	base := `lab: NAME
nodes:
  r1:
    sysctls: {net.ipv4.ip_forward: "1"}
  h1:
    routes: ["default via 10.0.1.1"]
  h2:
    routes: ["default via 10.0.2.1"]
links:
  - endpoints: [r1:eth0, h1:eth0]
    addresses: [10.0.1.1/24, 10.0.1.2/24]
  - endpoints: [r1:eth1, h2:eth0]
    addresses: [10.0.2.1/24, 10.0.2.2/24]
`
	l, _ := newLab(t, base)
	apply(t, l)
	for _, c := range []struct {
		name, old, new string
		want           []string
		changed        []string // interfaces that may change (node:if)
	}{
		{"address", "10.0.1.2/24]", "10.0.1.3/24]",
			// The kernel flushes h1's default route with the address
			// it went through: apply puts it back.
			[]string{"create address h1 10.0.1.3/24 dev eth0", "create route h1 default via 10.0.1.1", "delete address h1 10.0.1.2/24 dev eth0"}, nil},
		{"route", `"default via 10.0.2.1"`, `"default via 10.0.2.1", "10.9.0.0/16 via 10.0.2.1"`,
			[]string{"create route h2 10.9.0.0/16 via 10.0.2.1"}, nil},
		{"sysctl", `ip_forward: "1"}`, `ip_forward: "1", net.ipv4.conf.all.rp_filter: "1"}`,
			[]string{"change sysctl r1 net.ipv4.conf.all.rp_filter=1"}, nil},
		{"mtu", "  - endpoints: [r1:eth1, h2:eth0]\n", "  - endpoints: [r1:eth1, h2:eth0]\n    mtu: 9000\n",
			[]string{"change link r1 r1:eth1--h2:eth0"}, nil},
		{"add node", "links:\n", "  h3: {}\nlinks:\n  - [r1:eth2, h3:eth0]\n",
			[]string{"create link r1 r1:eth2--h3:eth0", "create node h3 NAME-h3"}, nil},
		{"remove link", "  - [r1:eth2, h3:eth0]\n", "",
			[]string{"delete link r1 eth2"}, []string{"r1:eth2"}},
		{"remove node", "  h3: {}\n", "",
			[]string{"delete node h3 "}, nil},
		{"rename end", "[r1:eth0, h1:eth0]", "[r1:eth5, h1:eth0]",
			// A link made again takes its addresses and routes along.
			[]string{"create address h1 10.0.1.3/24 dev eth0", "create address r1 10.0.1.1/24 dev eth5", "create link r1 r1:eth5--h1:eth0", "create route h1 default via 10.0.1.1", "delete link r1 eth0"}, []string{"r1:eth0", "h1:eth0"}},
		{"remove route", `, "10.9.0.0/16 via 10.0.2.1"`, "",
			[]string{"delete route h2 10.9.0.0/16 via 10.0.2.1 dev eth0"}, nil},
		{"add address", "addresses: [10.0.2.1/24, 10.0.2.2/24]", "addresses: [[10.0.2.1/24, 10.0.2.3/24], 10.0.2.2/24]",
			[]string{"create address r1 10.0.2.3/24 dev eth1"}, nil},
		{"remove address", "[[10.0.2.1/24, 10.0.2.3/24], 10.0.2.2/24]", "[10.0.2.1/24, 10.0.2.2/24]",
			[]string{"delete address r1 10.0.2.3/24 dev eth1"}, nil},
	} {
		if !strings.Contains(base, c.old) {
			t.Fatalf("%s: %q not in the file", c.name, c.old)
		}
		base = strings.Replace(base, c.old, c.new, 1)
		before := snapshot(t, l)
		l2, _ := parseText(t, l.Name, base)
		res := apply(t, l2)
		want := slices.Clone(c.want)
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], "NAME", l.Name)
		}
		if got := steps(res); !slices.Equal(got, want) {
			t.Errorf("%s: steps %q, want %q", c.name, got, want)
		}
		after := snapshot(t, l2)
		for k, b := range before {
			a, ok := after[k]
			if slices.Contains(c.changed, k) {
				continue
			}
			if ok && (a.Index != b.Index || a.Address != b.Address) {
				t.Errorf("%s: %s changed: ifindex %d MAC %s -> %d %s", c.name, k, b.Index, b.Address, a.Index, a.Address)
			}
		}
		if res := apply(t, l2); res.Changes != 0 {
			t.Errorf("%s: applied again: %v", c.name, steps(res))
		}
		l = l2
	}
}

// destroy removes only what the lab owns: a namespace named like one of
// its nodes but made by ip survives, and so does one of another lab.
func TestDestroySparesForeign(t *testing.T) {
	l, _ := newLab(t, demoYAML)
	apply(t, l)
	foreign := l.Namespace("x")
	if out, err := exec.Command("ip", "netns", "add", foreign).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer nstest.Remove(t, foreign)
	other, _ := newLab(t, "lab: NAME\nnodes: {a: {}}\n")
	apply(t, other)
	res, err := lab.Destroy(context.Background(), l.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes != 4 {
		t.Errorf("destroy: %d changes %v, want 4 nodes", res.Changes, steps(res))
	}
	names, _ := netns.List()
	for _, n := range l.Nodes {
		if slices.Contains(names, l.Namespace(n.Name)) {
			t.Errorf("%s left", l.Namespace(n.Name))
		}
	}
	if !slices.Contains(names, foreign) || !slices.Contains(names, other.Namespace("a")) {
		t.Errorf("destroy took foreign namespaces: %v", names)
	}
	if _, err := os.Stat(filepath.Join(lab.StateDir, l.Name+".json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("journal left: %v", err)
	}
}

// Bad input changes nothing: a name the lab would need that something
// else holds, an interface in the way, a sysctl the kernel lacks.
func TestConflictsCreateNothing(t *testing.T) {
	nstest.RequireIP(t)
	name := nstest.TempName(t)
	held := name + "-h1"
	if out, err := exec.Command("ip", "netns", "add", held).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer nstest.Remove(t, held)
	for _, c := range []struct{ name, text, want string }{
		{"foreign namespace", demoYAML, "is not the lab's"},
		{"unknown sysctl", "lab: NAME\nnodes:\n  q: {sysctls: {net.ipv4.no_such_key: 1}}\n", "lab.yaml:3: node q: sysctl net.ipv4.no_such_key: no such key"},
	} {
		l, _ := parseText(t, name, c.text)
		before, _ := netns.List()
		w := lab.Writes()
		_, err := lab.Apply(context.Background(), l, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
		after, _ := netns.List()
		slices.Sort(before)
		slices.Sort(after)
		if !slices.Equal(before, after) || lab.Writes() != w {
			t.Errorf("%s: namespaces %v became %v, %d writes", c.name, before, after, lab.Writes()-w)
		}
	}
	// An interface made by hand where a link end goes.
	l, _ := newLab(t, "lab: NAME\nnodes: {a: {}, b: {}}\n")
	apply(t, l)
	if out, err := exec.Command("ip", "-n", l.Namespace("a"), "link", "add", "eth0", "type", "veth", "peer", "name", "x0").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	l2, _ := parseText(t, l.Name, "lab: NAME\nnodes: {a: {}, b: {}}\nlinks:\n  - [a:eth0, b:eth0]\n")
	w := lab.Writes()
	if _, err := lab.Apply(context.Background(), l2, nil); err == nil || !strings.Contains(err.Error(), "lab.yaml:4: link a:eth0--b:eth0: interface a:eth0 exists and is not the lab's") {
		t.Errorf("interface in the way: %v", err)
	}
	if lab.Writes() != w {
		t.Errorf("a refused apply wrote %d times", lab.Writes()-w)
	}
	if _, ok := links(t, l.Namespace("a"))["x0"]; !ok {
		t.Error("the foreign veth was touched")
	}
}

// An apply killed (SIGKILL) at any point is finished by the next apply,
// and destroy then leaves nothing: the test binary re-executes itself to
// apply, and kills itself after N units of progress.
func TestKillMidApply(t *testing.T) {
	text := demoYAML + "  - [r1:eth2, sw:p1]\n  - [h1:eth1, sw:p2]\n"
	for _, after := range []int{1, 2, 3, 4, 5, 6, 8, 10} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			l, file := newLab(t, text)
			cmd := exec.Command("/proc/self/exe")
			cmd.Env = append(os.Environ(), crashEnv+"="+file, fmt.Sprintf("%s=%d", crashAfterEnv, after))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != -1 {
				t.Logf("child not killed (%v): %s", err, out) // finished before N
			}
			apply(t, l)
			if res := apply(t, l); res.Changes != 0 {
				t.Errorf("not converged: %v", steps(res))
			}
			if _, err := lab.Destroy(context.Background(), l.Name, nil); err != nil {
				t.Fatal(err)
			}
			names, _ := netns.List()
			for _, n := range names {
				if strings.HasPrefix(n, l.Prefix) {
					t.Errorf("left after destroy: %s", n)
				}
			}
		})
	}
}

// A 1000-node chain (LAB_TEST_CHAIN=N for another size) is applied,
// re-applied as a no-op and destroyed, leaving no namespace, mount or
// link behind. Not timed: speed is measured by make bench.
func TestChain1000(t *testing.T) {
	nstest.RequireIP(t)
	n := 1000
	if s := os.Getenv("LAB_TEST_CHAIN"); s != "" {
		fmt.Sscan(s, &n)
	}
	hostBefore := hostLinks(t)
	name := nstest.TempName(t)
	l, err := lab.Parse("chain.yaml", []byte(lab.Chain(name, n)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Destroy(context.Background(), name, nil) })
	res := apply(t, l)
	if want := n + (n - 1) + 2*(n-1) + n; res.Changes != want {
		t.Errorf("apply: %d changes, want %d (nodes, links, addresses, routes)", res.Changes, want)
	}
	// The far ends are wired: n1's e1 and nN's e0 exist and are up.
	if li := links(t, l.Namespace("n1"))["e1"]; !slices.Contains(li.Flags, "UP") {
		t.Errorf("n1:e1 %+v", li)
	}
	if li := links(t, l.Namespace(fmt.Sprintf("n%d", n)))["e0"]; !slices.Contains(li.Flags, "UP") {
		t.Errorf("n%d:e0 %+v", n, li)
	}
	w := lab.Writes()
	if res := apply(t, l); res.Changes != 0 || lab.Writes() != w {
		t.Errorf("re-apply: %d changes, %d writes", res.Changes, lab.Writes()-w)
	}
	res, err = lab.Destroy(context.Background(), name, nil)
	if err != nil || res.Changes != n {
		t.Fatalf("destroy: %v, %d changes", err, res.Changes)
	}
	names, _ := netns.List()
	for _, x := range names {
		if strings.HasPrefix(x, l.Prefix) {
			t.Errorf("namespace left: %s", x)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), "/"+l.Prefix) {
		t.Errorf("mounts left in /proc/self/mountinfo for %s*", l.Prefix)
	}
	if after := hostLinks(t); !slices.Equal(hostBefore, after) {
		t.Errorf("host links %v became %v", hostBefore, after)
	}
}

// hostLinks are the names of the interfaces of the test's namespace.
func hostLinks(t *testing.T) []string {
	var names []string
	for n := range links(t, "") {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// A lab that matches its file but lost its record gets the record back
// from a re-apply, which still writes nothing to the kernel.
func TestReapplyRestoresRecord(t *testing.T) {
	l, _ := newLab(t, "lab: NAME\nnodes: {a: {}}\n")
	apply(t, l)
	if err := os.Remove(filepath.Join(lab.StateDir, l.Name+".json")); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Recorded(l.Name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Recorded after removal: %v", err)
	}
	w := lab.Writes()
	if res := apply(t, l); res.Changes != 0 || lab.Writes() != w {
		t.Errorf("re-apply: %d changes, %d writes", res.Changes, lab.Writes()-w)
	}
	if r, err := lab.Recorded(l.Name); err != nil || r.Name != l.Name {
		t.Errorf("Recorded: %v, %v", r, err)
	}
}

// IPv6 works the same: addresses usable at once (no DAD), a route via a
// gateway, and a re-apply that changes nothing.
func TestIPv6(t *testing.T) {
	l, _ := newLab(t, `lab: NAME
nodes:
  a:
    routes: ["fd00:2::/64 via fd00:1::2"]
  r:
    sysctls: {net.ipv6.conf.all.forwarding: "1"}
  b:
    routes: ["default via fd00:2::1"]
links:
  - endpoints: [a:eth0, r:eth0]
    addresses: [fd00:1::1/64, fd00:1::2/64]
  - endpoints: [r:eth1, b:eth0]
    addresses: [fd00:2::1/64, fd00:2::2/64]
`)
	apply(t, l)
	// DAD is off for every link end, the link-locals included (DAD would
	// hold them tentative for a second or more, and a router with a
	// tentative link-local cannot resolve its neighbours): the kernel
	// skips it when both all.accept_dad and the device's are 0. (An
	// address is still flagged tentative until the kernel's DAD work item
	// runs, which a loaded machine may delay: the flags are no measure.)
	for n, ifs := range map[string][]string{"a": {"eth0"}, "r": {"eth0", "eth1"}, "b": {"eth0"}} {
		for _, conf := range append([]string{"all"}, ifs...) {
			out, err := exec.Command("ip", "netns", "exec", l.Namespace(n),
				"cat", "/proc/sys/net/ipv6/conf/"+conf+"/accept_dad").Output()
			if err != nil || strings.TrimSpace(string(out)) != "0" {
				t.Errorf("%s: net.ipv6.conf.%s.accept_dad = %q (%v), want 0", n, conf, out, err)
			}
		}
	}
	if res := apply(t, l); res.Changes != 0 {
		t.Errorf("re-apply: %v", steps(res))
	}
	a, _ := netns.Open(l.Namespace("a"))
	defer a.Close()
	b, _ := netns.Open(l.Namespace("b"))
	defer b.Close()
	var ln net.Listener
	if err := b.Do(func() (err error) { ln, err = net.Listen("tcp", "[fd00:2::2]:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	if err := a.Do(func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("a -> b over IPv6 through r: %v", err)
	}
}

// remake deletes name and makes it again with ip, as another tool would,
// the first time hook is called for it.
func remake(t *testing.T, name string) func(step, n string) {
	var once sync.Once
	return func(step, n string) {
		if step != "delete" || n != name {
			return
		}
		once.Do(func() {
			if err := netns.Delete(name); err != nil {
				t.Errorf("delete %s: %v", name, err)
			}
			if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
				t.Errorf("ip netns add: %v %s", err, out)
			}
		})
	}
}

// A node's name deleted and made again by another tool between Destroy's
// ownership check and its delete is not the lab's any more: it survives.
func TestDestroySparesRemade(t *testing.T) {
	l, _ := newLab(t, demoYAML)
	apply(t, l)
	h1 := l.Namespace("h1")
	defer nstest.Remove(t, h1)
	lab.SetTestHook(remake(t, h1))
	defer lab.SetTestHook(nil)
	res, err := lab.Destroy(context.Background(), l.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes != 3 {
		t.Errorf("destroy: %d changes %v, want the 3 other nodes", res.Changes, steps(res))
	}
	names, _ := netns.List()
	if !slices.Contains(names, h1) {
		t.Fatalf("destroy deleted %s, made anew by ip after its check", h1)
	}
	if links(t, h1)["eth0"].Name != "" {
		t.Errorf("%s is still the lab's", h1)
	}
}

// The same for a node removed from the file: apply deletes its
// namespace only while the name still refers to it.
func TestApplySparesRemade(t *testing.T) {
	l, _ := newLab(t, "lab: NAME\nnodes: {a: {}, b: {}}\n")
	apply(t, l)
	b := l.Namespace("b")
	defer nstest.Remove(t, b)
	l2, _ := parseText(t, l.Name, "lab: NAME\nnodes: {a: {}}\n")
	lab.SetTestHook(remake(t, b))
	defer lab.SetTestHook(nil)
	apply(t, l2)
	if names, _ := netns.List(); !slices.Contains(names, b) {
		t.Fatalf("apply deleted %s, made anew by ip after its check", b)
	}
}
