package netns_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// handPlaceholder makes an unmarked mode-0 placeholder for name, as
// ip(8) leaves it between its O_CREAT and its mount, dated an hour ago
// (as a slow create looks after a forward clock step), and registers its
// removal.
func handPlaceholder(t *testing.T, name string) string {
	t.Helper()
	t.Cleanup(func() { nstest.Remove(t, name) })
	path := netns.RunDir + "/" + name
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	return path
}

// freshNetNS returns the /proc path of a new network namespace, held by a
// sleeping unshare -n, and its inode.
func freshNetNS(t *testing.T) (string, uint64) {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	for range 1000 {
		if l, err := os.Readlink(p); err == nil && l != self {
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err != nil {
				t.Fatal(err)
			}
			return p, st.Ino
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("unshare --net never got its namespace")
	return "", 0
}

// TestEnsureDoesNotStealSlowIPCreate is the race of issue 9: an unlocked
// placeholder that looks old (ip(8) slowed down by kernel lock contention,
// or a clock step) while Ensure runs, and then ip's mount lands on it.
// Ensure must wait for it, not unlink it and make its own: the name ends
// with one namespace, the one ip bound, and Ensure returns that one.
func TestEnsureDoesNotStealSlowIPCreate(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.NewNamed(t) // the run dir exists
	name := nstest.TempName(t)
	path := handPlaceholder(t, name)
	nsPath, ino := freshNetNS(t)
	type result struct {
		ns      *netns.NS
		created bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		ns, created, err := netns.Ensure(name, nil)
		done <- result{ns, created, err}
	}()
	time.Sleep(2500 * time.Millisecond) // "ip" is still at work
	if err := syscall.Mount(nsPath, path, "none", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind the slow create's namespace: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Ensure: %v", r.err)
	}
	defer r.ns.Close()
	if r.created || r.ns.Inode() != ino {
		t.Errorf("Ensure created=%v inode=%d, want false and the bound namespace %d", r.created, r.ns.Inode(), ino)
	}
	if n := strings.Count(mountsOf(t, name), "\n"); n != 1 {
		t.Errorf("%d mounts on the name, want 1:\n%s", n, mountsOf(t, name))
	}
	final, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	if final.Inode() != ino {
		t.Errorf("the name holds namespace %d, want the bound %d", final.Inode(), ino)
	}
}

// TestEnsureLeavesUnprovenPlaceholder: an unmarked placeholder that never
// becomes a namespace is not removed; after PlaceholderWait Ensure fails
// with one line that names the entry and the fix.
func TestEnsureLeavesUnprovenPlaceholder(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.NewNamed(t)
	name := nstest.TempName(t)
	path := handPlaceholder(t, name)
	before, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	ns, _, err := netns.Ensure(name, nil)
	if err == nil {
		ns.Close()
		t.Fatal("Ensure replaced a placeholder it cannot prove abandoned")
	}
	msg := err.Error()
	if !errors.Is(err, netns.ErrNotNamespace) || !strings.Contains(msg, "netns delete "+name) ||
		!strings.Contains(msg, "netns doctor --fix") || strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line wrapping ErrNotNamespace naming both fixes", msg)
	}
	if after, err := os.Lstat(path); err != nil || !os.SameFile(before, after) {
		t.Errorf("the placeholder was replaced or removed: %v", err)
	}
}

// TestEnsureContextBoundsTheWait: a create of ours in progress (a held
// Reservation) is waited for only until the context ends.
func TestEnsureContextBoundsTheWait(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	r, err := netns.Reserve(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	ns, _, err := netns.EnsureContext(ctx, name, nil)
	if err == nil {
		ns.Close()
		t.Fatal("EnsureContext returned a namespace while the create was in progress")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("error = %v, want one wrapping context.DeadlineExceeded and os.ErrDeadlineExceeded", err)
	}
	// A create that never ends (its process stopped) is fixed by deleting
	// the name: the message says so.
	if msg := err.Error(); !strings.Contains(msg, "netns delete "+name) || strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line that names the fix (netns delete %s)", msg, name)
	}
	// Once the reservation is used, Ensure gets that namespace.
	made, err := r.Create(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer made.Close()
	got, created, err := netns.EnsureContext(context.Background(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if created || !got.Equal(made) {
		t.Errorf("after the create: created=%v equal=%v", created, got.Equal(made))
	}
}

// TestEnsureDeleteRace: Ensure, Do and Delete from 100 goroutines on 37
// shared names. A name deleted under Ensure's feet is looked at again,
// never an error; Delete may only find the name gone.
func TestEnsureDeleteRace(t *testing.T) {
	nstest.RequireRoot(t)
	names := make([]string, 37)
	for i := range names {
		names[i] = nstest.TempName(t)
		t.Cleanup(func() { nstest.Remove(t, names[i]) })
	}
	var (
		wg    sync.WaitGroup
		calls atomic.Int64
		errs  atomic.Int64
	)
	report := func(format string, args ...any) {
		if errs.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	for g := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				name := names[(g*7+i)%len(names)]
				calls.Add(1)
				if (g+i)%3 == 2 {
					if err := netns.Delete(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
						report("Delete: %v", err)
					}
					continue
				}
				ns, _, err := netns.Ensure(name, nil)
				if err != nil {
					report("Ensure: %v", err)
					continue
				}
				if err := ns.Do(func() error { return nil }); err != nil {
					report("Do: %v", err)
				}
				ns.Close()
			}
		}()
	}
	wg.Wait()
	if n := errs.Load(); n > 0 {
		t.Errorf("%d errors in %d calls", n, calls.Load())
	}
}

func TestEnsureMissingRunDirEntryIsNotExist(t *testing.T) {
	nstest.RequireRoot(t)
	if _, err := netns.Open(nstest.TempName(t)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing name = %v, want fs.ErrNotExist", err)
	}
}

// TestEnsureSparesPlaceholderMountedElsewhere: a create run in a
// container that binds the run directory with private propagation leaves,
// as the host sees it, an unlocked placeholder: its creator is gone, its
// mount stays in the container. Marked (a create of ours), it is no
// abandoned placeholder: removing it detaches the container's live
// namespace. Unmarked (ip's), it is no create in progress either, and the
// usual advice (netns delete NAME) would detach it too. Ensure must leave
// either alone and fail at once, naming the other mount namespace and not
// that advice.
func TestEnsureSparesPlaceholderMountedElsewhere(t *testing.T) {
	nstest.RequireRoot(t)
	for _, marked := range []bool{true, false} {
		t.Run(fmt.Sprintf("marked=%v", marked), func(t *testing.T) {
			t.Parallel()
			live, liveName := nstest.NewNamed(t)
			name := nstest.TempName(t)
			path := handPlaceholder(t, name)
			if marked {
				if err := os.Chmod(path, os.ModeSticky); err != nil { // the mark: mode 01000
					t.Fatal(err)
				}
			}
			child, elsewhere := otherMountNS(t, netns.RunDir+"/"+liveName, name)
			ctx, cancel := context.WithTimeout(context.Background(), netns.PlaceholderWait/2)
			defer cancel()
			ns, created, err := netns.EnsureContext(ctx, name, nil)
			if err == nil {
				ns.Close()
				t.Fatalf("Ensure opened %s (created=%v) over a name mounted in another mount namespace", name, created)
			}
			msg := err.Error()
			if !errors.Is(err, netns.ErrNotNamespace) || !strings.Contains(msg, "mount namespace") ||
				strings.Contains(msg, "netns delete") || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line wrapping ErrNotNamespace that names the other mount namespace"+
					" and does not advise deleting the name", msg)
			}
			var st syscall.Stat_t
			view := fmt.Sprintf("/proc/%d/root%s/%s", child.Process.Pid, elsewhere, name)
			if err := syscall.Stat(view, &st); err != nil || st.Ino != live.Inode() {
				t.Errorf("the other mount namespace lost its namespace: inode %d, %v", st.Ino, err)
			}
			if _, err := os.Lstat(path); err != nil {
				t.Errorf("the name was removed: %v", err)
			}
		})
	}
}
