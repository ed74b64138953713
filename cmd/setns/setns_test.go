package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == helperArg { // child: a probe run inside
		os.Exit(helper(os.Args[2]))
	}
	if v := os.Getenv("NETNS_TEST_TCP"); v != "" { // child: a TCP end for a test script
		nstest.TCP(v)
	}
	if os.Getenv("SETNS_RUN_MAIN") == "1" { // child: behave as the real command
		main()
		return
	}
	nstest.Main(m)
}

// self is this test binary, which runs as setns with SETNS_RUN_MAIN=1.
var self, _ = os.Executable()

// setnsCmd returns a command that runs this test binary as setns.
func setnsCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "SETNS_RUN_MAIN=1")
	return cmd
}

// setns runs setns with args and returns stdout, stderr and exit status.
func setns(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return nstest.Run(t, "", "env", append([]string{"SETNS_RUN_MAIN=1", self}, args...)...)
}

// TestParse: options end at NAME, and an error names the option as -h and
// the docs spell it (--user, not the flag package's -user).
func TestParse(t *testing.T) {
	env := func(sh string) func(string) string {
		return func(string) string { return sh }
	}
	for _, tc := range []struct {
		args []string
		want string // fmt of the options, or "error: ..." / "help"
	}{
		{[]string{"blue"}, "name=blue argv=[/bin/zsh]"},
		{[]string{"blue", "ip", "-o", "link"}, "name=blue argv=[ip -o link]"},
		{[]string{"--", "blue", "true"}, "name=blue argv=[true]"},
		{[]string{"--no-create", "blue", "true"}, "name=blue nocreate argv=[true]"},
		{[]string{"-no-create", "blue"}, "name=blue nocreate argv=[/bin/zsh]"},
		{[]string{"--bare", "blue", "true"}, "name=blue bare argv=[true]"},
		{[]string{"--path", "/proc/1/ns/net", "true"}, "path=/proc/1/ns/net argv=[true]"},
		{[]string{"/proc/1/ns/net", "true"}, "path=/proc/1/ns/net argv=[true]"},
		{[]string{"--pid", "1", "ip", "link"}, "pid=1 argv=[ip link]"},
		{[]string{"blue", "--no-create"}, "name=blue argv=[--no-create]"},
		{[]string{"-h"}, "help"},
		{[]string{"--help"}, "help"},
		{[]string{"-h", "blue"}, "help"},
		{[]string{}, "error: missing namespace NAME"},
		{[]string{"--bogus", "blue"}, "error: unknown option --bogus"},
		{[]string{"-x", "blue"}, "error: unknown option -x"},
		{[]string{"--user"}, "error: option --user needs a value"},
		{[]string{"-dns"}, "error: option --dns needs a value"},
		{[]string{"--dns", "x", "blue"}, `error: invalid value "x" for option --dns: not an IP address`},
		{[]string{"--sysctl", "foo", "blue"}, `error: invalid value "foo" for option --sysctl: want KEY=VALUE with a net.* KEY`},
		{[]string{"--no-lo=maybe", "blue"}, `error: invalid boolean value "maybe" for option --no-lo: parse error`},
		{[]string{"--pid", "abc"}, `error: invalid PID "abc"`},
		{[]string{"--pid", "0"}, `error: invalid PID "0"`},
		{[]string{"--pid", "1", "--path", "/x"}, "error: --path and --pid exclude each other"},
		{[]string{"--path"}, "error: option --path needs a value"},
	} {
		o, err := parse(tc.args, env("/bin/zsh"))
		var got string
		switch {
		case err == errHelp:
			got = "help"
		case err != nil:
			got = "error: " + err.Error()
		default:
			got = describe(o)
		}
		if got != tc.want {
			t.Errorf("parse(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
	if o, _ := parse([]string{"blue"}, env("")); o.argv[0] != "/bin/sh" {
		t.Errorf("default command without $SHELL = %q, want /bin/sh", o.argv[0])
	}
}

func describe(o *options) string {
	var b []string
	if o.name != "" {
		b = append(b, "name="+o.name)
	}
	if o.path != "" {
		b = append(b, "path="+o.path)
	}
	if o.pid != 0 {
		b = append(b, "pid="+strconv.Itoa(o.pid))
	}
	if o.noCreate {
		b = append(b, "nocreate")
	}
	if o.bare {
		b = append(b, "bare")
	}
	return strings.Join(append(b, fmt.Sprintf("argv=%v", o.argv)), " ")
}

// TestHelp: -h prints usage on stdout and exits 0.
func TestHelp(t *testing.T) {
	out, errs, code := setns(t, "-h")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: setns ") {
		t.Errorf("setns -h: exit %d, stderr %q, stdout %q; want usage on stdout, exit 0", code, errs, out)
	}
}

// TestExitStatus is the exit-status and bad-input table: each case runs
// the real command as root in the test sandbox.
func TestExitStatus(t *testing.T) {
	nstest.RequireRoot(t)
	_, existing := nstest.NewNamed(t)
	noexec := t.TempDir() + "/noexec"
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	junk := map[string]func(string) error{
		"symlink": func(p string) error { return os.Symlink("/proc/1/ns/net", p) },
		"dir":     func(p string) error { return os.Mkdir(p, 0o755) },
		"file":    func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) },
	}
	junkNames := map[string]string{}
	for kind, mk := range junk {
		n := nstest.TempName(t)
		p := netns.RunDir + "/" + n
		if err := mk(p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
		junkNames[kind] = n
	}
	missing := nstest.TempName(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // substring; "" means stderr must be empty
	}{
		{[]string{existing, "true"}, 0, ""},
		{[]string{existing, "false"}, 1, ""},
		{[]string{existing, "sh", "-c", "exit 42"}, 42, ""},
		{[]string{existing, "sh", "-c", "kill -9 $$"}, 137, ""},
		{[]string{existing, "nonexistent-command-xyz"}, 127, `setns: exec "nonexistent-command-xyz": executable file not found in $PATH`},
		{[]string{existing, "/nonexistent/cmd"}, 127, `setns: exec "/nonexistent/cmd": no such file or directory` + "\n"},
		{[]string{existing, noexec}, 126, "permission denied"},
		{[]string{existing, "/"}, 126, "setns: exec \"/\""},
		{[]string{"--no-create", missing, "true"}, 1, `setns: open "` + missing + `": no such file or directory`},
		{[]string{""}, 1, `setns: open "": invalid namespace name: empty`},
		{[]string{".", "true"}, 1, `invalid namespace name`},
		{[]string{"..", "true"}, 1, `invalid namespace name`},
		{[]string{"../x", "true"}, 1, `open "../x"`},
		{[]string{"a/b", "true"}, 1, `open "a/b": no such file or directory`},
		{[]string{strings.Repeat("n", 256), "true"}, 1, "longer than 255 bytes"},
		{[]string{junkNames["symlink"], "true"}, 1, "symbolic link"},
		{[]string{junkNames["dir"], "true"}, 1, "a directory"},
		{[]string{junkNames["file"], "true"}, 1, "a regular file"},
		{[]string{"--pid", "999999999", "true"}, 1, `open "/proc/999999999/ns/net": no such file or directory`},
		{[]string{"--path", "/etc/hostname", "true"}, 1, "not a network namespace"},
		{[]string{"--bogus"}, 1, "Try 'setns -h' for more information."},
		{[]string{}, 1, "setns: missing namespace NAME"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			before, _ := netns.List()
			out, errs, code := setns(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errs)
			}
			if tc.stderr == "" && errs != "" || !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", errs, tc.stderr)
			}
			if strings.Count(errs, "\n") > 2 {
				t.Errorf("stderr has more than one message: %q", errs)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if tc.code != 0 && !strings.Contains(strings.Join(tc.args, " "), existing) {
				after, _ := netns.List()
				slices.Sort(before)
				slices.Sort(after)
				if !slices.Equal(before, after) {
					t.Errorf("a failed setns changed the run dir from %q to %q", before, after)
				}
			}
			if _, err := os.Stat("/run/x"); err == nil {
				t.Errorf("/run/x was created")
			}
		})
	}
}

