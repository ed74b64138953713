package netns_test

import (
	"errors"
	"io/fs"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestConcurrentLifecycle runs creates, opens and deletes (ours and ip's)
// against doctor fixes and listings, all at once: no live namespace may be
// disturbed, and each operation fails only in the ways a race allows.
func TestConcurrentLifecycle(t *testing.T) {
	nstest.RequireIP(t)
	nstest.NewNamed(t) // the run dir exists
	var wg sync.WaitGroup
	var stop atomic.Bool
	fail := func(format string, args ...any) { t.Errorf(format, args...) }

	// Ours: create, open, delete, 100 times each in 4 goroutines.
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				name := nstest.TempName(t)
				ns, err := netns.Create(name, nil)
				if err != nil {
					fail("Create: %v", err)
					return
				}
				again, err := netns.Open(name)
				if err != nil || !again.Equal(ns) {
					fail("Open right after Create: %v", err)
				} else {
					again.Close()
				}
				ns.Close()
				if err := netns.Delete(name); err != nil {
					fail("Delete: %v", err)
				}
			}
		}()
	}
	// ip's: add, exec, delete.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 30 {
			name := nstest.TempName(t)
			if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
				fail("ip netns add: %v %s", err, out)
				return
			}
			if out, err := exec.Command("ip", "netns", "exec", name, "true").CombinedOutput(); err != nil {
				fail("ip netns exec right after add: %v %s", err, out)
			}
			if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
				fail("ip netns delete: %v %s", err, out)
			}
		}
	}()
	// Two deleters racing on the same names: exactly one wins each.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			name := nstest.TempName(t)
			ns, err := netns.Create(name, nil)
			if err != nil {
				fail("Create: %v", err)
				return
			}
			ns.Close()
			var wins atomic.Int32
			var dw sync.WaitGroup
			for range 2 {
				dw.Add(1)
				go func() {
					defer dw.Done()
					err := netns.Delete(name)
					switch {
					case err == nil:
						wins.Add(1)
					case !errors.Is(err, fs.ErrNotExist):
						fail("racing Delete: %v", err)
					}
				}()
			}
			dw.Wait()
			if wins.Load() != 1 {
				fail("%d of 2 racing Deletes succeeded, want 1", wins.Load())
			}
		}
	}()
	// The doctor and listings run throughout.
	var fixers sync.WaitGroup
	fixers.Add(1)
	go func() {
		defer fixers.Done()
		for !stop.Load() {
			if _, err := netns.List(); err != nil {
				fail("List: %v", err)
			}
			findings, err := netns.Diagnose()
			if err != nil {
				fail("Diagnose: %v", err)
				return
			}
			for _, f := range findings {
				if f.Fixable() && f.Kind != netns.KindStacked {
					fail("a create in progress looks fixable: %+v", f)
				}
				f.Fix() // must refuse, or act only on what is broken
			}
		}
	}()
	wg.Wait()
	stop.Store(true)
	fixers.Wait()
}
