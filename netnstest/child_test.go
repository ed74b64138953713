package netnstest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/netnstest"
)

// childEnv makes TestChild, run by the tests below in a child test
// binary, play one of the parts in children.
const childEnv = "NETNSTEST_TEST_CHILD"

// children are the parts TestChild plays.
var children = map[string]func(t *testing.T){
	// Each subtest fails half-way through its setup in another way.
	"failmid": func(t *testing.T) {
		t.Run("sysctl", func(t *testing.T) { // after the namespace exists
			netnstest.NewWith(t, &netnstest.Options{Sysctls: map[string]string{"net.no.such.key": "1"}})
		})
		t.Run("connect", func(t *testing.T) { // eth0 is taken in a
			a, b := netnstest.New(t), netnstest.New(t)
			t.Logf("made %s %s", a.Name(), b.Name())
			err := link.AddVeth(context.Background(), link.End{NS: a, Name: "eth0"}, link.End{NS: a, Name: "x"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			netnstest.Connect(t, a, b)
			t.Log("reached past Connect")
		})
		t.Run("failnow", func(t *testing.T) {
			a, b := netnstest.New(t), netnstest.New(t)
			t.Logf("made %s %s", a.Name(), b.Name())
			ea, eb := netnstest.Connect(t, a, b)
			netnstest.Listen(t, a, "tcp", "0.0.0.0:0")
			netnstest.Command(t, b, "sleep", "1000").Start()
			_ = ea
			_ = eb
			t.FailNow()
		})
	},
	// A test leaves a namespace behind: Main must fail the run.
	"leak": func(t *testing.T) {
		name := os.Getenv("NETNSTEST_TEST_LEAK")
		if _, err := netns.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	},
	// A failed test under NETNSTEST_KEEP=1.
	"keep": func(t *testing.T) {
		t.Logf("made %s", netnstest.New(t).Name())
		t.Error("failing on purpose")
	},
	// A ping that cannot be answered: a namespace with lo only.
	"ping": func(t *testing.T) {
		netnstest.Ping(t, netnstest.New(t), netip.MustParseAddr("198.18.0.1"))
		t.Log("reached past Ping")
	},
	// Just a namespace, for the sweep and the skip.
	"new": func(t *testing.T) {
		netnstest.New(t)
		t.Log("reached past New")
	},
}

// TestChild plays the part childEnv names; it does nothing otherwise.
func TestChild(t *testing.T) {
	part := os.Getenv(childEnv)
	if part == "" {
		t.Skip("run by other tests in a child process")
	}
	children[part](t)
}

// child runs this test binary's TestChild as part, with env added, and
// returns its output and exit error. NETNSTEST_SANDBOX=0 unless env says
// otherwise: the child then shares this process's run directory (our
// sandbox's), so that we see what it leaves.
func child(t *testing.T, part string, env ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+part, netnstest.SandboxEnv+"=0", "NETNSTEST_KEEP=", "NETNSTEST_REQUIRE=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var madeRE = regexp.MustCompile(`made ((?:` + netnstest.Prefix + `\S+ ?)+)`)

// made lists the names a child logged with "made NAME...".
func made(out string) []string {
	var names []string
	for _, m := range madeRE.FindAllStringSubmatch(out, -1) {
		names = append(names, strings.Fields(m[1])...)
	}
	return names
}

// childPID is the pid in the names a child's New gave.
func childPID(t *testing.T, out string) int {
	t.Helper()
	var pid int
	if m := regexp.MustCompile(netnstest.Prefix + `(\d+)-`).FindStringSubmatch(out); m != nil {
		fmt.Sscan(m[1], &pid)
	}
	if pid == 0 {
		t.Fatalf("no namespace name in the child's output:\n%s", out)
	}
	return pid
}

// TestFailMidSetup: subtests that fail half-way through their setup (a
// bad sysctl after the namespace exists, a Connect that fails, a FailNow
// with a link, a listener and a running command) leave nothing behind.
func TestFailMidSetup(t *testing.T) {
	netnstest.New(t) // skips without privileges, like the child would
	out, err := child(t, "failmid")
	if err == nil || strings.Count(out, "--- FAIL") != 4 || strings.Contains(out, "reached past") {
		t.Fatalf("child: %v, want its 3 subtests to fail where told:\n%s", err, out)
	}
	for _, want := range []string{`sysctl net.no.such.key="1"`, "file exists"} {
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	names := made(out)
	if len(names) != 4 {
		t.Fatalf("child made %q, want 4 names:\n%s", names, out)
	}
	for _, n := range names {
		if _, err := netns.Open(n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) after the child: %v, want it gone", n, err)
		}
	}
	if left := namesOf(t, childPID(t, out)); len(left) > 0 {
		t.Errorf("the child left %v", left)
	}
	if strings.Contains(out, "leaked") {
		t.Errorf("Main reported a leak:\n%s", out)
	}
}

// TestMainFailsOnLeak: a test that leaves a namespace makes Main fail the
// run, though every test passed, and Main removes it. In the sandbox any
// name counts; outside, only names New would give in this process.
func TestMainFailsOnLeak(t *testing.T) {
	netnstest.New(t)
	t.Run("sandbox", func(t *testing.T) {
		out, err := child(t, "leak", netnstest.SandboxEnv+"=1", "NETNSTEST_TEST_LEAK=leaky")
		if err == nil || !strings.Contains(out, "--- PASS: TestChild") ||
			!strings.Contains(out, "netnstest: FAIL: tests leaked namespaces: leaky") {
			t.Errorf("child: %v, want its test to pass and Main to fail the run naming leaky:\n%s", err, out)
		}
	})
	t.Run("ours", func(t *testing.T) {
		// The child's pid is unknown before it runs: the leaked name
		// carries the pid of the process that the child's shell execs.
		exe, _ := os.Executable()
		cmd := exec.Command("sh", "-c", `NETNSTEST_TEST_LEAK=`+netnstest.Prefix+`$$-1-x-TestLeak exec "$0" "$@"`,
			exe, "-test.run=^TestChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=leak", netnstest.SandboxEnv+"=0")
		b, err := cmd.CombinedOutput()
		out := string(b)
		leaked := fmt.Sprintf("%s%d-1-x-TestLeak", netnstest.Prefix, cmd.Process.Pid)
		if err == nil || !strings.Contains(out, "--- PASS: TestChild") ||
			!strings.Contains(out, "netnstest: FAIL: tests leaked namespaces: "+leaked+"\n") {
			t.Errorf("child: %v, want its test to pass and Main to fail the run naming %s:\n%s", err, leaked, out)
		}
		if _, err := netns.Open(leaked); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) after the child: %v, want Main to have removed it", leaked, err)
			netns.Delete(leaked)
		}
	})
}

// TestSweep: Main removes names New gave in this package's crashed runs
// (their process is gone), and nothing else: not those of a live process,
// of a run whose pid only looks dead (another pid namespace), of another
// package, or of anyone else.
func TestSweep(t *testing.T) {
	ns := netnstest.New(t)
	f := strings.SplitN(strings.TrimPrefix(ns.Name(), netnstest.Prefix), "-", 4) // pid, seq, package, test
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := gone.Process.Pid
	stale := fmt.Sprintf("%s%d-1-%s-TestCrashed", netnstest.Prefix, dead, f[2])
	keep := []string{
		fmt.Sprintf("%s%d-1-otherpkg-TestCrashed", netnstest.Prefix, dead),
		fmt.Sprintf("%s%d-99-%s-TestAlive", netnstest.Prefix, os.Getpid(), f[2]),
		fmt.Sprintf("%s%d-x-%s-TestOdd", netnstest.Prefix, dead, f[2]),
		fmt.Sprintf("someone-%d-1-%s-else", dead, f[2]),
	}
	// A run in another pid namespace: its pid looks dead from here, but it
	// holds its namespace (a shared flock, as New takes).
	held := fmt.Sprintf("%s%d-2-%s-TestInAContainer", netnstest.Prefix, dead, f[2])
	keep = append(keep, held)
	for _, n := range append([]string{stale}, keep...) {
		t.Cleanup(func() { netns.Delete(n) })
		h, err := netns.Create(n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != held {
			h.Close()
			continue
		}
		t.Cleanup(func() { h.Close() })
		if err := syscall.Flock(h.Fd(), syscall.LOCK_SH); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := child(t, "new"); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if _, err := netns.Open(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(%s) after Main: %v, want it swept", stale, err)
	}
	for _, n := range keep {
		h, err := netns.Open(n)
		if err != nil {
			t.Errorf("Main removed %s, not a stale entry of this package: %v", n, err)
			continue
		}
		h.Close()
	}
}

// TestKeep: under NETNSTEST_KEEP=1 a failed test's namespaces stay, the
// log says how to enter them, and Main does not count them as leaks.
func TestKeep(t *testing.T) {
	netnstest.New(t)
	out, err := child(t, "keep", "NETNSTEST_KEEP=1")
	names := made(out)
	if err == nil || len(names) != 1 {
		t.Fatalf("child: %v, want it to fail with one namespace:\n%s", err, out)
	}
	t.Cleanup(func() { netns.Delete(names[0]) })
	if !strings.Contains(out, "kept namespace "+names[0]) || !strings.Contains(out, "ip netns exec "+names[0]) {
		t.Errorf("child output does not say how to enter %s:\n%s", names[0], out)
	}
	if strings.Contains(out, "leaked") {
		t.Errorf("Main counted the kept namespace as a leak:\n%s", out)
	}
	ns, err := netns.Open(names[0])
	if err != nil {
		t.Fatalf("kept namespace: %v", err)
	}
	ns.Close()
}

// TestPingFails: a ping that gets no answer fails the test.
func TestPingFails(t *testing.T) {
	netnstest.New(t)
	out, err := child(t, "ping")
	if err == nil || !strings.Contains(out, "netnstest: ping 198.18.0.1 from ") || strings.Contains(out, "reached past") {
		t.Errorf("child: %v, want Ping to fail the test:\n%s", err, out)
	}
}
