package nstest

import (
	"os/exec"
	"strconv"
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
