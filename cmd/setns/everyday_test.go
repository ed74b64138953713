package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// helperArg as the first argument makes this test binary run a probe: it
// is how tests look inside the command's environment.
const helperArg = "__setns_test_helper"

// helper runs a probe and returns its exit status.
func helper(name string) int {
	switch name {
	case "loopback": // a TCP round trip over 127.0.0.1
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("listen:", err)
			return 1
		}
		go func() {
			c, err := l.Accept()
			if err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		c, err := net.DialTimeout("tcp", l.Addr().String(), 2*time.Second)
		if err != nil {
			fmt.Println("dial:", err)
			return 1
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintln(c, "ping")
		line, err := bufio.NewReader(c).ReadString('\n')
		fmt.Print("echo: ", line, err, "\n")
		return 0
	case "setuid0": // try to become root again
		fmt.Println("setuid(0):", syscall.Setuid(0))
		return 0
	case "tiocsti": // type into the terminal (privdrop_test.go)
		return tiocstiProbe()
	case "devtty": // type into the controlling terminal (privdrop_test.go)
		return devttyProbe()
	}
	return 2
}

// addTestUser adds nstest-user (uid 4242) with an extra group to the
// sandbox's /etc (an overlay; the host's files are untouched).
var addTestUser = sync.OnceValue(func() error {
	add := func(file, line string) error {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(line)
		return err
	}
	if err := add("/etc/passwd", "nstest-user:x:4242:4242:setns test:/home/nstest:/bin/sh\n"); err != nil {
		return err
	}
	return add("/etc/group", "nstest-user:x:4242:\nnstest-extra:x:4343:nstest-user\n")
})

func TestUser(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	_, name := nstest.NewNamed(t)
	etc := netns.EtcDir + "/" + name
	os.MkdirAll(etc, 0o755)
	t.Cleanup(func() { os.RemoveAll(etc) })
	os.WriteFile(etc+"/hosts", []byte("192.0.2.9 inside\n"), 0o644)

	cmd := setnsCmd("--user", "nstest-user", name, "sh", "-c",
		`id; grep -E '^(NoNewPrivs|CapEff|CapPrm|CapAmb|CapInh|CapBnd):' /proc/self/status; echo "$HOME $USER $LOGNAME $SHELL"; echo "D=$DISPLAY F=$FOO N=$NETNS_NAME"; ls /sys/class/net; cat /etc/hosts`)
	cmd.Env = append(cmd.Env, "DISPLAY=:7", "FOO=dropped")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("setns --user: %v: %s", err, out)
	}
	for _, want := range []string{
		"uid=4242(nstest-user) gid=4242(nstest-user) groups=4242(nstest-user),4343(nstest-extra)",
		"NoNewPrivs:\t1", "CapEff:\t0000000000000000", "CapPrm:\t0000000000000000",
		"CapAmb:\t0000000000000000", "CapInh:\t0000000000000000", "CapBnd:\t0000000000000000",
		"/home/nstest nstest-user nstest-user /bin/sh",
		"D=:7 F= N=" + name,
		"\nlo\n",             // fresh sysfs: mounted before the drop
		"192.0.2.9 inside\n", // /etc/netns bind: made before the drop
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Numeric ids and an explicit group.
	out, _ = setnsCmd("--user", "4242:4343", name, "id", "-u").CombinedOutput()
	if got := strings.TrimSpace(string(out)); got != "4242" {
		t.Errorf("--user 4242:4343: id -u = %q", got)
	}
	out, _ = setnsCmd("--user", "4242:nstest-extra", name, "id", "-g").CombinedOutput()
	if got := strings.TrimSpace(string(out)); got != "4343" {
		t.Errorf("--user 4242:nstest-extra: id -g = %q", got)
	}
}

// TestUserCannotRegainRoot: setuid(0) fails, and a setuid-root binary
// does not raise the euid (no_new_privs).
func TestUserCannotRegainRoot(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	_, name := nstest.NewNamed(t)
	// Copies of this binary and of id(1), the latter setuid root, in a
	// directory the user can reach.
	dir, err := os.MkdirTemp("/tmp", "nstest-suid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	probe, suid := dir+"/probe", dir+"/id"
	copyFile(t, self, probe, 0o755)
	copyFile(t, "/usr/bin/id", suid, os.ModeSetuid|0o755)

	out, err := setnsCmd("--user", "nstest-user", name, probe, helperArg, "setuid0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "setuid(0): operation not permitted") {
		t.Errorf("setuid(0) as the user: %v: %q", err, out)
	}
	// Control: without no_new_privs the setuid copy does make euid 0.
	if out, err := exec.Command("su", "-s", "/bin/sh", "nobody", "-c", suid+" -u").CombinedOutput(); strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("control: the setuid copy run by su gives euid %q (%v), want 0", out, err)
	}
	out, _ = setnsCmd("--user", "nstest-user", name, suid, "-u").CombinedOutput()
	if got := strings.TrimSpace(string(out)); got != "4242" {
		t.Errorf("setuid-root id under --user reports euid %q, want 4242", got)
	}
}

func TestUnknownUserRunsNothing(t *testing.T) {
	nstest.RequireRoot(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	marker := t.TempDir() + "/ran"
	_, errs, code := setns(t, "--user", "no-such-user-xyz", name, "touch", marker)
	if code != 1 || !strings.Contains(errs, `unknown user "no-such-user-xyz"`) {
		t.Errorf("exit %d, stderr %q; want 1 and unknown user", code, errs)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
	if _, err := os.Lstat(netns.RunDir + "/" + name); err == nil {
		t.Error("a namespace was created")
	}
}

// TestLoopback: setns brings lo up in a namespace it creates (a TCP round
// trip over 127.0.0.1 works, and ip reports UP); --no-lo keeps ip's state.
func TestLoopback(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	out, err := setnsCmd(name, self, helperArg, "loopback").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "echo: ping") {
		t.Errorf("loopback round trip inside: %v: %s", err, out)
	}
	if link := nstest.MustIP(t, "-n", name, "-o", "link", "show", "lo"); !regexp.MustCompile(`<[^>]*\bUP\b`).MatchString(link) {
		t.Errorf("ip -n %s link show lo = %q, want UP", name, link)
	}

	down := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, down) })
	if _, errs, code := setns(t, "--no-lo", down, "true"); code != 0 {
		t.Fatalf("--no-lo: exit %d: %s", code, errs)
	}
	if link := nstest.MustIP(t, "-n", down, "-o", "link", "show", "lo"); regexp.MustCompile(`<[^>]*\bUP\b`).MatchString(link) {
		t.Errorf("with --no-lo, lo is %q, want down", link)
	}
}

