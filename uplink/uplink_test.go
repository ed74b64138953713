package uplink_test

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

func TestMain(m *testing.M) {
	if os.Getenv("UPLINK_TEST_HOLD") != "" {
		hold() // the helper of TestKilledLeavesNoTable, inside its sandbox
	}
	nstest.Main(m)
}

const (
	hostWAN   = nstest.HostWAN
	wanGW     = nstest.WanGW
	serverIP  = nstest.ServerIP
	serverTCP = nstest.ServerTCP
)

// world is a namespace playing the host, one playing the internet (a
// veth between them, the host's default route via it, a TCP server on
// serverTCP that answers with the peer address it sees), and a namespace
// to connect. Nothing touches the machine's own network.
type world struct {
	host, wan, ns          *netns.NS
	hostName, wanName, nsN string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{}
	w.host, w.hostName, w.wan, w.wanName = nstest.Internet(t)
	w.ns, w.nsN = nstest.NewNamed(t)
	return w
}

// serve answers every connection to addr inside ns with the peer's
// address, as seen there.
func (w *world) serve(t testing.TB, ns *netns.NS, addr string) { nstest.Serve(t, ns, addr) }

// dial connects from ns to addr and returns what the server said.
func dial(ns *netns.NS, addr string) (string, error) { return dialWithin(ns, addr, 3*time.Second) }

// unreachable reports whether a connection from ns to addr fails: it
// gives up sooner than dial, since here failing is the expected outcome.
func unreachable(ns *netns.NS, addr string) bool {
	_, err := dialWithin(ns, addr, 300*time.Millisecond)
	return err != nil
}

