package netns_test

import (
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestCredentialRefusesUnchanged: (uid_t)-1 means "unchanged" to
// setresuid, so a Credential holding it would leave the command root.
// Exec and Start refuse it, for the user, the group and any supplementary
// group, before anything changes: the caller's thread stays where it was
// and nothing is started.
func TestCredentialRefusesUnchanged(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.CheckThreadNS(t)
	ns, _ := nstest.NewNamed(t)
	const bad = math.MaxUint32
	for _, c := range []netns.Credential{
		{UID: bad, GID: 0},
		{UID: 65534, GID: bad},
		{UID: 65534, GID: 65534, Groups: []uint32{4, bad}},
		{UID: bad, GID: bad},
	} {
		opts := &netns.ExecOptions{Credential: &c}
		cmd := exec.Command("/bin/true")
		err := ns.Start(cmd, opts)
		if err == nil || !strings.Contains(err.Error(), "4294967295 is reserved") {
			t.Errorf("Start with %+v: %v, want a reserved-id error", c, err)
		}
		if cmd.Process != nil {
			cmd.Wait()
			t.Errorf("Start with %+v started the command", c)
		}
		done := make(chan error, 1)
		go func() { done <- ns.Exec("/bin/true", []string{"true"}, nil, opts) }()
		if err := <-done; err == nil || !strings.Contains(err.Error(), "4294967295 is reserved") {
			t.Errorf("Exec with %+v: %v, want a reserved-id error", c, err)
		}
	}
	if err := ns.Start(exec.Command("/bin/true"), &netns.ExecOptions{PreserveFDs: -1}); err == nil {
		t.Error("Start with PreserveFDs -1 succeeded")
	}
}

// TestStartDropsEverything: with a Credential for a non-root user the
// command has no capability in any set, bounding and ambient included,
// and does not inherit a descriptor the process holds without
// close-on-exec, unless PreserveFDs covers it. The process's own
// descriptor keeps its flags.
func TestStartDropsEverything(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	f, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	leak, err := syscall.Dup(int(f.Fd())) // no close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(leak)
	fdPath := "/proc/self/fd/" + strconv.Itoa(leak)
	script := `grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status; test -e ` + fdPath + ` && echo leaked; id -u`
	run := func(preserve int) string {
		t.Helper()
		var out strings.Builder
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Stdout, cmd.Stderr = &out, &out
		opts := &netns.ExecOptions{Credential: &netns.Credential{UID: 65534, GID: 65534}, PreserveFDs: preserve}
		if err := ns.Start(cmd, opts); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		return out.String()
	}
	want := "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n" +
		"CapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\n"
	if got := run(0); got != want+"65534\n" {
		t.Errorf("as 65534 got\n%s\nwant\n%s65534", got, want)
	}
	if got := run(leak - 2); got != want+"leaked\n65534\n" {
		t.Errorf("with PreserveFDs %d got\n%s\nwant the descriptor kept", leak-2, got)
	}
	fl, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(leak), syscall.F_GETFD, 0)
	if e != 0 || fl&syscall.FD_CLOEXEC != 0 {
		t.Errorf("the process's descriptor: flags %#x, errno %v; want close-on-exec cleared again", fl, e)
	}
}

// TestStartKeepsThreadsRoot: Start switches to the Credential in the
// child it forks, never on a thread of the calling process. A thread of
// this root process running as the user can be reached by every process
// of that user: killed or stopped (tgkill), or have the whole process's
// resource limits changed (prlimit, RLIMIT_NOFILE 0). A scan of the
// process's threads while commands start must never see the user's uid.
func TestStartKeepsThreadsRoot(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	const uid = 54321
	stop := make(chan struct{})
	seen := make(chan string, 1)
	go func() {
		defer close(seen)
		for {
			select {
			case <-stop:
				return
			default:
			}
			tasks, _ := os.ReadDir("/proc/self/task")
			for _, task := range tasks {
				status, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
				for _, line := range strings.Split(string(status), "\n") {
					if f := strings.Fields(line); len(f) == 5 && f[0] == "Uid:" && f[1] == strconv.Itoa(uid) {
						seen <- "thread " + task.Name() + ": " + line
						return
					}
				}
			}
		}
	}()
	opts := &netns.ExecOptions{Credential: &netns.Credential{UID: uid, GID: uid}}
	for i := 0; i < 100; i++ {
		cmd := exec.Command("/bin/true")
		if err := ns.Start(cmd, opts); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if line, ok := <-seen; ok {
		t.Errorf("a thread of the process ran as the user: %s", line)
	}
	// The child takes the Credential as its SysProcAttr.Credential: one
	// already there is refused, not silently replaced.
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1}}
	if err := ns.Start(cmd, opts); err == nil || cmd.Process != nil {
		t.Errorf("Start with SysProcAttr.Credential and a Credential: %v, want an error", err)
		if cmd.Process != nil {
			cmd.Wait()
		}
	}
}

// TestStartConcurrentKeepsDescriptors: many Starts with a Credential at
// once, each marking the process's descriptors close-on-exec and putting
// them back, never let one's putting back reach another's fork: no child
// sees the descriptor the process holds without close-on-exec.
func TestStartConcurrentKeepsDescriptors(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	f, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	leak, err := syscall.Dup(int(f.Fd())) // no close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(leak)
	script := "test -e /proc/self/fd/" + strconv.Itoa(leak) + " && echo leaked; true"
	var wg sync.WaitGroup
	var leaked atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				var out strings.Builder
				cmd := exec.Command("/bin/sh", "-c", script)
				cmd.Stdout = &out
				opts := &netns.ExecOptions{Credential: &netns.Credential{UID: 65534, GID: 65534}}
				if err := ns.Start(cmd, opts); err != nil {
					t.Error(err)
					return
				}
				cmd.Wait()
				if out.String() != "" {
					leaked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := leaked.Load(); n > 0 {
		t.Errorf("%d of 200 commands started at once inherited the process's descriptor %d", n, leak)
	}
}
