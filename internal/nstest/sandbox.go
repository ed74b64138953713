package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/netns"
)

// sandboxEnv marks a test binary that already runs inside its sandbox.
const sandboxEnv = "NSTEST_SANDBOX"

// Main runs a package's tests; call it from TestMain. As root it first
// re-executes the test binary in a private mount namespace (CLONE_NEWNS,
// "/" made rprivate by the Go runtime) with a fresh tmpfs on /run, so the
// run directory starts absent, and a fresh tmpfs on /etc/netns, made on a
// tmpfs-backed overlay of /etc so the host's /etc is never written. Tests
// there, and the ip(8) they run, never see or touch the machine's own
// namespaces, and nothing they mount leaks out. After the tests, a
// leftover nstest-* name in the run directory fails the run.
func Main(m *testing.M) {
	if os.Geteuid() != 0 {
		os.Exit(m.Run())
	}
	if os.Getenv(sandboxEnv) != "1" {
		os.Exit(reexec())
	}
	if err := setupSandbox(); err != nil {
		fmt.Fprintf(os.Stderr, "nstest: sandbox: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if left := leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "nstest: namespaces left in %s: %s\n", netns.RunDir, strings.Join(left, " "))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// InSandbox reports whether this process runs in the test sandbox.
func InSandbox() bool { return os.Getenv(sandboxEnv) == "1" }

func reexec() int { return ReexecPrivate(sandboxEnv, "nstest") }

// ReexecPrivate runs this program again, with the same arguments and
// marker=1 added to its environment, in a new mount namespace whose "/"
// Go's fork makes recursively private, so nothing mounted there reaches
// the host. It returns the child's exit status; errors name who.
func ReexecPrivate(marker, who string) int {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), marker+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: re-exec in a private mount namespace: %v\n", who, err)
		return 1
	}
	return 0
}

func setupSandbox() error {
	if err := syscall.Mount("nstest-run", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs on /run: %w", err)
	}
	upper, work := "/run/nstest-etc/upper", "/run/nstest-etc/work"
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	opts := "lowerdir=/etc,upperdir=" + upper + ",workdir=" + work
	if err := syscall.Mount("nstest-etc", "/etc", "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay on /etc: %w", err)
	}
	if err := os.MkdirAll(netns.EtcDir, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("nstest-etc-netns", netns.EtcDir, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", netns.EtcDir, err)
	}
	return nil
}

func leftovers() []string {
	names, _ := netns.List()
	var left []string
	for _, n := range names {
		if strings.HasPrefix(n, Prefix) {
			left = append(left, n)
			netns.Delete(n)
		}
	}
	return left
}

// ForeignThreads lists the threads of this process whose network namespace
// is not the process's (the main thread's), as "tid:net:[inode]".
func ForeignThreads() ([]string, error) {
	home, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil, err
	}
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, p := range tasks {
		l, err := os.Readlink(p)
		if err != nil {
			continue // the thread exited meanwhile
		}
		if l != home {
			bad = append(bad, strings.Split(p, "/")[4]+":"+l)
		}
	}
	return bad, nil
}

// CheckThreadNS registers a cleanup that fails t if, once the test is over,
// some thread of the process stays in a foreign network namespace. Threads
// that other parallel tests use briefly are given a moment to come back.
func CheckThreadNS(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		var bad []string
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var err error
			bad, err = ForeignThreads()
			if err != nil {
				t.Errorf("CheckThreadNS: %v", err)
				return
			}
			if len(bad) == 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(bad) > 0 {
			t.Errorf("threads left in a foreign network namespace: %v", bad)
		}
	})
}