func dialWithin(ns *netns.NS, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	err := ns.Do(func() (err error) {
		c, err = net.DialTimeout("tcp", addr, timeout)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// in runs a command inside the namespace name.
func in(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, errs, code := nstest.Run(t, "", "ip", append([]string{"netns", "exec", name}, args...)...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

var (
	counters    = regexp.MustCompile(`\[\d+:\d+\]|counter packets \d+ bytes \d+`)
	dadProgress = regexp.MustCompile(` tentative| dadfailed`)
)

// snapshot is everything a connection may change in the host.
func (w *world) snapshot(t *testing.T) map[string]string {
	t.Helper()
	nstest.NeedTool(t, "nft", "nftables")
	nstest.NeedTool(t, "iptables", "iptables")
	nstest.NeedTool(t, "conntrack", "conntrack")
	s := map[string]string{
		"nft":   counters.ReplaceAllString(in(t, w.hostName, "nft", "list", "ruleset"), ""),
		"links": nstest.Links(t, w.hostName),
		"addrs": dadProgress.ReplaceAllString(nstest.MustIP(t, "-n", w.hostName, "-o", "addr"), ""),
		"sysctl": in(t, w.hostName, "sh", "-c",
			"grep -r . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf/all /proc/sys/net/ipv6/conf/default /proc/sys/net/ipv6/conf/eth0 2>/dev/null; true"),
		"conntrack": in(t, w.hostName, "sh", "-c", "conntrack -L 2>/dev/null; true"),
	}
	for _, bin := range []string{"iptables-save", "ip6tables-save", "iptables-legacy-save"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		var keep []string
		for _, l := range strings.Split(in(t, w.hostName, bin), "\n") {
			if !strings.HasPrefix(l, "#") {
				keep = append(keep, counters.ReplaceAllString(l, ""))
			}
		}
		s[bin] = strings.Join(keep, "\n")
	}
	return s
}

func same(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed:\n--- before\n%s\n--- after\n%s", k, v, after[k])
		}
	}
}

func (w *world) opts() *uplink.Options { return &uplink.Options{Host: w.host} }

func connect(t *testing.T, ns *netns.NS, o *uplink.Options) *uplink.Uplink {
	t.Helper()
	u, err := uplink.Connect(context.Background(), ns, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uplink.Disconnect(context.Background(), ns.Name(), o) })
	return u
}

// TestMasquerade: from the namespace the server is reached, and sees the
// host's address; disconnect leaves the host exactly as it was.
func TestMasquerade(t *testing.T) {
	w := newWorld(t)
	if !unreachable(w.ns, serverTCP) {
		t.Fatal("server reachable before connect")
	}
	before := w.snapshot(t)
	u := connect(t, w.ns, w.opts())
	if len(u.HostIf) > 15 || u.NSIf != uplink.NSIf || u.Mode != uplink.NAT {
		t.Errorf("uplink %+v", u)
	}
	if want := "(nat, out eth0)"; !strings.HasSuffix(u.String(), want) || !strings.HasPrefix(u.String(), w.nsN+" 10.251.") {
		t.Errorf("String() = %q, want %q ... %q", u.String(), w.nsN+" 10.251.", want)
	}
	peer, err := dial(w.ns, serverTCP)
	if err != nil {
		t.Fatal(err)
	}
	if peer != hostWAN {
		t.Errorf("server saw %s, want the host's %s (masquerade)", peer, hostWAN)
	}
	// The namespace has lo up and a default route.
	if out := nstest.MustIP(t, "-n", w.nsN, "route", "show", "default"); !strings.Contains(out, "via "+u.HostAddr.Addr().String()) {
		t.Errorf("default route in the namespace: %q", out)
	}
	// Forwarding is per interface: ip_forward is untouched.
	if v := in(t, w.hostName, "cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(v) != "0" {
		t.Errorf("ip_forward = %s, want 0 (per-interface forwarding only)", v)
	}
	// Connecting again is a no-op with the same line.
	u2, err := uplink.Connect(context.Background(), w.ns, w.opts())
	if err != nil || u2.String() != u.String() {
		t.Errorf("second Connect = %v, %v; want %v", u2, err, u)
	}
	in(t, w.hostName, "conntrack", "-L") // an entry of ours is there
	if err := uplink.Disconnect(context.Background(), w.nsN, w.opts()); err != nil {
		t.Fatal(err)
	}
	same(t, before, w.snapshot(t))
	if err := uplink.Disconnect(context.Background(), w.nsN, w.opts()); err != nil {
		t.Errorf("second Disconnect: %v", err)
	}
	if !unreachable(w.ns, serverTCP) {
		t.Error("server still reachable after disconnect")
	}
}

// TestPublish: --publish 8080:80 reaches a server in the namespace from
// the internet at the host's address.
func TestPublish(t *testing.T) {
	w := newWorld(t)
	w.serve(t, w.ns, ":80")
	before := w.snapshot(t)
	p, err := uplink.ParsePublish("8080:80")
	if err != nil {
		t.Fatal(err)
	}
	o := w.opts()
	o.Publish = []uplink.Publish{p}
	u := connect(t, w.ns, o)
	if !strings.Contains(u.String(), "publish 8080:80") {
		t.Errorf("String() = %q", u.String())
	}
	peer, err := dial(w.wan, hostWAN+":8080")
	if err != nil {
		t.Fatal(err)
	}
	if peer != wanGW {
		t.Errorf("server in the namespace saw %s, want the client %s", peer, wanGW)
	}
	// Other ports of the namespace stay closed to the outside.
	w.serve(t, w.ns, ":81")
	nsAddr := u.NSAddr.Addr().String()
	nstest.MustIP(t, "-n", w.wanName, "route", "add", u.NSAddr.Masked().String(), "via", hostWAN)
	if !unreachable(w.wan, nsAddr+":81") {
		t.Error("an unpublished port of the namespace is reachable from outside")
	}
	nstest.MustIP(t, "-n", w.wanName, "route", "del", u.NSAddr.Masked().String(), "via", hostWAN)
	if err := uplink.Disconnect(context.Background(), w.nsN, o); err != nil {
		t.Fatal(err)
	}
	same(t, before, w.snapshot(t))
}

// TestUfwLikeDrop: iptables FORWARD with a final "-j DROP" rule and no
// DOCKER-USER, in either flavour: the accepts go to the top of FORWARD,
// and go again.
func TestUfwLikeDrop(t *testing.T) {
	for _, flavour := range []string{"iptables-nft", "iptables-legacy"} {
		t.Run(flavour, func(t *testing.T) {
			nstest.NeedTool(t, flavour, "iptables")
			w := newWorld(t)
			in(t, w.hostName, flavour, "-A", "FORWARD", "-j", "DROP")
			before := w.snapshot(t)
			u := connect(t, w.ns, w.opts())
			if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
				t.Fatalf("dial past FORWARD -j DROP: %q, %v", peer, err)
			}
			if rules := in(t, w.hostName, flavour, "-S", "FORWARD"); !strings.Contains(rules, "-i "+u.HostIf) {
				t.Errorf("FORWARD lacks our accept:\n%s", rules)
			}
			if err := uplink.Disconnect(context.Background(), w.nsN, w.opts()); err != nil {
				t.Fatal(err)
			}
			same(t, before, w.snapshot(t))
		})
	}
}

// TestDockerForwardDrop: iptables FORWARD policy DROP with a DOCKER-USER
// chain, as Docker leaves them: connect still works (accepts in
// DOCKER-USER) and disconnect removes them.
func TestDockerForwardDrop(t *testing.T) {
	for _, flavour := range []string{"iptables-nft", "iptables-legacy"} {
		t.Run(flavour, func(t *testing.T) {
			nstest.NeedTool(t, flavour, "iptables")
			w := newWorld(t)
			in(t, w.hostName, flavour, "-P", "FORWARD", "DROP")
			in(t, w.hostName, flavour, "-N", "DOCKER-USER")
			in(t, w.hostName, flavour, "-A", "DOCKER-USER", "-j", "RETURN")
			in(t, w.hostName, flavour, "-A", "FORWARD", "-j", "DOCKER-USER")
			before := w.snapshot(t)
			u := connect(t, w.ns, w.opts())
			if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
				t.Fatalf("dial through %s FORWARD DROP: %q, %v", flavour, peer, err)
			}
			rules := in(t, w.hostName, flavour, "-S", "DOCKER-USER")
			if !strings.Contains(rules, "-i "+u.HostIf) || !strings.Contains(rules, uplink.Comment(w.nsN)) {
				t.Errorf("DOCKER-USER lacks our tagged accepts:\n%s", rules)
			}
			if err := uplink.Disconnect(context.Background(), w.nsN, w.opts()); err != nil {
				t.Fatal(err)
			}
			same(t, before, w.snapshot(t))
		})
	}
}

