package netnstest_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/netnstest"
)

// Helpers of the tests in this package.

// ours lists the names in the run directory that New gave in this process.
func ours(t testing.TB) []string {
	t.Helper()
	return namesOf(t, os.Getpid())
}

// namesOf lists the names in the run directory that New gave in process pid.
func namesOf(t testing.TB, pid int) []string {
	t.Helper()
	names, err := netns.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, fmt.Sprintf("%s%d-", netnstest.Prefix, pid)) {
			out = append(out, n)
		}
	}
	return out
}

// fds lists this process's open descriptors, with what they refer to
// (a path, or a kind like "socket:"; the numbers in brackets vary).
func fds(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil { // the descriptor ReadDir used is gone by now
			kind, _, _ := strings.Cut(l, "[") // pipe:[123] → pipe:
			out = append(out, e.Name()+" "+kind)
		}
	}
	return out
}

// mounts returns this process's mount table without the mount ids.
func mounts(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.SplitN(l, " ", 3); len(f) == 3 {
			out = append(out, f[2])
		}
	}
	slices.Sort(out)
	return out
}

// exchange connects b to a's listener across the link and echoes a line.
func exchange(t testing.TB, ea, eb netnstest.Endpoint, network string, addr net.IP) {
	t.Helper()
	ln := netnstest.Listen(t, ea.NS, network, net.JoinHostPort(addr.String(), "0"))
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done }) // after the client's close, below
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Not io.Copy(c, c): TCP to TCP splices through pipes that
		// the runtime caches, which would blur the descriptor check.
		io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
	}()
	c := netnstest.Dial(t, eb.NS, network, ln.Addr().String())
	msg := "hello from " + eb.Name + " in " + eb.NS.Name()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo over %s %s: got %q, %v", network, ln.Addr(), got, err)
	}
}

// tcpExt reads a TcpExt counter of ns from /proc/net/netstat.
func tcpExt(t testing.TB, ns *netns.NS, key string) int {
	t.Helper()
	var b []byte
	err := ns.Do(func() (err error) {
		b, err = os.ReadFile("/proc/thread-self/net/netstat") // this thread's namespace
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "TcpExt:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		if i := slices.Index(names, key); i > 0 && i < len(f) {
			n, _ := strconv.Atoi(f[i])
			return n
		}
	}
	t.Fatalf("no TcpExt %s in /proc/net/netstat of %s", key, ns)
	return 0
}

// waitNoForeignThreads fails t if a thread stays in a foreign network
// namespace; a thread a Do is just done with gets a moment to move back.
func waitNoForeignThreads(t testing.TB) {
	t.Helper()
	var bad []string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if bad, _ = nstest.ForeignThreads(); len(bad) == 0 {
			return
		}
	}
	t.Errorf("threads left in a foreign network namespace: %v", bad)
}