// TestCreatesAndInterops: setns creates a missing name; ip sees the same
// namespace, and setns enters one made by ip.
func TestCreatesAndInterops(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	ours, errs, code := setns(t, name, "readlink", "/proc/self/ns/net")
	if code != 0 || errs != "" {
		t.Fatalf("setns %s: exit %d: %s", name, code, errs)
	}
	theirs := nstest.MustIP(t, "netns", "exec", name, "readlink", "/proc/self/ns/net")
	if ours != theirs {
		t.Errorf("setns entered %q, ip enters %q", ours, theirs)
	}
	host, _ := os.Readlink("/proc/self/ns/net")
	if strings.TrimSpace(ours) == host {
		t.Errorf("setns ran the command in the host namespace")
	}

	byIP := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, byIP) })
	nstest.MustIP(t, "netns", "add", byIP)
	want := nstest.MustIP(t, "netns", "exec", byIP, "readlink", "/proc/self/ns/net")
	got, errs, code := setns(t, "--no-create", byIP, "readlink", "/proc/self/ns/net")
	if code != 0 || got != want {
		t.Errorf("setns into ip's namespace saw %q (exit %d, %s), ip %q", got, code, errs, want)
	}
}

// TestSeedExample runs the seed README's example (a veth peer moved into
// an ip-made namespace, seen by "setns ns1 ip link") inside a throwaway
// namespace, so the host's links are untouched.
func TestSeedExample(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	_, outer := nstest.NewNamed(t)
	ns1 := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, ns1) })
	script := `set -e
ip link add veth0 type veth peer name veth1
ip netns add "$1"
ip link set veth1 netns "$1"
env SETNS_RUN_MAIN=1 "$2" "$1" ip link`
	out, errs, code := nstest.Run(t, "", "ip", "netns", "exec", outer, "sh", "-c", script, "sh", ns1, self)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "veth1@") || strings.Contains(out, "veth0") || !strings.Contains(out, "lo:") {
		t.Errorf("setns %s ip link = %q, want lo and veth1 only", ns1, out)
	}
}

