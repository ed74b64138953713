package netns_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

func TestOpenPIDAndPath(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	ns, name := nstest.NewNamed(t)
	// A process living in the namespace: ip netns exec NAME sleep.
	cmd := exec.Command("ip", "netns", "exec", name, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var byPID *netns.NS
	for range 2000 { // until the exec has switched
		p, err := netns.OpenPID(cmd.Process.Pid)
		if err == nil && p.Equal(ns) {
			byPID = p
			break
		}
		if err == nil {
			p.Close()
		}
		sleepBriefly()
	}
	if byPID == nil {
		t.Fatal("OpenPID never saw the process inside the namespace")
	}
	byPID.Close()
	if _, err := netns.OpenPID(0); err == nil {
		t.Error("OpenPID(0) succeeded")
	}
	if _, err := netns.OpenPath("/proc/self/ns/mnt"); !errors.Is(err, netns.ErrNotNamespace) {
		t.Errorf("OpenPath(mnt namespace) = %v, want ErrNotNamespace", err)
	}
	if _, err := netns.OpenPath("/etc/hostname"); !errors.Is(err, netns.ErrNotNamespace) {
		t.Errorf("OpenPath(/etc/hostname) = %v, want ErrNotNamespace", err)
	}
	if _, err := netns.OpenPath("/nonexistent"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenPath(/nonexistent) = %v, want fs.ErrNotExist", err)
	}
}

func TestCurrentIsProcessNamespace(t *testing.T) {
	nstest.RequireRoot(t)
	cur, err := netns.Current()
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	self, err := netns.OpenPath("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if !cur.Equal(self) {
		t.Error("Current differs from /proc/self/ns/net outside Do")
	}
}

// TestStartKeepsMainThread: Start never leaves the main thread (whose
// namespaces /proc/PID/ns shows) in the namespace, even when its private
// goroutine is scheduled there.
func TestStartKeepsMainThread(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, name := nstest.NewNamed(t)
	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "NETNS_TEST_START="+name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%v: %s", err, out)
	}
}

// TestOpenTakesNamesOnly: Open refuses anything that is not a valid name,
// paths included, so a name from an untrusted client cannot leave the run
// directory; OpenPath is the way to open a path.
func TestOpenTakesNamesOnly(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, name := nstest.NewNamed(t)
	for _, bad := range []string{
		"../../proc/1/ns/net", "/proc/self/ns/net", "./" + name,
		netns.RunDir + "/" + name, "", ".", "..",
	} {
		ns, err := netns.Open(bad)
		if !errors.Is(err, netns.ErrInvalidName) {
			t.Errorf("Open(%q) = %v, want ErrInvalidName", bad, err)
		}
		if ns != nil {
			ns.Close()
		}
	}
	ns, err := netns.OpenPath(netns.RunDir + "/" + name)
	if err != nil {
		t.Fatalf("OpenPath: %v", err)
	}
	defer ns.Close()
	if ns.Name() != "" || ns.Path() != netns.RunDir+"/"+name {
		t.Errorf("OpenPath gave name %q path %q", ns.Name(), ns.Path())
	}
}
