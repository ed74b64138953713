package netnstest_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// unprivEnv marks the run of this suite that TestUnprivileged makes.
const unprivEnv = "NETNSTEST_TEST_UNPRIVILEGED"

// nobody is the user the unprivileged runs are made as.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// realRoot reports whether this process is root of the machine, not just
// of a user namespace (as in Main's sandbox).
func realRoot() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && os.Geteuid() == 0 && strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}

// publicCopy copies this test binary where any user can run it (go test's
// build directory is root's own).
func publicCopy(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "netnstest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, filepath.Base(exe))
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// env is this process's environment without the variables that choose
// how the tests run, plus more.
func env(more ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "NETNSTEST_") && k != "NETNS_TEST_REQUIRE_ROOT" {
			out = append(out, kv)
		}
	}
	return append(out, more...)
}

// TestUnprivileged runs this whole suite again as user nobody: Main puts
// it in a user namespace of its own, and every test must pass, none skip
// for lack of privileges (NETNSTEST_REQUIRE=1). Where unprivileged user
// namespaces are off it skips, saying so (fails under CI=true).
func TestUnprivileged(t *testing.T) {
	if os.Getenv(unprivEnv) == "1" {
		t.Skip("this is the unprivileged run")
	}
	if !realRoot() {
		t.Skip("runs the suite as another user, which needs root of the machine")
	}
	bin := publicCopy(t)
	probe := exec.Command(bin, "-test.run=^TestChild$", "-test.v", "-test.count=1")
	probe.Env = env(childEnv + "=new")
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	if out, _ := probe.CombinedOutput(); strings.Contains(string(out), "this system refuses them") {
		nstest.Lacks(t, "unprivileged user namespaces are off here (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)")
	}
	cmd := exec.Command(bin, "-test.count=1", "-test.v")
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = env(unprivEnv+"=1", "NETNSTEST_REQUIRE=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil || !strings.Contains(out, "--- PASS: TestParallel") {
		t.Fatalf("the suite as uid 65534: %v\n%s", err, out)
	}
	for _, test := range []string{"TestFailMidSetup", "TestCommand", "TestLab", "TestLabParallel", "TestLabFails"} {
		if !strings.Contains(out, "--- PASS: "+test+" ") {
			t.Errorf("the suite as uid 65534 did not pass %s:\n%s", test, out)
		}
	}
}

// TestSkipReasons: without root, a test that calls New skips with one
// line saying why: without Main's sandbox, and where user namespaces are
// refused (here: a user namespace that may make none, max_user_namespaces
// 0). With NETNSTEST_REQUIRE=1 it fails instead.
func TestSkipReasons(t *testing.T) {
	if !realRoot() {
		t.Skip("runs tests as another user, which needs root of the machine")
	}
	bin := publicCopy(t)
	args := []string{"-test.run=^TestChild$", "-test.v", "-test.count=1"}
	noUserns := `echo 0 >/proc/sys/user/max_user_namespaces && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$0" "$@"`
	for _, tc := range []struct {
		name    string
		cmd     *exec.Cmd
		env     []string
		want    string
		failing bool
	}{
		{"no sandbox", exec.Command(bin, args...), []string{"NETNSTEST_SANDBOX=0"},
			"--- SKIP: TestChild", false},
		{"no sandbox, required", exec.Command(bin, args...), []string{"NETNSTEST_SANDBOX=0", "NETNSTEST_REQUIRE=1"},
			"--- FAIL: TestChild", true},
		{"no user namespaces", exec.Command("sh", append([]string{"-c", noUserns, bin}, args...)...),
			nil, "--- SKIP: TestChild", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cmd.Dir = filepath.Dir(bin)
			tc.cmd.Env = env(append(tc.env, childEnv+"=new")...)
			if tc.cmd.Path == bin {
				tc.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
			} else { // sh, as root of a user namespace of its own
				ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
				tc.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: ids, GidMappings: ids, GidMappingsEnableSetgroups: true}
			}
			b, err := tc.cmd.CombinedOutput()
			out := string(b)
			if (err != nil) != tc.failing || !strings.Contains(out, tc.want) || strings.Contains(out, "reached past New") {
				t.Fatalf("child: %v, want %q:\n%s", err, tc.want, out)
			}
			var reason []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "netnstest: needs root") {
					reason = append(reason, strings.TrimSpace(l))
				}
			}
			if len(reason) != 1 {
				t.Fatalf("want one line saying why, got %q:\n%s", reason, out)
			}
			t.Log(reason[0])
		})
	}
}
