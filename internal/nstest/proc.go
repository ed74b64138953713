package nstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/netns"
)

// Sleeper starts "sleep" inside the named namespace with ip(8), waits
// until it is really there, and returns its PID; the process is killed
// when the test ends. It uses "ip netns exec" rather than (*NS).Start,
// whose throwaway thread may be the main one, which the runtime then
// keeps in the namespace (and /proc/PID/ns/net reports the main thread's).
func Sleeper(t testing.TB, name string) int {
	t.Helper()
	RequireIP(t)
	cmd := exec.Command("ip", "netns", "exec", name, "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatalf("ip netns exec %s sleep: %v", name, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var want syscall.Stat_t
	if err := syscall.Stat(netns.RunDir+"/"+name, &want); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st) == nil && st.Ino == want.Ino && st.Dev == want.Dev {
			return pid
		}
	}
	t.Fatalf("ip netns exec %s sleep: pid %d never entered the namespace", name, pid)
	return 0
}

// WaitWatching waits until process pid holds an inotify watch on dir, as
// the kernel shows it in /proc/PID/fdinfo, so that a test can change dir
// knowing the process sees the change. It fails the test if pid exits or
// has no such watch within 10 seconds.
func WaitWatching(t testing.TB, pid int, dir string) {
	t.Helper()
	proc := "/proc/" + strconv.Itoa(pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		want, err := watchLine(dir) // the process may be creating dir
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("WaitWatching: %v", err)
		}
		fds, err := os.ReadDir(proc + "/fdinfo")
		if err != nil || len(fds) == 0 { // gone, or a zombie
			t.Fatalf("WaitWatching: pid %d exited before watching %s (%v)", pid, dir, err)
		}
		for _, fd := range fds {
			info, err := os.ReadFile(proc + "/fdinfo/" + fd.Name())
			if err != nil {
				continue // closed meanwhile
			}
			for _, line := range strings.Split(string(info), "\n") {
				if want != "" && strings.HasPrefix(line, "inotify wd:") && strings.Contains(line, want) {
					return
				}
			}
		}
	}
	t.Fatalf("WaitWatching: pid %d has no inotify watch on %s after 10s", pid, dir)
}

// watchLine is what an inotify watch on dir shows in fdinfo: its inode
// and the kernel's dev_t (major<<20 | minor), in hex. st.Dev is glibc's
// encoding of the same device.
func watchLine(dir string) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return "", &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	major := (st.Dev>>8)&0xfff | (st.Dev>>32)&^0xfff
	minor := st.Dev&0xff | (st.Dev>>12)&^0xff
	return fmt.Sprintf(" ino:%x sdev:%x ", st.Ino, major<<20|minor), nil
}
