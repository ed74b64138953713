package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// monitorLines starts "netns monitor" and returns its lines as they come.
// The test's names all start with prefix; lines about other names (other
// tests share the run directory) are dropped.
func monitorLines(t *testing.T, prefix string) <-chan string {
	t.Helper()
	cmd := exec.Command(self, "monitor")
	cmd.Env = append(os.Environ(), "NETNS_RUN_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out) // a pipe: lines arrive only if flushed
		for sc.Scan() {
			if _, name, _ := strings.Cut(sc.Text(), " "); strings.HasPrefix(name, prefix) {
				lines <- sc.Text()
			}
		}
	}()
	// Only once the watch exists does every change reach the monitor.
	nstest.WaitWatching(t, cmd.Process.Pid, netns.RunDir)
	return lines
}

func next(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l := <-lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("netns monitor: no line within 10s")
		return ""
	}
}

// TestMonitorReportsUsableNamespaces races creates, by ip and by the
// library, against "netns monitor": whenever it reports "add NAME", NAME
// must open as a namespace at once (ip reports the placeholder before
// the namespace is mounted on it).
func TestMonitorReportsUsableNamespaces(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	prefix := nstest.TempName(t) + "-"
	lines := monitorLines(t, prefix)
	for i := range 40 {
		name := prefix + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		t.Cleanup(func() { nstest.Remove(t, name) })
		done := make(chan error, 1)
		go func() {
			if i%2 == 0 {
				_, _, code := nstest.IP(t, "netns", "add", name)
				if code != 0 {
					t.Errorf("ip netns add %s: exit %d", name, code)
				}
				done <- nil
				return
			}
			ns, err := netns.Create(name, nil)
			if err == nil {
				ns.Close()
			}
			done <- err
		}()
		if l := next(t, lines); l != "add "+name {
			t.Fatalf("got %q, want %q", l, "add "+name)
		}
		ns, err := netns.Open(name)
		if err != nil {
			t.Fatalf("reported %q, but: %v", "add "+name, err)
		}
		ns.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		nstest.Remove(t, name)
		if l := next(t, lines); l != "delete "+name {
			t.Fatalf("got %q, want %q", l, "delete "+name)
		}
	}
}

// TestMonitorSkipsPlaceholders: a placeholder deleted before anything is
// mounted on it is reported neither as added nor as deleted.
func TestMonitorSkipsPlaceholders(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	prefix := nstest.TempName(t) + "-"
	lines := monitorLines(t, prefix)
	junk := netns.RunDir + "/" + prefix + "junk"
	if err := os.WriteFile(junk, nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	nstest.MustIP(t, "netns", "add", prefix+"real")
	t.Cleanup(func() { nstest.Remove(t, prefix+"real") })
	if l := next(t, lines); l != "add "+prefix+"real" {
		t.Errorf("got %q, want %q", l, "add "+prefix+"real")
	}
}
