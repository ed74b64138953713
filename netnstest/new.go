package netnstest

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setns/setns/netns"
)

// Prefix starts the name of every namespace New makes:
// Prefix + "PID-SEQ-PKG-TEST", e.g. "netnstest-4242-7-link-TestAddVeth.ipv6".
// Main uses it to sweep the leftovers of crashed runs and to find leaks.
const Prefix = "netnstest-"

// maxName is the longest namespace name (NAME_MAX, as netns.ValidName).
const maxName = 255

// Options adjusts NewWith. A nil *Options is the defaults, as New.
type Options struct {
	// Sysctls are written inside the namespace after the defaults
	// (see New), keys dotted as sysctl(8) takes them, e.g.
	// "net.ipv4.ip_forward": "1", in the order of their keys. Only net.*
	// keys exist per namespace.
	Sysctls map[string]string
}

// defaultSysctls are written into every namespace New makes. A new
// namespace copies the host's IPv4 settings but not its IPv6 ones, so
// tests would otherwise behave differently from host to host: the few
// that matter to tests are set explicitly.
var defaultSysctls = [][2]string{
	{"net/ipv6/conf/all/accept_dad", "0"},     // addresses usable at once, not tentative
	{"net/ipv6/conf/default/accept_dad", "0"}, // devices made later inherit default
}

// pingGroups is the value for net.ipv4.ping_group_range that opens ICMP
// echo sockets to every group this process's user namespace maps (the
// kernel refuses unmapped groups): "0 2147483647" on the host.
var pingGroups = sync.OnceValue(func() string {
	lo, hi := int64(0), int64(2147483647)
	if b, err := os.ReadFile("/proc/self/gid_map"); err == nil {
		lo, hi = hi, 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var in, out, n int64
			if _, err := fmt.Sscan(line, &in, &out, &n); err == nil && n > 0 {
				lo, hi = min(lo, in), max(hi, min(in+n-1, 2147483647))
			}
		}
		if lo > hi {
			lo, hi = 1, 0 // nothing mapped: the kernel's default, no group
		}
	}
	return fmt.Sprintf("%d %d", lo, hi)
})

var (
	seq   atomic.Int64
	kept  sync.Map // name → struct{}: kept for NETNSTEST_KEEP, not a leak
	owned sync.Map // *netns.NS → struct{}: namespaces New made and will delete
)

// New returns a fresh named namespace with lo up, IPv6 duplicate address
// detection off and ICMP echo sockets open to every group
// (net.ipv4.ping_group_range), and deletes it when t and its subtests end.
// Its name, Prefix + "PID-SEQ-PKG-TEST", is unique across parallel tests
// and packages and shows the test in "ip netns list".
//
// The cleanup is registered before anything can fail, so a test that
// stops half-way (t.FailNow, a failed helper) leaves nothing behind. With
// NETNSTEST_KEEP=1 the namespaces of a failed test are kept instead, and
// the test log says how to enter them.
//
// New needs root, or Main's user-namespace sandbox; without either it
// skips t with one line saying why (or fails it with NETNSTEST_REQUIRE=1).
// The calling thread is never moved.
func New(t testing.TB) *netns.NS {
	t.Helper()
	return NewWith(t, nil)
}

// NewWith is New with options.
func NewWith(t testing.TB, o *Options) *netns.NS {
	t.Helper()
	requirePrivilege(t)
	name := nameFor(t)
	var ns *netns.NS
	t.Cleanup(func() { release(t, name, ns) })
	ns, err := netns.Create(name, nil)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			lacks(t, fmt.Sprintf("netnstest: cannot create a network namespace: %v", err))
		}
		t.Fatalf("netnstest: %v", err)
	}
	owned.Store(ns, struct{}{})
	holdLive(ns)
	extra := [][2]string{{"net/ipv4/ping_group_range", pingGroups()}}
	if o != nil {
		for _, k := range slices.Sorted(maps.Keys(o.Sysctls)) { // the same order every run
			extra = append(extra, [2]string{k, o.Sysctls[k]})
		}
	}
	if err := writeSysctls(ns, append(defaultSysctls[:len(defaultSysctls):len(defaultSysctls)], extra...)); err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	return ns
}

// writeSysctls writes every key in one visit to ns: /proc/sys/net shows
// the namespace of the thread that opens it.
func writeSysctls(ns *netns.NS, kv [][2]string) error {
	return ns.Do(func() error {
		for _, p := range kv {
			key := strings.ReplaceAll(p[0], ".", "/")
			if strings.Contains(p[0], "/") {
				key = p[0] // already a path: dots belong to names (eth0.5)
			}
			if !strings.HasPrefix(key, "net/") || strings.Contains(key, "..") {
				return fmt.Errorf("sysctl %q in %q: only net.* keys belong to a namespace", p[0], ns.Name())
			}
			if err := os.WriteFile("/proc/sys/"+key, []byte(p[1]), 0); err != nil {
				return fmt.Errorf("sysctl %s=%q in %q: %w", p[0], p[1], ns.Name(), err)
			}
		}
		return nil
	})
}

// release is New's cleanup: it deletes the namespace, or keeps it for a
// failed test under NETNSTEST_KEEP=1.
func release(t testing.TB, name string, ns *netns.NS) {
	if ns == nil {
		return // Create failed, and a failed Create leaves nothing
	}
	owned.Delete(ns)
	ifnames.Delete(ns.Inode())
	defer ns.Close()
	if t.Failed() && os.Getenv("NETNSTEST_KEEP") == "1" {
		kept.Store(name, struct{}{})
		t.Logf("netnstest: kept namespace %s of failed test %s; enter it with: sudo ip netns exec %s bash; remove it with: sudo ip netns delete %s (the package's next test run removes it too)%s",
			name, t.Name(), name, name, keepNote())
		return
	}
	if err := netns.DeleteIf(name, ns); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("netnstest: cleanup: %v", err)
	}
}

// nameFor makes the name of a new namespace of t.
func nameFor(t testing.TB) string {
	head := fmt.Sprintf("%s%d-%d-%s-", Prefix, os.Getpid(), seq.Add(1), pkgTag())
	test := clean(t.Name())
	if len(head)+len(test) > maxName {
		test = test[:maxName-len(head)]
	}
	return head + test
}

// pkgTag names the test binary's package ("link" for link.test), with no
// "-", so that a name splits back into its fields.
var pkgTag = sync.OnceValue(func() string {
	tag := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	tag = strings.ReplaceAll(clean(tag), "-", "_")
	if len(tag) > 32 {
		tag = tag[:32]
	}
	if tag == "" {
		tag = "_"
	}
	return tag
})

// clean makes s fit a namespace name that a shell takes as one word:
// subtests' "/" become ".", anything but letters, digits and ._+=,@- "_".
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '/':
			return '.'
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._+=,@-", r):
			return r
		}
		return '_'
	}, s)
}

// parseName splits a name New made into its pid and package tag.
func parseName(name string) (pid int, pkg string, ok bool) {
	f := strings.SplitN(strings.TrimPrefix(name, Prefix), "-", 4)
	if !strings.HasPrefix(name, Prefix) || len(f) != 4 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return 0, "", false
	}
	return pid, f[2], true
}