// TestForeignDropRefused: a drop in a table that is not ours to edit is
// refused with one line naming the table and chain, and nothing changes:
// by policy (a user's nftables.conf) or by a last rule that rejects
// everything (as firewalld's forward chain ends).
func TestForeignDropRefused(t *testing.T) {
	t.Run("policy", func(t *testing.T) {
		testForeignDrop(t, "add chain inet filter forward { type filter hook forward priority 0; policy drop; }")
	})
	t.Run("reject", func(t *testing.T) {
		testForeignDrop(t, "add chain inet filter forward { type filter hook forward priority 10; policy accept; }",
			"add rule inet filter forward ct state established,related accept",
			"add rule inet filter forward counter reject with icmpx admin-prohibited")
	})
}

func testForeignDrop(t *testing.T, cmds ...string) {
	w := newWorld(t)
	nstest.NeedTool(t, "nft", "nftables")
	in(t, w.hostName, "nft", "add table inet filter")
	for _, c := range cmds {
		in(t, w.hostName, "nft", c)
	}
	before := w.snapshot(t)
	_, err := uplink.Connect(context.Background(), w.ns, w.opts())
	if err == nil {
		uplink.Disconnect(context.Background(), w.nsN, w.opts())
		t.Fatal("Connect through a foreign forward drop succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "table inet filter chain forward") || !strings.Contains(msg, "--mode pasta") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming table inet filter chain forward and suggesting --mode pasta", msg)
	}
	same(t, before, w.snapshot(t))
	if uplink.Connected(w.nsN, nil) {
		t.Error("a journal was left")
	}
	// --mode pasta, as the error suggests, gets past it.
	nstest.NeedTool(t, "pasta", "passt")
	o := w.opts()
	o.Mode = uplink.Pasta
	connect(t, w.ns, o)
	if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
		t.Errorf("dial through pasta past the drop: %q, %v", peer, err)
	}
}

