package netns_test

import (
	"fmt"
	"os"
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
