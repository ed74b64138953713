// Package nstest holds the helpers the root tests share: privilege checks,
// unique namespace names, and the sandbox every root test runs in.
package nstest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/setns/setns/netns"
)

// RequireRoot skips t unless we run as root. With NETNS_TEST_REQUIRE_ROOT=1
// (set by make test and CI) it fails instead, so CI can never pass by
// skipping.
func RequireRoot(t testing.TB) {
	t.Helper()
	switch {
	case os.Geteuid() == 0:
	case os.Getenv("NETNS_TEST_REQUIRE_ROOT") == "1":
		t.Fatal("test needs root, and NETNS_TEST_REQUIRE_ROOT=1 forbids skipping")
	default:
		t.Skip("needs root (CAP_SYS_ADMIN); run: go test -exec sudo ./...")
	}
}

// RequireIP is RequireRoot for tests that also run ip(8).
func RequireIP(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	return NeedTool(t, "ip", "iproute2")
}

// NeedTool returns the path of the program name, which some tests run but
// the project itself does not need; pkg is the Debian package that has
// it. When it is not in PATH the test skips with a line naming both, so
// "sudo make test" passes on a machine with only Go and make. Under
// CI=true it fails instead: .ci/run installs every such tool, and CI must
// never pass by skipping.
func NeedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Lacks(t, fmt.Sprintf("needs %s, not found in PATH (Debian package %s)", name, pkg))
	}
	return path
}

// RequireTool is NeedTool for a program whose Debian package has its name.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	return NeedTool(t, name, name)
}

// Lacks skips t for reason, something optional that this machine lacks
// (a tool, a C compiler), or fails t with it under CI=true, where
// everything optional is installed and nothing may skip.
func Lacks(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s, and CI=true forbids skipping", reason)
	}
	t.Skip(reason)
}

// InCI reports whether the tests run in CI (CI=true, as CI services and
// .ci/run set it).
func InCI() bool { return os.Getenv("CI") == "true" }

var counter atomic.Int64

// Prefix starts every name TempName makes; TestMain fails the run if any
// such name is left in the run directory.
const Prefix = "nstest-"

// TempName returns a fresh name, nstest-<pid>-<n>, unique across parallel
// tests and packages and easy to spot in "ip netns list".
func TempName(t testing.TB) string {
	return fmt.Sprintf("%s%d-%d", Prefix, os.Getpid(), counter.Add(1))
}

// NewNamed creates a namespace with a fresh name and registers its removal
// before the test makes any assertion.
func NewNamed(t testing.TB) (*netns.NS, string) {
	t.Helper()
	name := TempName(t)
	ns, err := netns.Create(name, nil)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	t.Cleanup(func() { ns.Close(); Remove(t, name) })
	return ns, name
}

// Remove deletes name if it still exists, reporting failures with Errorf.
func Remove(t testing.TB, name string) {
	t.Helper()
	if err := netns.Delete(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup: %v", err)
	}
}

// Run runs a command and returns its stdout, stderr and exit status. A
// failure to start it at all fails the test.
func Run(t testing.TB, stdin string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal()) // as a shell reports it
		}
	default:
		t.Fatalf("run %s %q: %v", name, args, err)
	}
	return out.String(), errb.String(), code
}

// IP runs ip(8) with args, returning stdout, stderr and the exit status.
func IP(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	RequireIP(t)
	return Run(t, "", "ip", args...)
}

// MustIP runs ip(8) and fails the test unless it exits 0.
func MustIP(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := IP(t, args...)
	if code != 0 {
		t.Fatalf("ip %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// Links describes the interfaces of the namespace name by what a change
// would alter: index, name, MAC and alias, one per line. Their flags and
// operational state are left out: a veth's carrier comes up a moment
// after it is made, so "ip -o link" of an untouched namespace changes by
// itself.
func Links(t testing.TB, name string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(MustIP(t, "-n", name, "-o", "link")), "\n") {
		f := strings.Fields(strings.ReplaceAll(line, `\`, " "))
		if len(f) < 2 {
			continue
		}
		b.WriteString(f[0] + " " + f[1])
		for i := 0; i+1 < len(f); i++ {
			if strings.HasPrefix(f[i], "link/") || f[i] == "alias" {
				b.WriteString(" " + f[i] + " " + f[i+1])
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