func TestNetnsNameVariable(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, name := nstest.NewNamed(t)
	cmd := setnsCmd(name, "sh", "-c", `echo "$NETNS_NAME"`)
	cmd.Env = append(cmd.Env, "NETNS_NAME=stale")
	out, err := cmd.Output()
	if err != nil || string(out) != name+"\n" {
		t.Errorf("NETNS_NAME inside = %q (%v), want %q", out, err, name)
	}
	out, _ = setnsCmd("--path", netns.RunDir+"/"+name, "sh", "-c", `echo "[$NETNS_NAME]"`).Output()
	if string(out) != "[]\n" {
		t.Errorf("NETNS_NAME with --path = %q, want unset", out)
	}
}

// TestSysctl: --sysctl applies inside before the command, never outside.
func TestSysctl(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, name := nstest.NewNamed(t)
	const file = "/proc/sys/net/ipv4/ip_forward"
	host, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := "1\n"
	if string(host) == "1\n" {
		want = "0\n"
	}
	out, errs, code := setns(t, "--sysctl", "net.ipv4.ip_forward="+strings.TrimSpace(want), name, "cat", file)
	if code != 0 || out != want {
		t.Errorf("inside: %q exit %d %s, want %q", out, code, errs, want)
	}
	out, _, _ = setns(t, "--no-create", name, "cat", "/proc/sys/net/ipv4/ip_forward")
	if out != want {
		t.Errorf("the value did not stay in the namespace: %q", out)
	}
	if after, _ := os.ReadFile(file); string(after) != string(host) {
		t.Errorf("host %s changed from %q to %q", file, host, after)
	}

	fresh := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, fresh) })
	_, errs, code = setns(t, "--sysctl", "net.no.such.key=1", fresh, "true")
	if code != 1 || !strings.Contains(errs, `sysctl "`+fresh+`": net.no.such.key: no such file or directory`) {
		t.Errorf("bad key: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Lstat(netns.RunDir + "/" + fresh); err == nil {
		t.Errorf("a failed --sysctl left the namespace it created")
	}
	for _, bad := range []string{"kernel.hostname=x", "net.ipv4.ip_forward", "=1"} {
		if _, errs, code := setns(t, "--sysctl", bad, name, "true"); code != 1 || !strings.Contains(errs, "Try 'setns -h'") {
			t.Errorf("--sysctl %q: exit %d, stderr %q; want a usage error", bad, code, errs)
		}
	}
}

