package netns_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

func sleepBriefly() { time.Sleep(time.Millisecond) }

// TestEnsureRace: 64 goroutines and 8 "ip netns add" race on one new name;
// all Ensure calls succeed with the same namespace, and exactly one party
// created it.
func TestEnsureRace(t *testing.T) {
	nstest.RequireIP(t)
	for round := range 5 {
		name := nstest.TempName(t)
		t.Cleanup(func() { nstest.Remove(t, name) })
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			handles []*netns.NS
			created int
			ipWon   int
		)
		start := make(chan struct{})
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ns, made, err := netns.Ensure(name, nil)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("round %d: Ensure: %v", round, err)
					return
				}
				handles = append(handles, ns)
				if made {
					created++
				}
			}()
		}
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					ipWon++
				} else if !strings.Contains(string(out), "File exists") {
					t.Errorf("round %d: ip netns add: %v: %s", round, err, out)
				}
			}()
		}
		close(start)
		wg.Wait()
		if created+ipWon != 1 {
			t.Errorf("round %d: %d Ensure calls and %d ip adds created it, want exactly 1 in all", round, created, ipWon)
		}
		final, err := netns.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range handles {
			if !h.Equal(final) {
				t.Errorf("round %d: a handle differs from the final namespace", round)
			}
			h.Close()
		}
		final.Close()
	}
}

// TestEnsureExisting: Ensure never replaces an existing namespace.
func TestEnsureExisting(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	ns, name := nstest.NewNamed(t)
	got, created, err := netns.Ensure(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if created || !got.Equal(ns) {
		t.Errorf("Ensure on an existing name: created=%v equal=%v, want false true", created, got.Equal(ns))
	}
}

// TestEnsureRecoversFromCrash kills a creating process at each step, then
// checks that the next Ensure succeeds and leaves no junk.
func TestEnsureRecoversFromCrash(t *testing.T) {
	nstest.RequireRoot(t)
	for _, step := range []string{"reserved", "unshared", "mounted"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			name := nstest.TempName(t)
			t.Cleanup(func() { nstest.Remove(t, name) })
			cmd := exec.Command("/proc/self/exe")
			cmd.Env = append(os.Environ(), crashEnv+"="+step, "NETNS_TEST_CRASH_NAME="+name)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != -1 {
				t.Fatalf("crash child did not die by signal: %v: %s", err, out)
			}
			if _, err := os.Lstat(netns.RunDir + "/" + name); err != nil {
				t.Fatalf("the crash left nothing to recover from: %v", err)
			}
			begin := time.Now()
			ns, created, err := netns.Ensure(name, nil)
			if err != nil {
				t.Fatalf("Ensure after a crash at %q: %v", step, err)
			}
			defer ns.Close()
			if wantCreated := step != "mounted"; created != wantCreated {
				t.Errorf("created = %v, want %v", created, wantCreated)
			}
			if took := time.Since(begin); took > netns.PlaceholderGrace+5*time.Second {
				t.Errorf("recovery took %v", took)
			}
			again, err := netns.Open(name)
			if err != nil {
				t.Fatalf("Open after recovery: %v", err)
			}
			again.Close()
			if n := strings.Count(mountsOf(t, name), "\n"); n != 1 {
				t.Errorf("%d mounts on the name after recovery, want 1", n)
			}
		})
	}
}

// mountsOf returns the mountinfo lines for the run-dir entry name.
func mountsOf(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == netns.RunDir+"/"+name {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestEnsureWaitsForFreshPlaceholder: a placeholder younger than the grace
// period (as ip leaves it mid-add) is waited for, not removed.
func TestEnsureWaitsForFreshPlaceholder(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.NewNamed(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	path := netns.RunDir + "/" + name
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	placed := time.Now()
	ns, created, err := netns.Ensure(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	if waited := time.Since(placed); waited < netns.PlaceholderGrace-100*time.Millisecond || !created { // file times tick coarsely
		t.Errorf("Ensure replaced a fresh placeholder after %v (created=%v), want a wait of at least %v", waited, created, netns.PlaceholderGrace)
	}
}

func TestEnsureMissingRunDirEntryIsNotExist(t *testing.T) {
	nstest.RequireRoot(t)
	if _, err := netns.Open(nstest.TempName(t)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing name = %v, want fs.ErrNotExist", err)
	}
}
