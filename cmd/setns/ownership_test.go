package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// straceSetns runs this binary as setns (the Go path) under strace -f
// with the fault injection spec inject.
func straceSetns(t *testing.T, inject string, args ...string) (string, string, int) {
	t.Helper()
	nstest.RequireTool(t, "strace")
	argv := append([]string{"-f", "-o", "/dev/null", "-e", "inject=" + inject,
		"env", "SETNS_RUN_MAIN=1", "SETNS_NO_FASTPATH=1", self}, args...)
	return nstest.Run(t, "", "strace", argv...)
}

// TestTempDeletesOnlyItsOwn: while "setns --temp x" runs, x is deleted
// and made again by ip; at exit setns must leave ip's x alone.
func TestTempDeletesOnlyItsOwn(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	cmd := setnsCmd("--temp", name, "sh", "-c", "echo ready; read x; exit 0")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("got %q %v", buf, err)
	}
	if err := netns.Delete(name); err != nil {
		t.Fatal(err)
	}
	nstest.MustIP(t, "netns", "add", name)
	theirs, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("setns --temp: %v, stderr %q", err, errb.String())
	}
	now, err := netns.Open(name)
	if err != nil {
		t.Fatalf("setns --temp deleted ip's namespace: %v", err)
	}
	defer now.Close()
	if !now.Equal(theirs) {
		t.Error("the name refers to another namespace")
	}
	if !strings.Contains(errb.String(), "now names another namespace") {
		t.Errorf("stderr %q, want a warning that the name was left", errb.String())
	}
}

// TestTempFailedCleanupFails: a --temp cleanup that fails is reported
// and the exit status is not 0 (strace makes unlink fail).
func TestTempFailedCleanupFails(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	_, errs, code := straceSetns(t, "unlinkat:error=EPERM", "--temp", name, "true")
	if code == 0 || !strings.Contains(errs, "operation not permitted") || !strings.Contains(errs, name) {
		t.Errorf("exit %d, stderr %q; want a non-zero exit and the cleanup's error", code, errs)
	}
}

// TestFailureAfterCreateRemovesName: setns created NAME, then entering it
// failed (strace makes setns(2) fail with EINVAL; strace counts per
// thread, so every setns fails, also the one that would move the thread
// that created the namespace back, which then just exits): NAME must be
// gone again.
func TestFailureAfterCreateRemovesName(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	for _, tc := range []struct{ inject, want string }{
		{"setns:error=EINVAL", "setns: invalid argument"},
		{"setns:error=EPERM", "operation not permitted"},
	} {
		name := nstest.TempName(t)
		t.Cleanup(func() { nstest.Remove(t, name) })
		nstest.NewNamed(t) // the run dir is a shared mount point: one mount to prepare it
		_, errs, code := straceSetns(t, tc.inject, name, "true")
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tc.inject, code, errs, tc.want)
		}
		if _, err := os.Lstat(netns.RunDir + "/" + name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: the name setns made is left behind: %v", tc.inject, err)
		}
	}
	// An existing name is not removed when entering it fails.
	_, existing := nstest.NewNamed(t)
	if _, errs, code := straceSetns(t, "setns:error=EINVAL", existing, "true"); code != 1 {
		t.Errorf("existing name: exit %d, stderr %q", code, errs)
	}
	if _, err := netns.Open(existing); err != nil {
		t.Errorf("a failed enter removed a name setns did not make: %v", err)
	}
}

// TestEnsureRacesDeletes: 40 setns on one name alongside "ip netns add",
// "ip netns delete" and Delete on it, three rounds; every setns must
// succeed.
func TestEnsureRacesDeletes(t *testing.T) {
	nstest.RequireIP(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, args := range [][]string{{"netns", "add", name}, {"netns", "delete", name}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				nstest.Run(t, "", "ip", args...) // may fail: the name is contended
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			netns.Delete(name)
			time.Sleep(time.Millisecond)
		}
	}()
	var sw sync.WaitGroup
	failures := make(chan string, 120)
	for i := range 120 {
		sw.Add(1)
		go func() {
			defer sw.Done()
			out, errs, code := setns(t, name, "readlink", "/proc/self/ns/net")
			if code != 0 || !strings.HasPrefix(out, "net:[") {
				failures <- fmt.Sprintf("setns #%d: exit %d, %q %q", i, code, out, errs)
			}
		}()
	}
	sw.Wait()
	close(stop)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
}
