package netns_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// crashEnv asks a child test binary to run Ensure(NAME) and kill itself
// with SIGKILL at a step of Create: "reserved", "unshared" or "mounted".
const crashEnv = "NETNS_TEST_CRASH_AT"

func TestMain(m *testing.M) {
	if name := os.Getenv("NETNS_TEST_CREATE"); name != "" { // child: just Create
		if _, err := netns.Create(name, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if name := os.Getenv("NETNS_TEST_START"); name != "" { // child: Start from an unlocked main goroutine
		os.Exit(startChild(name))
	}
	if name := os.Getenv("NETNS_TEST_START_PDEATHSIG"); name != "" {
		os.Exit(startPdeathsigChild(name))
	}
	if os.Getenv("NETNS_TEST_EXEC_REPORT") != "" { // what execChild ran
		os.Exit(execReport())
	}
	if name := os.Getenv("NETNS_TEST_EXEC"); name != "" { // child: Exec from the main thread
		os.Exit(execChild(name))
	}
	if step := os.Getenv(crashEnv); step != "" {
		crashChild(step, os.Getenv("NETNS_TEST_CRASH_NAME"))
		return
	}
	nstest.Main(m)
}

func crashChild(step, name string) {
	netns.SetTestHook(func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // wait for the signal
		}
	})
	_, _, err := netns.Ensure(name, nil)
	fmt.Fprintf(os.Stderr, "crash child: step %q never reached (err %v)\n", step, err)
	os.Exit(3)
}

// startChild starts commands inside name many times while the main
// goroutine, not locked to the main thread, waits: a private goroutine
// then often runs on the main thread. Whatever Start does, the main
// thread, whose namespaces /proc/PID/ns shows for the whole process,
// must stay where it was.
func startChild(name string) int {
	runtime.GOMAXPROCS(1)
	before, _ := os.Readlink("/proc/self/ns/net")
	beforeMnt, _ := os.Readlink("/proc/self/ns/mnt")
	ns, err := netns.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for range 20 {
		cmd := exec.Command("true")
		if err := ns.Start(cmd, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cmd.Wait()
	}
	after, _ := os.Readlink("/proc/self/ns/net")
	afterMnt, _ := os.Readlink("/proc/self/ns/mnt")
	if after != before || afterMnt != beforeMnt {
		fmt.Fprintf(os.Stderr, "main thread moved: net %s -> %s, mnt %s -> %s\n", before, after, beforeMnt, afterMnt)
		return 1
	}
	return 0
}