// TestDistinctSubnets: two namespaces connected to one host get distinct
// subnets; a 200-character name works, with a host end of 15 bytes or
// fewer; sysctls shared by both are restored only when the last goes.
func TestDistinctSubnets(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	long := strings.Repeat("x", 200-len(w.nsN)) + w.nsN
	ns2, err := netns.Create(long, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns2.Close(); nstest.Remove(t, long) })
	u1 := connect(t, w.ns, w.opts())
	u2 := connect(t, ns2, w.opts())
	if u1.NSAddr.Masked().Overlaps(u2.NSAddr.Masked()) {
		t.Errorf("subnets overlap: %v and %v", u1.NSAddr, u2.NSAddr)
	}
	if len(u2.HostIf) > 15 || u2.HostIf == u1.HostIf {
		t.Errorf("host ends %q and %q", u1.HostIf, u2.HostIf)
	}
	for _, ns := range []*netns.NS{w.ns, ns2} {
		if peer, err := dial(ns, serverTCP); err != nil || peer != hostWAN {
			t.Errorf("dial from %.20s...: %q, %v", ns.Name(), peer, err)
		}
	}
	if err := uplink.Disconnect(context.Background(), w.nsN, w.opts()); err != nil {
		t.Fatal(err)
	}
	if v := in(t, w.hostName, "cat", "/proc/sys/net/ipv4/conf/eth0/forwarding"); strings.TrimSpace(v) != "1" {
		t.Errorf("eth0 forwarding restored while the other connection needs it")
	}
	if peer, err := dial(ns2, serverTCP); err != nil || peer != hostWAN {
		t.Errorf("dial from the long name after the other disconnected: %q, %v", peer, err)
	}
	if err := uplink.Disconnect(context.Background(), long, w.opts()); err != nil {
		t.Fatal(err)
	}
	same(t, before, w.snapshot(t))
}

// TestBadInput: each is refused with one line, and nothing changes.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	for _, c := range []struct {
		what string
		o    uplink.Options
		want string
	}{
		{"overlapping subnet", uplink.Options{Subnet: netip.MustParsePrefix("198.51.100.0/30")}, "overlaps the host's route"},
		{"subnet too small", uplink.Options{Subnet: netip.MustParsePrefix("10.9.0.0/31")}, "/30 or larger"},
		{"host bits", uplink.Options{Subnet: netip.MustParsePrefix("10.9.0.1/30")}, "host bits"},
		{"unknown mode", uplink.Options{Mode: "vpn"}, "unknown mode"},
		{"pool covered by a route", uplink.Options{Pool: netip.MustParsePrefix("198.51.100.0/28")}, "no free /30 in 198.51.100.0/28"},
		{"port 0", uplink.Options{Publish: []uplink.Publish{{HostPort: 0, Port: 80, Proto: "tcp"}}}, "port 0"},
		{"pasta publish", uplink.Options{Mode: uplink.Pasta, Publish: []uplink.Publish{{HostPort: 8080, Port: 80, Proto: "tcp"}}}, "nat mode only"},
	} {
		o := c.o
		o.Host = w.host
		_, err := uplink.Connect(context.Background(), w.ns, &o)
		if err == nil {
			uplink.Disconnect(context.Background(), w.nsN, &o)
			t.Errorf("%s: accepted", c.what)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %q, want one line with %q", c.what, err, c.want)
		}
	}
	for _, s := range []string{"0:80", "8080:70000", "8080", "1.2.3.4:80:80/sctp", "x:1:2"} {
		if _, err := uplink.ParsePublish(s); err == nil {
			t.Errorf("ParsePublish(%q) accepted", s)
		}
	}
	unnamed, err := netns.OpenPath("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer unnamed.Close()
	if _, err := uplink.Connect(context.Background(), unnamed, w.opts()); err == nil {
		t.Error("an unnamed namespace was connected")
	}
	same(t, before, w.snapshot(t))
}

// TestTemporary: a temporary connection's table is owned by the process;
// Close takes everything back.
func TestTemporary(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	o := w.opts()
	o.Temporary = true
	u, err := uplink.Connect(context.Background(), w.ns, o)
	if err != nil {
		t.Fatal(err)
	}
	if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
		t.Errorf("dial: %q, %v", peer, err)
	}
	if out := in(t, w.hostName, "nft", "list", "table", "inet", uplink.TableName(w.nsN)); !strings.Contains(out, "owner") {
		t.Errorf("table not owner-flagged:\n%s", out)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	same(t, before, w.snapshot(t))
}

