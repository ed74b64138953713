package lab_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/lab"
)

// crashEnv, set by TestKillMidApply, makes the test binary apply the
// lab file it names and kill itself with SIGKILL after crashAfterEnv
// units of progress: an apply killed at a chosen point, without timing.
const (
	crashEnv      = "LAB_TEST_CRASH_FILE"
	crashAfterEnv = "LAB_TEST_CRASH_AFTER"
)

func TestMain(m *testing.M) {
	if file := os.Getenv(crashEnv); file != "" {
		os.Exit(crashApply(file))
	}
	nstest.Main(m)
}

func crashApply(file string) int {
	after, _ := strconv.Atoi(os.Getenv(crashAfterEnv))
	l, err := lab.ParseFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = lab.Apply(context.Background(), l, &lab.Options{Progress: func(p lab.Progress) {
		if p.Done >= after {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