// TestTemp: --temp deletes the namespace after a normal exit, a failing
// exit and a SIGTERM to setns, and passes the status on.
func TestTemp(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -KILL $$", 137},
	} {
		name := nstest.TempName(t)
		t.Cleanup(func() { nstest.Remove(t, name) })
		out, errs, code := setns(t, "--temp", name, "sh", "-c", `test -e /run/netns/"$NETNS_NAME" && readlink /proc/self/ns/net; `+tc.script)
		if code != tc.code || !strings.HasPrefix(out, "net:[") || errs != "" {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q", tc.script, code, tc.code, out, errs)
		}
		if _, err := os.Lstat(netns.RunDir + "/" + name); err == nil {
			t.Errorf("%s: %s left behind", tc.script, name)
		}
	}
	// A fresh name when none is given.
	out, errs, code := setns(t, "--temp", "-", "sh", "-c", `echo "$NETNS_NAME"`)
	gen := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(gen, "setns-tmp-") {
		t.Errorf("--temp -: exit %d, NETNS_NAME %q, stderr %q", code, gen, errs)
	}
	if _, err := os.Lstat(netns.RunDir + "/" + gen); err == nil {
		t.Errorf("%s left behind", gen)
	}
	// An existing name is refused.
	_, existing := nstest.NewNamed(t)
	if _, errs, code := setns(t, "--temp", existing, "true"); code != 1 || !strings.Contains(errs, "file exists") {
		t.Errorf("--temp on an existing name: exit %d, stderr %q", code, errs)
	}
	if _, err := netns.Open(existing); err != nil {
		t.Errorf("--temp on an existing name harmed it: %v", err)
	}
}

// TestTempSignals: setns --temp passes the signals a user or supervisor
// sends on to COMMAND, instead of dying of them and leaving the namespace.
func TestTempSignals(t *testing.T) {
	nstest.RequireRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			name := nstest.TempName(t)
			t.Cleanup(func() { nstest.Remove(t, name) })
			trap := strings.TrimPrefix(sigName(sig), "SIG")
			cmd := setnsCmd("--temp", name, "sh", "-c",
				`trap 'echo got `+trap+`; exit 5' `+trap+`; echo ready; while :; do sleep 0.05; done`)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// A setns that dies of the signal leaves COMMAND looping: end
			// the whole group after a generous while, so the test fails
			// instead of hanging.
			guard := time.AfterFunc(30*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			defer guard.Stop()
			r := bufio.NewReader(stdout)
			if line, _ := r.ReadString('\n'); line != "ready\n" {
				t.Fatalf("got %q", line)
			}
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(r)
			err := cmd.Wait()
			if string(rest) != "got "+trap+"\n" || cmd.ProcessState.ExitCode() != 5 {
				t.Errorf("after %v: output %q, exit %v (%v); want the child's trap and its status 5",
					sig, rest, cmd.ProcessState.ExitCode(), err)
			}
			if _, err := os.Lstat(netns.RunDir + "/" + name); err == nil {
				t.Errorf("%s left behind after %v", name, sig)
			}
		})
	}
}

// sigName is the signal's name as the shell's trap takes it.
func sigName(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGUSR1: "SIGUSR1",
		syscall.SIGUSR2: "SIGUSR2", syscall.SIGALRM: "SIGALRM"}[sig]
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil { // WriteFile's mode passes the umask
		t.Fatal(err)
	}
}