// TestKilledLeavesNoTable: a process holding a temporary connection is
// killed with SIGKILL: the kernel removes its table at once, and
// Leftovers/Fix take back the rest.
func TestKilledLeavesNoTable(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledLeavesNoTable$")
	cmd.Env = append(os.Environ(), "UPLINK_TEST_HOLD="+w.hostName+" "+w.nsN)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "connected") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q, %v", line, err)
	}
	table := uplink.TableName(w.nsN)
	if !strings.Contains(in(t, w.hostName, "nft", "list", "tables"), table) {
		t.Fatal("the helper's table is missing")
	}
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	if strings.Contains(in(t, w.hostName, "nft", "list", "tables"), table) {
		t.Error("table survived its owner's SIGKILL")
	}
	ls, err := uplink.Leftovers(w.opts())
	if err != nil || len(ls) != 1 || ls[0].Name != w.nsN {
		t.Fatalf("Leftovers = %v, %v; want %s's", ls, err, w.nsN)
	}
	if err := ls[0].Fix(context.Background(), w.opts()); err != nil {
		t.Fatal(err)
	}
	if ls, _ := uplink.Leftovers(w.opts()); len(ls) != 0 {
		t.Errorf("after Fix: %v", ls)
	}
	same(t, before, w.snapshot(t))
}