// TestEnvironment: inside, /sys/class/net shows the namespace's devices
// only, /sys/fs/cgroup keeps its mounts, /etc/netns/NAME files cover /etc,
// and the host's /etc is untouched.
func TestEnvironment(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, name := nstest.NewNamed(t)
	etc := netns.EtcDir + "/" + name
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	const resolv = "nameserver 192.0.2.53\n"
	if err := os.WriteFile(etc+"/resolv.conf", []byte(resolv), 0o644); err != nil {
		t.Fatal(err)
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")

	out, errs, code := setns(t, name, "sh", "-c",
		"ls /sys/class/net; echo --; cat /etc/resolv.conf; echo --; ls /sys/fs/cgroup | wc -l; echo --; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	parts := strings.Split(out, "--\n")
	if len(parts) != 4 {
		t.Fatalf("output %q", out)
	}
	if parts[0] != "lo\n" {
		t.Errorf("/sys/class/net inside = %q, want only lo", parts[0])
	}
	if parts[1] != resolv {
		t.Errorf("/etc/resolv.conf inside = %q, want %q", parts[1], resolv)
	}
	hostCg, _ := os.ReadDir("/sys/fs/cgroup")
	if n, _ := strconv.Atoi(strings.TrimSpace(parts[2])); n == 0 || n != len(hostCg) {
		t.Errorf("/sys/fs/cgroup inside has %d entries, host %d", n, len(hostCg))
	}
	hostMounts, _ := os.ReadFile("/proc/self/mountinfo")
	if got, want := strings.TrimSpace(parts[3]), strconv.Itoa(strings.Count(string(hostMounts), " /sys/fs/cgroup")); got != want {
		t.Errorf("%s mounts at or below /sys/fs/cgroup inside, %s outside", got, want)
	}
	if after, _ := os.ReadFile("/etc/resolv.conf"); string(after) != string(hostResolv) {
		t.Errorf("host /etc/resolv.conf changed to %q", after)
	}
	if _, err := os.Stat(netns.RunDir + "/" + name); err != nil {
		t.Errorf("namespace gone after the run: %v", err)
	}
}

// TestSamePIDAndBare: the command keeps setns's PID; --bare keeps the mount
// namespace, the full mode gets its own.
func TestSamePIDAndBare(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, name := nstest.NewNamed(t)
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")
	for _, bare := range []bool{false, true} {
		args := []string{name, "sh", "-c", `echo $$; readlink /proc/self/ns/mnt`}
		if bare {
			args = append([]string{"--bare"}, args...)
		}
		cmd := setnsCmd(args...)
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Fields(out.String())
		if len(lines) != 2 || lines[0] != strconv.Itoa(cmd.Process.Pid) {
			t.Errorf("bare=%v: output %q, want the PID %d first", bare, out.String(), cmd.Process.Pid)
			continue
		}
		if (lines[1] == hostMnt) != bare {
			t.Errorf("bare=%v: mount namespace %s, host %s", bare, lines[1], hostMnt)
		}
	}
}

// TestPathAndPID: --path and --pid enter namespaces that have no name.
func TestPathAndPID(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	ns, name := nstest.NewNamed(t)
	want := fmt.Sprintf("net:[%d]\n", ns.Inode())
	for _, args := range [][]string{
		{"--path", netns.RunDir + "/" + name},
		{netns.RunDir + "/" + name},
	} {
		out, errs, code := setns(t, append(args, "readlink", "/proc/self/ns/net")...)
		if code != 0 || out != want {
			t.Errorf("setns %q: %q exit %d %s, want %q", args, out, code, errs, want)
		}
	}
	sleeper := setnsCmd(name, "sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	pid := strconv.Itoa(sleeper.Process.Pid)
	for range 2000 {
		if l, _ := os.Readlink("/proc/" + pid + "/ns/net"); l+"\n" == want {
			break
		}
		sleepBriefly()
	}
	out, errs, code := setns(t, "--pid", pid, "readlink", "/proc/self/ns/net")
	if code != 0 || out != want {
		t.Errorf("setns --pid: %q exit %d %s, want %q", out, code, errs, want)
	}
}

// TestRace: 64 concurrent "setns SAME readlink /proc/self/ns/net" and 8
// "ip netns add SAME" on a new name end in one namespace; every setns
// succeeds and sees it.
func TestRace(t *testing.T) {
	nstest.RequireIP(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	var wg sync.WaitGroup
	results := make([]string, 64)
	codes := make([]int, 64)
	errs := make([]string, 64)
	start := make(chan struct{})
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i], codes[i] = setns(t, name, "readlink", "/proc/self/ns/net")
		}()
	}
	ipOK := make([]bool, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, code := nstest.Run(t, "", "ip", "netns", "add", name)
			ipOK[i] = code == 0
		}()
	}
	close(start)
	wg.Wait()
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	want := fmt.Sprintf("net:[%d]\n", ns.Inode())
	for i := range 64 {
		if codes[i] != 0 || results[i] != want {
			t.Errorf("setns #%d: %q exit %d %s, want %q", i, results[i], codes[i], errs[i], want)
		}
	}
	if n := strings.Count(mountinfo(t), " "+netns.RunDir+"/"+name+" "); n != 1 {
		t.Errorf("%d mounts on the name, want 1", n)
	}
}

