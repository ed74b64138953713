package netnstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/setns/setns/lab"
	"github.com/setns/setns/netns"
)

// SandboxEnv chooses Main's sandbox: "1" always (root too), "0" never;
// unset, only when not root.
const SandboxEnv = "NETNSTEST_SANDBOX"

// insideEnv marks the test binary Main re-executed in its sandbox.
const insideEnv = "NETNSTEST_INSIDE_SANDBOX"

var inSandbox bool

// InSandbox reports whether Main runs the tests in its private sandbox:
// their namespaces are then invisible to the rest of the machine and end
// with the test binary.
func InSandbox() bool { return inSandbox }

// Main runs the package's tests; call it from TestMain:
//
//	func TestMain(m *testing.M) { netnstest.Main(m) }
//
// It is optional as root. It does three things around m.Run:
//
//   - Without root, when unprivileged user namespaces work, it re-executes
//     the test binary, same arguments, in a private user, mount and network
//     namespace (the process is root there and nowhere else) with a tmpfs of
//     its own on the run directory (/run/netns, or /run if that is missing),
//     so "go test ./..." works without root, as "unshare -rmn go test" does.
//     If user namespaces do not work, tests that call New skip with one line
//     saying why. NETNSTEST_SANDBOX=1 asks for the sandbox as root too (then
//     a private mount namespace only, which keeps the tests' namespaces out of
//     the machine's "ip netns list"); NETNSTEST_SANDBOX=0 refuses it. In
//     the user namespace sandbox the process's own network is private too:
//     lo works (httptest servers do), the machine's network does not.
//   - It removes namespaces that crashed earlier runs of the same package
//     left: names New made (Prefix, pid, sequence, package) whose process
//     is gone and whose namespace no live process holds (New takes a
//     shared flock on it), such as those NETNSTEST_KEEP kept.
//   - In the sandbox, lab journals (see Lab) go to a temporary directory
//     of the run instead of lab.StateDir.
//   - After the tests, a namespace left by this run fails it: in the sandbox
//     any name in the run directory, otherwise any name New gave in this
//     process, except those NETNSTEST_KEEP=1 kept for failed tests. Leaked
//     names are listed, then removed.
//
// Main calls os.Exit with the tests' status.
func Main(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	sandbox := os.Getenv(SandboxEnv)
	switch {
	case os.Getenv(insideEnv) != "":
		userns := os.Getenv(insideEnv) == "user"
		os.Unsetenv(insideEnv) // not for the tests' own child processes
		if err := privateRunDir(); err != nil {
			fmt.Fprintf(os.Stderr, "netnstest: sandbox: %v\n", err)
			return 1
		}
		if userns {
			if err := loopbackUp(); err != nil {
				fmt.Fprintf(os.Stderr, "netnstest: sandbox: lo up: %v\n", err)
				return 1
			}
		}
		inSandbox = true
	case os.Geteuid() == 0 && sandbox == "1":
		code, err := reexec(true)
		if err != nil {
			fmt.Fprintf(os.Stderr, "netnstest: sandbox: %v\n", err)
			return 1
		}
		return code
	case os.Geteuid() != 0 && sandbox != "0":
		code, err := reexec(false)
		if err == nil {
			return code
		}
		why := fmt.Sprintf("this system refuses them (%v)", err)
		noSandbox.Store(&why)
	}
	if inSandbox {
		// Lab journals too stay in the sandbox, where the machine's
		// state directory may not even be writable.
		dir, err := os.MkdirTemp("", "netnstest-labs-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "netnstest: sandbox: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		lab.StateDir = dir
	}
	if os.Geteuid() == 0 {
		sweep()
	}
	code := m.Run()
	if left := leaks(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "netnstest: FAIL: tests leaked namespaces: %s\n", strings.Join(left, " "))
		for _, n := range left {
			netns.Delete(n)
		}
		if code == 0 {
			code = 1
		}
	}
	return code
}

// reexec runs the test binary again in the sandbox and returns its exit
// status; err is a failure to start it. As root the sandbox is a mount
// namespace; otherwise also a user namespace mapping root to our user,
// and a network namespace, so that the process's own one is private too.
func reexec(root bool) (int, error) {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0] // New names the package by it
	cmd.Env = append(os.Environ(), insideEnv+"=user")
	if root {
		cmd.Env[len(cmd.Env)-1] = insideEnv + "=mount"
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if root {
		attr.Unshareflags = syscall.CLONE_NEWNS // Go makes "/" private in it
	} else {
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	cmd.SysProcAttr = attr
	// The parent-death signal follows the thread that forks the child.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		if root {
			return 0, fmt.Errorf("start the test binary in a new mount namespace: %w", err)
		}
		return 0, fmt.Errorf("start the test binary in a new user namespace: %w", err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// loopbackUp brings up lo in the sandbox's network namespace, the
// process's own, so that tests that serve on 127.0.0.1 (httptest) work as
// they do outside.
func loopbackUp() error {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Link.Set(&rtnetlink.LinkMessage{Index: 1, Flags: iffUp, Change: iffUp}) // lo is 1 in a new namespace
}

// privateRunDir mounts a fresh tmpfs on the run directory, or on /run if
// there is none to mount on (only root could create it).
func privateRunDir() error {
	dir := netns.RunDir
	if _, err := os.Stat(dir); err != nil {
		dir = "/run"
	}
	if err := mountTmpfs(dir); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", dir, err)
	}
	return nil
}

// sweep removes what crashed runs of this package left: names New made
// in this package, by a process that no longer exists, in a namespace
// that no live process holds (see holdLive), each only while it still
// names the namespace that was looked at.
func sweep() {
	names, _ := netns.List()
	for _, n := range names {
		pid, pkg, ok := parseName(n)
		if !ok || pkg != pkgTag() || pid == os.Getpid() || alive(pid) {
			continue
		}
		ns, err := netns.Open(n)
		if err != nil {
			continue
		}
		if tryLock(ns.Fd(), false) {
			netns.DeleteIf(n, ns)
		}
		ns.Close()
	}
}

// holdLive marks ns as in use by this process for as long as the handle
// is open: a shared flock on the namespace itself (its nsfs inode), which
// the kernel drops when the process ends. The pid in a name cannot show
// that alone: a run in another pid namespace (a container sharing the run
// directory) has a pid that looks dead from here.
func holdLive(ns *netns.NS) {
	tryLock(ns.Fd(), true)
	runtime.KeepAlive(ns)
}

// leaks lists the namespaces this run left and did not keep on purpose.
func leaks() []string {
	names, _ := netns.List()
	var left []string
	for _, n := range names {
		if _, ok := kept.Load(n); ok {
			continue
		}
		if pid, _, ok := parseName(n); inSandbox || ok && pid == os.Getpid() {
			left = append(left, n)
		}
	}
	slices.Sort(left)
	return left
}
