package netns_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// attached makes a namespace a (named aName) with a sleeping process pid
// in it, and attaches pid's namespace under a second name, name.
func attached(t *testing.T) (a *netns.NS, aName string, ns *netns.NS, name string, pid int) {
	t.Helper()
	a, aName = nstest.NewNamed(t)
	pid = nstest.Sleeper(t, aName)
	name = nstest.TempName(t)
	ns, err := netns.Attach(name, pid)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	t.Cleanup(func() { ns.Close(); nstest.Remove(t, name) })
	return a, aName, ns, name, pid
}

func TestAttach(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	a, _, ns, name, pid := attached(t)
	if !ns.Equal(a) {
		t.Errorf("attached namespace is not the process's")
	}
	// ip sees it as the same namespace too.
	if out := nstest.MustIP(t, "netns", "exec", name, "ip", "netns", "identify"); out == "\n" {
		t.Errorf("ip netns exec %s ip netns identify printed no name", name)
	}
	if _, err := netns.Attach(name, pid); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Attach(existing) = %v, want fs.ErrExist", err)
	}
}

func TestAttachNoProcess(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	name := nstest.TempName(t)
	for _, pid := range []int{99999999, -1, 0} {
		_, err := netns.Attach(name, pid)
		var e *netns.Error
		if err == nil || !errors.As(err, &e) || e.Op != "attach" || e.Name != name {
			t.Errorf("Attach(%d) = %v, want an attach error naming %q", pid, err, name)
		}
	}
	if _, err := netns.Attach(name, 99999999); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Attach(no such pid) = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Lstat(netns.RunDir + "/" + name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed Attach left %s behind: %v", name, err)
	}
}