func mountinfo(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCrashedIPIsNotGuessed: "ip netns add" killed between reserving the
// name and mounting the namespace (strace injects SIGKILL at its unshare)
// leaves an unmarked placeholder. Nothing proves that ip is not still at
// work on such a file, so setns does not replace it: after waiting
// netns.PlaceholderWait it fails with one line naming the fix, and after
// that fix ("netns delete NAME") setns and ip share the namespace.
func TestCrashedIPIsNotGuessed(t *testing.T) {
	nstest.RequireIP(t)
	nstest.NeedTool(t, "strace", "strace")
	t.Parallel()
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	_, _, code := nstest.Run(t, "", "strace", "-f", "-o", "/dev/null", "-e", "inject=unshare:signal=SIGKILL", "ip", "netns", "add", name)
	if code != 137 {
		t.Fatalf("ip under strace exited %d, want 137 (killed)", code)
	}
	if _, errs, code := nstest.IP(t, "netns", "exec", name, "true"); code == 0 {
		t.Fatalf("ip could use the crashed name (stderr %q): nothing to recover", errs)
	}
	_, errs, code := setns(t, name, "true")
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "netns delete "+name) {
		t.Fatalf("setns on ip's leftover: exit %d, stderr %q; want 1 and one line naming the fix", code, errs)
	}
	if err := netns.Delete(name); err != nil {
		t.Fatal(err)
	}
	out, errs, code := setns(t, name, "readlink", "/proc/self/ns/net")
	if code != 0 || !strings.HasPrefix(out, "net:[") {
		t.Fatalf("setns after the fix: exit %d, %q %q", code, out, errs)
	}
	if theirs := nstest.MustIP(t, "netns", "exec", name, "readlink", "/proc/self/ns/net"); theirs != out {
		t.Errorf("ip enters %q, setns entered %q", theirs, out)
	}
	if n := strings.Count(mountinfo(t), " "+netns.RunDir+"/"+name+" "); n != 1 {
		t.Errorf("%d mounts on the name, want 1", n)
	}
}