// hold is the helper process of TestKilledLeavesNoTable and
// TestKilledHalfWay: "HOST NS" connects temporarily and waits to be
// killed; "HOST NS STEP" connects for good and kills itself with SIGKILL
// right after the first change of kind STEP.
func hold() {
	f := strings.Fields(os.Getenv("UPLINK_TEST_HOLD"))
	o := &uplink.Options{Temporary: len(f) == 2}
	if len(f) == 3 {
		uplink.SetTestHook(func(kind string) {
			if kind == f[2] {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		})
	}
	host, err := netns.Open(f[0])
	if err == nil {
		o.Host = host
		var ns *netns.NS
		if ns, err = netns.Open(f[1]); err == nil {
			_, err = uplink.Connect(context.Background(), ns, o)
		}
	}
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("connected\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// TestLeftoverNamespaceGone: a connected namespace deleted behind our
// back leaves a journal that Leftovers finds and Fix clears.
func TestLeftoverNamespaceGone(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	ns2, name := nstest.NewNamed(t)
	connect(t, ns2, w.opts())
	ns2.Close()
	if err := netns.Delete(name); err != nil {
		t.Fatal(err)
	}
	ls, err := uplink.Leftovers(w.opts())
	if err != nil || len(ls) != 1 || ls[0].Name != name || ls[0].Reason != "namespace gone" {
		t.Fatalf("Leftovers = %v, %v", ls, err)
	}
	if err := ls[0].Fix(context.Background(), w.opts()); err != nil {
		t.Fatal(err)
	}
	// The veth goes with its namespace, asynchronously (the kernel's
	// cleanup_net): wait for it, generously on a loaded machine.
	for i := 0; i < 1000 && strings.Contains(nstest.MustIP(t, "-n", w.hostName, "-o", "link"), ": sn"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	same(t, before, w.snapshot(t))
}

// TestPasta: --mode pasta gives the namespace the internet through
// pasta's sockets in the host, with no host firewall or sysctl change,
// and disconnect stops it.
func TestPasta(t *testing.T) {
	nstest.NeedTool(t, "pasta", "passt")
	w := newWorld(t)
	before := w.snapshot(t)
	o := w.opts()
	o.Mode = uplink.Pasta
	u := connect(t, w.ns, o)
	if u.Mode != uplink.Pasta || !u.NSAddr.IsValid() {
		t.Errorf("uplink %+v", u)
	}
	if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
		t.Errorf("dial through pasta: %q, %v", peer, err)
	}
	if err := uplink.Disconnect(context.Background(), w.nsN, o); err != nil {
		t.Fatal(err)
	}
	same(t, before, w.snapshot(t))
	if out := nstest.MustIP(t, "-n", w.nsN, "-o", "link"); strings.Contains(out, "eth0") {
		t.Errorf("pasta's interface is still in the namespace:\n%s", out)
	}
}

// TestPastaMissing: without pasta in PATH, one clear line.
func TestPastaMissing(t *testing.T) {
	w := newWorld(t)
	t.Setenv("PATH", t.TempDir())
	_, err := uplink.Connect(context.Background(), w.ns, &uplink.Options{Host: w.host, Mode: uplink.Pasta})
	if err == nil || !strings.Contains(err.Error(), "pasta is not installed (Debian package passt)") {
		t.Fatalf("Connect without pasta: %v", err)
	}
	if uplink.Connected(w.nsN, nil) {
		t.Error("a journal was left")
	}
}

// TestRollback: a failure half-way (here the namespace already has a
// default route, so adding ours fails after the veth exists) undoes what
// was done: the host is as before and no journal is left.
func TestRollback(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	nstest.MustIP(t, "-n", w.nsN, "link", "set", "lo", "up")
	nstest.MustIP(t, "-n", w.nsN, "route", "add", "default", "dev", "lo")
	_, err := uplink.Connect(context.Background(), w.ns, w.opts())
	if err == nil || !strings.Contains(err.Error(), "default route") {
		uplink.Disconnect(context.Background(), w.nsN, w.opts())
		t.Fatalf("Connect with a default route in the way: %v", err)
	}
	same(t, before, w.snapshot(t))
	if uplink.Connected(w.nsN, nil) {
		t.Error("journal left after a failed connect")
	}
	if out := nstest.MustIP(t, "-n", w.nsN, "-o", "link"); strings.Contains(out, uplink.NSIf) {
		t.Errorf("the namespace's end is left:\n%s", out)
	}
}

// TestConcurrentConnects: 16 namespaces connected at once get 16
// distinct subnets, and all work.
func TestConcurrentConnects(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	const n = 16
	nss := make([]*netns.NS, n)
	for i := range nss {
		nss[i], _ = nstest.NewNamed(t)
	}
	us := make([]*uplink.Uplink, n)
	errs := make(chan error, n)
	for i := range nss {
		go func() {
			var err error
			us[i], err = uplink.Connect(context.Background(), nss[i], w.opts())
			errs <- err
		}()
	}
	for range nss {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	seen := map[netip.Prefix]bool{}
	for i, u := range us {
		if seen[u.NSAddr.Masked()] {
			t.Errorf("subnet %v given twice", u.NSAddr.Masked())
		}
		seen[u.NSAddr.Masked()] = true
		if peer, err := dial(nss[i], serverTCP); err != nil || peer != hostWAN {
			t.Errorf("dial from %s: %q, %v", u.Name, peer, err)
		}
	}
	for _, u := range us {
		go func() { errs <- uplink.Disconnect(context.Background(), u.Name, w.opts()) }()
	}
	for range us {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	same(t, before, w.snapshot(t))
}

// TestIPv6: --ipv6 adds a ULA /64, masqueraded, with per-interface
// force_forwarding (never the global switch).
func TestIPv6(t *testing.T) {
	w := newWorld(t)
	if _, err := os.Stat("/proc/sys/net/ipv6/conf/all/force_forwarding"); err != nil {
		nstest.Lacks(t, "needs the force_forwarding sysctl (Linux 6.17)")
	}
	nstest.MustIP(t, "-n", w.hostName, "addr", "add", "2001:db8::2/64", "dev", "eth0", "nodad")
	nstest.MustIP(t, "-n", w.wanName, "addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad")
	nstest.MustIP(t, "-n", w.wanName, "addr", "add", "2001:db8:1::10/128", "dev", "eth0", "nodad")
	nstest.MustIP(t, "-n", w.hostName, "-6", "route", "add", "default", "via", "2001:db8::1")
	w.serve(t, w.wan, "[2001:db8:1::10]:7")
	before := w.snapshot(t)
	o := w.opts()
	o.IPv6 = true
	u := connect(t, w.ns, o)
	if !u.NSAddr6.IsValid() || !u.NSAddr6.Addr().IsPrivate() {
		t.Fatalf("no ULA: %+v", u)
	}
	if peer, err := dial(w.ns, "[2001:db8:1::10]:7"); err != nil || peer != "2001:db8::2" {
		t.Errorf("IPv6 dial: %q, %v; want the host's 2001:db8::2 (masquerade)", peer, err)
	}
	if v := in(t, w.hostName, "cat", "/proc/sys/net/ipv6/conf/all/forwarding"); strings.TrimSpace(v) != "0" {
		t.Errorf("all.forwarding = %s: the global switch was flipped", v)
	}
	if err := uplink.Disconnect(context.Background(), w.nsN, o); err != nil {
		t.Fatal(err)
	}
	same(t, before, w.snapshot(t))
}

// TestKilledHalfWay: a connect killed with SIGKILL right after each kind
// of change (veth, table, iptables rule, sysctl) leaves a journal that
// Leftovers reports and Fix undoes exactly: the host is as before. The
// table of a lasting connection (owner and persist) outlives its killed
// owner, so Fix deletes an orphaned persist table too.
func TestKilledHalfWay(t *testing.T) {
	for _, step := range []string{"veth", "table", "iptables", "sysctl"} {
		t.Run(step, func(t *testing.T) {
			w := newWorld(t)
			if step == "iptables" {
				nstest.NeedTool(t, "iptables", "iptables")
				in(t, w.hostName, "iptables", "-P", "FORWARD", "DROP")
			}
			before := w.snapshot(t)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "UPLINK_TEST_HOLD="+w.hostName+" "+w.nsN+" "+step)
			out, _ := cmd.CombinedOutput()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper did not die at %s: %v: %s", step, cmd.ProcessState, out)
			}
			if !uplink.Connected(w.nsN, nil) {
				t.Fatal("no journal after the kill")
			}
			ls, err := uplink.Leftovers(w.opts())
			if err != nil || len(ls) != 1 || !strings.Contains(ls[0].Reason, "died half-way") {
				t.Fatalf("Leftovers = %v, %v", ls, err)
			}
			if err := ls[0].Fix(context.Background(), w.opts()); err != nil {
				t.Fatal(err)
			}
			same(t, before, w.snapshot(t))
			if uplink.Connected(w.nsN, nil) {
				t.Error("journal left after Fix")
			}
		})
	}
}

// TestConnectAfterCrash: Connect after a connect that died half-way takes
// the leftovers back and connects.
func TestConnectAfterCrash(t *testing.T) {
	w := newWorld(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "UPLINK_TEST_HOLD="+w.hostName+" "+w.nsN+" table")
	cmd.Run()
	connect(t, w.ns, w.opts())
	if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
		t.Errorf("dial after reconnect: %q, %v", peer, err)
	}
}

// TestFlushRulesetRepair: "nft flush ruleset" (a firewall reload) removes
// a lasting connection's orphaned table; doctor reports it, and Fix, or
// connecting again, makes it again.
func TestFlushRulesetRepair(t *testing.T) {
	w := newWorld(t)
	nstest.NeedTool(t, "nft", "nftables")
	u := connect(t, w.ns, w.opts())
	for _, how := range []string{"fix", "connect"} {
		in(t, w.hostName, "nft", "flush", "ruleset")
		if !unreachable(w.ns, serverTCP) {
			t.Fatal("still masqueraded after nft flush ruleset: the test proves nothing")
		}
		ls, err := uplink.Leftovers(w.opts())
		if err != nil || len(ls) != 1 || !ls[0].Repair {
			t.Fatalf("Leftovers = %+v, %v", ls, err)
		}
		if how == "fix" {
			err = ls[0].Fix(context.Background(), w.opts())
		} else {
			var u2 *uplink.Uplink
			if u2, err = uplink.Connect(context.Background(), w.ns, w.opts()); err == nil && u2.String() != u.String() {
				t.Errorf("connect again: %v, want %v", u2, u)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
			t.Errorf("after %s: %q, %v", how, peer, err)
		}
	}
}

// TestNoSpoofing: the namespace's root may add any address inside, but
// only packets from the connection's own subnet are forwarded: another
// source would leave the host un-masqueraded, as if the host sent it.
// The routes back are made by hand, so only the forward rules can stop
// a spoofed connection.
func TestNoSpoofing(t *testing.T) {
	w := newWorld(t)
	u := connect(t, w.ns, w.opts())
	const spoofed = "192.0.2.77"
	nstest.MustIP(t, "-n", w.nsN, "addr", "add", spoofed+"/32", "dev", u.NSIf)
	nstest.MustIP(t, "-n", w.hostName, "route", "add", spoofed+"/32", "dev", u.HostIf)
	nstest.MustIP(t, "-n", w.wanName, "route", "add", spoofed+"/32", "via", hostWAN)
	var err error
	w.ns.Do(func() error {
		d := net.Dialer{Timeout: 500 * time.Millisecond, LocalAddr: &net.TCPAddr{IP: net.ParseIP(spoofed)}}
		var c net.Conn
		if c, err = d.Dial("tcp", serverTCP); err == nil {
			c.Close()
		}
		return nil
	})
	if err == nil {
		t.Errorf("a connection from %s, outside %v, was forwarded", spoofed, u.NSAddr)
	}
	if peer, err := dial(w.ns, serverTCP); err != nil || peer != hostWAN {
		t.Errorf("from the connection's own address: %q, %v; want the host's %s", peer, err, hostWAN)
	}
}
