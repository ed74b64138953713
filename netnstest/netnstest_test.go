package netnstest_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/netns"
	"github.com/setns/setns/netnstest"
)

// pair is the body of each parallel subtest: two namespaces, a link, and
// data both ways over IPv4 and IPv6. The first packets on the link must
// get through: no SYN was sent twice. (A lost ARP request or neighbour
// solicitation holds the SYN in the neighbour queue for the one-second
// retransmit, and TCP's own retry finds it still there:
// TCPSpuriousRtxHostQueues.)
func pair(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	ea, eb := netnstest.Connect(t, a, b)
	exchange(t, ea, eb, "tcp4", ea.Addr4.Addr().AsSlice())
	exchange(t, eb, ea, "tcp6", eb.Addr6.Addr().AsSlice())
	for _, ns := range []*netns.NS{a, b} {
		if n := tcpExt(t, ns, "TCPSynRetrans") + tcpExt(t, ns, "TCPSpuriousRtxHostQueues"); n != 0 {
			t.Errorf("%s: %d SYNs retransmitted: the link dropped the first packets", ns, n)
		}
	}
}

// TestParallel: 64 parallel subtests each make two namespaces, connect
// them and exchange data over IPv4 and IPv6 (the IPv6 one at once, so with
// no DAD wait). Afterwards no namespace, mount, descriptor or thread in a
// foreign namespace is left.
func TestParallel(t *testing.T) {
	t.Run("warmup", pair) // descriptors the runtime opens once (epoll, ...)
	names, fdsBefore, mountsBefore := ours(t), fds(t), mounts(t)
	if len(names) != 0 {
		t.Fatalf("namespaces left before the test: %v", names)
	}
	t.Run("group", func(t *testing.T) {
		for i := range 64 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				pair(t)
			})
		}
	})
	if left := ours(t); len(left) != 0 {
		t.Errorf("namespaces left: %v", left)
	}
	if after := mounts(t); !slices.Equal(after, mountsBefore) {
		t.Errorf("mounts changed:\nbefore %q\nafter  %q", mountsBefore, after)
	}
	if after := fds(t); !slices.Equal(after, fdsBefore) {
		t.Errorf("descriptors changed:\nbefore %q\nafter  %q", fdsBefore, after)
	}
	waitNoForeignThreads(t)
}

// TestNames: a name carries the pid, a sequence number, the package and
// the test name (subtests' "/" as "."), is unique, and never exceeds the
// 255 bytes a name may have.
func TestNames(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	if a.Name() == b.Name() {
		t.Fatalf("two namespaces named %s", a.Name())
	}
	head := fmt.Sprintf("%s%d-", netnstest.Prefix, os.Getpid())
	tail := "-" + strings.TrimSuffix(filepath.Base(os.Args[0]), ".test") + "-TestNames" // go test: netnstest.test
	for _, n := range []string{a.Name(), b.Name()} {
		if !strings.HasPrefix(n, head) || !strings.HasSuffix(n, tail) {
			t.Errorf("name %q: want %s<seq>%s", n, head, tail)
		}
	}
	t.Run("sub/with space", func(t *testing.T) {
		n := netnstest.New(t).Name()
		if !strings.HasSuffix(n, "-TestNames.sub.with_space") {
			t.Errorf("name %q does not end in the subtest's name, made one word", n)
		}
	})
	t.Run(strings.Repeat("x", 300), func(t *testing.T) {
		n := netnstest.New(t).Name()
		if len(n) != 255 || !strings.HasPrefix(n, head) {
			t.Errorf("long test name gave a %d-byte name %q", len(n), n)
		}
	})
}

// TestNewDefaults: lo is up, IPv6 DAD is off in namespaces and devices
// made later, ICMP echo sockets are open; NewWith adds its own sysctls.
func TestNewDefaults(t *testing.T) {
	ns := netnstest.NewWith(t, &netnstest.Options{Sysctls: map[string]string{
		"net.ipv4.ip_forward":         "1",
		"net/ipv4/conf/all/rp_filter": "2",
	}})
	want := map[string]string{
		"net/ipv4/ip_forward":              "1",
		"net/ipv4/conf/all/rp_filter":      "2",
		"net/ipv6/conf/default/accept_dad": "0",
		"net/ipv6/conf/all/accept_dad":     "0",
	}
	err := ns.Do(func() error {
		for k, v := range want {
			b, err := os.ReadFile("/proc/sys/" + k)
			if err != nil {
				return err
			}
			if got := strings.TrimSpace(string(b)); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
		if err != nil {
			return err
		}
		if f := strings.Fields(string(b)); len(f) != 2 || f[0] > f[1] {
			t.Errorf("ping_group_range = %q, want a non-empty range", b)
		}
		// An unprivileged ICMP echo socket needs that range.
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, syscall.IPPROTO_ICMP)
		if err != nil {
			return fmt.Errorf("icmp echo socket: %w", err)
		}
		return syscall.Close(fd)
	})
	if err != nil {
		t.Fatal(err)
	}
	pc := netnstest.ListenPacket(t, ns, "udp", "127.0.0.1:0")
	c := netnstest.Dial(t, ns, "udp", pc.LocalAddr().String())
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := pc.ReadFrom(make([]byte, 1)); err != nil {
		t.Fatalf("udp over lo: %v", err)
	}
}

