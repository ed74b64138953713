package netns_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// threadState is what must not change under a caller: the network and
// mount namespaces and the user ids of the thread or process at
// /proc/WHICH ("thread-self", "self", "self/task/TID").
func threadState(which string) string {
	var parts []string
	for _, ns := range []string{"net", "mnt"} {
		l, err := os.Readlink("/proc/" + which + "/ns/" + ns)
		if err != nil {
			return "gone"
		}
		parts = append(parts, l)
	}
	status, err := os.ReadFile("/proc/" + which + "/status")
	if err != nil {
		return "gone"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") {
			parts = append(parts, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(parts, " ")
}

// strayThreads lists the threads of the process whose state is not home.
func strayThreads(home string) []string {
	tasks, _ := filepath.Glob("/proc/self/task/*")
	var bad []string
	for _, task := range tasks {
		tid := filepath.Base(task)
		if s := threadState("self/task/" + tid); s != home && s != "gone" {
			bad = append(bad, tid+": "+s)
		}
	}
	return bad
}

// waitNoStrayThreads fails t unless every thread is back at home soon: a
// private thread that Exec discards takes a moment to end after Exec
// returns.
func waitNoStrayThreads(t *testing.T, home string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		bad := strayThreads(home)
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("threads left moved (home %s): %v", home, bad)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExecFailureLeavesCallerAlone: when Exec fails, whether execve does
// (ENOENT, EACCES, ETXTBSY, E2BIG) or entering does, the calling goroutine
// is not left locked, its thread is in the namespaces it was in with the
// user it had, and no other thread is left moved either. Callers locked to
// their thread (as the setns command is) stay locked to that same thread.
func TestExecFailureLeavesCallerAlone(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	home := threadState("self")
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil { // for nobody
			t.Fatal(err)
		}
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy := filepath.Join(dir, "busy")
	w, err := os.OpenFile(busy, os.O_WRONLY|os.O_CREATE, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // open for writing: execve gives ETXTBSY
	nobody := &netns.Credential{UID: 65534, GID: 65534}
	user := &netns.ExecOptions{Credential: nobody}
	for _, tc := range []struct {
		name string
		path string
		argv []string
		opts *netns.ExecOptions
		want error
	}{
		{"not found", filepath.Join(dir, "missing"), nil, user, syscall.ENOENT},
		{"not executable", plain, nil, &netns.ExecOptions{}, syscall.EACCES},
		{"text busy", busy, nil, user, syscall.ETXTBSY},
		{"too long", "/bin/true", []string{"true", strings.Repeat("x", 200<<10)}, user, syscall.E2BIG},
		{"enter fails", "/bin/true", nil, &netns.ExecOptions{Bare: true, DNS: []string{"192.0.2.1"}}, nil},
	} {
		for _, locked := range []bool{true, false} {
			t.Run(tc.name+"/locked="+strconv.FormatBool(locked), func(t *testing.T) {
				type outcome struct {
					err                 error
					before, after       string
					tidBefore, tidAfter int
				}
				done := make(chan outcome, 1)
				go func() {
					var o outcome
					if locked {
						runtime.LockOSThread()
						o.before, o.tidBefore = threadState("thread-self"), syscall.Gettid()
					}
					argv := tc.argv
					if argv == nil {
						argv = []string{tc.path}
					}
					o.err = ns.Exec(tc.path, argv, nil, tc.opts)
					if locked {
						o.after, o.tidAfter = threadState("thread-self"), syscall.Gettid()
					}
					// Undoes our lock, or a lock Exec left behind: the
					// thread then goes back to the scheduler, and must be
					// fit for any goroutine.
					runtime.UnlockOSThread()
					done <- o
				}()
				o := <-done
				if o.err == nil || tc.want != nil && !errors.Is(o.err, tc.want) {
					t.Errorf("Exec = %v, want an error wrapping %v", o.err, tc.want)
				}
				if o.before != o.after || o.tidBefore != o.tidAfter {
					t.Errorf("locked caller moved: thread %d %s -> thread %d %s",
						o.tidBefore, o.before, o.tidAfter, o.after)
				}
				waitNoStrayThreads(t, home)
			})
		}
	}
}

// TestExecReplacesProcess: Exec from a main goroutine locked to the main
// thread, as the setns command calls it, replaces that process: the same
// PID, one thread, inside the namespace as /proc/self/ns shows it, and
// with the parent-death signal its parent set kept.
func TestExecReplacesProcess(t *testing.T) {
	nstest.RequireRoot(t)
	ns, name := nstest.NewNamed(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "NETNS_TEST_EXEC="+name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGUSR2}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v: %s", err, out.String())
	}
	want := "pid=" + strconv.Itoa(cmd.Process.Pid) +
		" net=net:[" + strconv.FormatUint(ns.Inode(), 10) + "]" +
		" pdeathsig=" + strconv.Itoa(int(syscall.SIGUSR2)) + "\n"
	if out.String() != want {
		t.Errorf("after Exec the process reports\n%q\nwant\n%q", out.String(), want)
	}
}

// execChild is the child of TestExecReplacesProcess: Exec this test
// binary again inside name, from the main thread, to run execReport.
func execChild(name string) int {
	runtime.LockOSThread() // as the setns command does in init
	ns, err := netns.Open(name)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	env := append(os.Environ(), "NETNS_TEST_EXEC_REPORT=1")
	err = ns.Exec("/proc/self/exe", []string{os.Args[0]}, env, &netns.ExecOptions{Bare: true})
	os.Stderr.WriteString(err.Error() + "\n")
	return 1
}

// execReport prints what execChild's Exec should have given.
func execReport() int {
	runtime.LockOSThread() // PR_GET_PDEATHSIG reads the main thread's
	net, _ := os.Readlink("/proc/self/ns/net")
	var sig int32
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0)
	os.Stdout.WriteString("pid=" + strconv.Itoa(os.Getpid()) + " net=" + net +
		" pdeathsig=" + strconv.Itoa(int(sig)) + "\n")
	return 0
}

// TestStartPdeathsig: a child started with SysProcAttr.Pdeathsig outlives
// the forking thread's ordinary lifetime and exits normally; once it has,
// no thread is left in the namespace.
func TestStartPdeathsig(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	home := threadState("self")
	cmd := exec.Command("sh", "-c", "sleep 0.5; echo alive")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := ns.Start(cmd, nil); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || out.String() != "alive\n" {
		t.Errorf("child with Pdeathsig: %v, output %q; want a normal exit and \"alive\"", err, out.String())
	}
	waitNoStrayThreads(t, home)
}

// TestStartPdeathsigFires: the signal still comes when the process that
// started the child ends.
func TestStartPdeathsigFires(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	parent := exec.Command(os.Args[0])
	parent.Env = append(os.Environ(), "NETNS_TEST_START_PDEATHSIG="+name)
	out, err := parent.Output()
	if err != nil {
		t.Fatalf("parent: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("parent printed %q", out)
	}
	stat := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(b), ") Z ") {
			return // gone, or dead and not yet reaped
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d with Pdeathsig still runs after its parent exited", pid)
		}
	}
}

// startPdeathsigChild is the parent of TestStartPdeathsigFires: it starts
// a long sleep inside name with Pdeathsig, prints its PID and exits.
func startPdeathsigChild(name string) int {
	ns, err := netns.Open(name)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := ns.Start(cmd, nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
	return 0
}