// TestConnect: ends are eth0, eth1, ... per namespace, addresses are
// distinct across pairs, and both ends are up with their addresses.
func TestConnect(t *testing.T) {
	hub, a, b := netnstest.New(t), netnstest.New(t), netnstest.New(t)
	h1, e1 := netnstest.Connect(t, hub, a)
	h2, e2 := netnstest.Connect(t, hub, b)
	if h1.Name != "eth0" || h2.Name != "eth1" || e1.Name != "eth0" || e2.Name != "eth0" {
		t.Errorf("names %s %s %s %s, want hub eth0, eth1 and eth0 in a and b", h1, h2, e1, e2)
	}
	seen := map[string]bool{}
	for _, e := range []netnstest.Endpoint{h1, e1, h2, e2} {
		for _, p := range []string{e.Addr4.Masked().String(), e.Addr6.Masked().String()} {
			if e == h1 || e == h2 {
				if seen[p] {
					t.Errorf("prefix %s used twice", p)
				}
				seen[p] = true
			}
		}
		if e.Addr4.Bits() != 31 || e.Addr6.Bits() != 127 || !netipIn(e) {
			t.Errorf("%s: addresses %s %s, want a /31 in 198.18.0.0/15 and a ULA /127", e, e.Addr4, e.Addr6)
		}
	}
	out, err := netnstest.Command(t, hub, "ip", "-br", "addr", "show", "eth1").Output()
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); len(f) < 4 || f[1] != "UP" || f[2] != h2.Addr4.String() || f[3] != h2.Addr6.String() {
		t.Errorf("ip -br addr show eth1 in hub: %q, want UP %s %s", out, h2.Addr4, h2.Addr6)
	}
	exchange(t, e1, h1, "tcp6", e1.Addr6.Addr().AsSlice())
	exchange(t, h2, e2, "tcp4", h2.Addr4.Addr().AsSlice())
}

func netipIn(e netnstest.Endpoint) bool {
	return e.Addr4.Addr().As4()[0] == 198 && e.Addr4.Addr().As4()[1]&0xfe == 18 && e.Addr6.Addr().As16()[0] == 0xfd
}

// TestCommand: the command runs in the namespace's exec environment (its
// own /sys), and one still running when the test ends is killed.
func TestCommand(t *testing.T) {
	ns := netnstest.New(t)
	out, err := netnstest.Command(t, ns, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("net:[%d]\nlo\n", ns.Inode())
	if string(out) != want {
		t.Errorf("command said %q, want %q", out, want)
	}
	var pid int
	t.Run("sleeper", func(t *testing.T) {
		cmd := netnstest.Command(t, netnstest.New(t), "sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid = cmd.Process.Pid
	})
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the command of a finished test still runs (pid %d)", pid)
	}
	waitNoForeignThreads(t)
}

// TestClosedHandle: a test may Close the handle New gave it; the
// namespace is deleted all the same.
func TestClosedHandle(t *testing.T) {
	var name string
	t.Run("closer", func(t *testing.T) {
		ns := netnstest.New(t)
		name = ns.Name()
		ns.Close()
	})
	if _, err := netns.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(%s) after the test: %v, want it gone", name, err)
	}
}

// TestOwnLoopback: the test process's own loopback works, in Main's user
// namespace sandbox too (whose network namespace is new), so that tests
// that serve on 127.0.0.1, as httptest does, work there as elsewhere.
func TestOwnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on the process's own lo: %v", err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestPing: an echo over a link both ways, IPv4 and IPv6, and over lo.
func TestPing(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	ea, eb := netnstest.Connect(t, a, b)
	netnstest.Ping(t, a, eb.Addr4.Addr())
	netnstest.Ping(t, b, ea.Addr6.Addr())
	netnstest.Ping(t, a, netip.MustParseAddr("127.0.0.1"))
	netnstest.Ping(t, b, netip.MustParseAddr("::1"))
}
