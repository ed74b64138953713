package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/internal/pty"
	"github.com/setns/setns/netns"
)

// TestParseValues: an option that takes a value refuses an empty one
// (an empty --pid made a namespace named after COMMAND, an empty --user ran as
// root), a --sysctl value must be one line, and --preserve-fds needs
// --user and a count.
func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "", "blue", "true"}, `invalid value "" for option --user: empty value`},
		{[]string{"--user=", "blue", "true"}, `invalid value "" for option --user: empty value`},
		{[]string{"--pid", "", "true"}, `invalid value "" for option --pid: empty value`},
		{[]string{"--path", "", "true"}, `invalid value "" for option --path: empty value`},
		{[]string{"--dns", "", "blue"}, `invalid value "" for option --dns: empty value`},
		{[]string{"--sysctl", "", "blue"}, `invalid value "" for option --sysctl: empty value`},
		{[]string{"--preserve-fds", "", "blue"}, `invalid value "" for option --preserve-fds: empty value`},
		{[]string{"--sysctl", "net.ipv4.ip_forward=1\nnet.ipv4.conf.all.forwarding=1", "blue"},
			`invalid value "net.ipv4.ip_forward=1\nnet.ipv4.conf.all.forwarding=1" for option --sysctl: value must be one line, without NUL`},
		{[]string{"--sysctl", "net.ipv4.ip_forward=1\x00", "blue"},
			`invalid value "net.ipv4.ip_forward=1\x00" for option --sysctl: value must be one line, without NUL`},
		{[]string{"--preserve-fds", "2", "blue"}, "--preserve-fds needs --user: without it no descriptor is closed"},
		{[]string{"--user", "nobody", "--preserve-fds", "-1", "blue"}, `invalid descriptor count "-1"`},
		{[]string{"--user", "nobody", "--preserve-fds", "x", "blue"}, `invalid descriptor count "x"`},
	} {
		_, err := parse(tc.args, func(string) string { return "" })
		if err == nil || err.Error() != tc.want {
			t.Errorf("parse(%q) = %v, want %s", tc.args, err, tc.want)
		}
	}
	o, err := parse([]string{"--user", "nobody", "--preserve-fds", "3", "blue"}, func(string) string { return "" })
	if err != nil || o.preserve != 3 || o.user != "nobody" {
		t.Errorf("--user nobody --preserve-fds 3: %+v, %v", o, err)
	}
}

// TestRefusedValuesRunNothing: setns with an empty --pid used to create a
// namespace named "true"; "--user 4294967295" ran COMMAND as root, since
// (uid_t)-1 means "unchanged" to setresuid. Now nothing is created or run.
func TestRefusedValuesRunNothing(t *testing.T) {
	nstest.RequireRoot(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	marker := t.TempDir() + "/ran"
	for _, args := range [][]string{
		{"--pid", "", name, "touch", marker},
		{"--user", "", name, "touch", marker},
		{"--user", "4294967295", name, "touch", marker},
		{"--user", "4294967295:4294967295", name, "touch", marker},
		{"--user", "nobody:4294967295", name, "touch", marker},
		{"--user", "0:4294967295", "--temp", name, "touch", marker},
		{"--sysctl", "net.ipv4.ip_forward=0\n1", name, "touch", marker},
	} {
		_, errs, code := setns(t, args...)
		if code != 1 || strings.Count(errs, "\n") > 2 || !strings.HasPrefix(errs, "setns: ") {
			t.Errorf("setns %q: exit %d, stderr %q; want 1 and one error", args, code, errs)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("setns %q ran the command", args)
			os.Remove(marker)
		}
		for _, n := range []string{name, name + "/touch", "touch"} {
			if _, err := os.Lstat(netns.RunDir + "/" + n); err == nil {
				t.Errorf("setns %q created %s", args, n)
			}
		}
	}
}

// userDir makes a directory in /tmp that nstest-user can use, with a copy
// of this test binary (the go-build directories are root's alone).
func userDir(t *testing.T) (dir, probe string) {
	t.Helper()
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "nstest-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	probe = dir + "/probe"
	copyFile(t, self, probe, 0o755)
	return dir, probe
}

// TestUserClosesDescriptors is "exec 7</etc/shadow; setns --user nobody
// blue sh -c 'head -c20 <&7'": with --user, a descriptor root had open
// does not reach the command, through exec or (--temp) as a child, unless
// --preserve-fds keeps it.
func TestUserClosesDescriptors(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	_, name := nstest.NewNamed(t)
	secret := t.TempDir() + "/secret"
	if err := os.WriteFile(secret, []byte("root-only-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts string
		want string
	}{
		{"", "closed"},
		{"--temp", "closed"},
		{"--preserve-fds 5", "root-only-secret"},
		{"--preserve-fds 5 --temp", "root-only-secret"},
		{"--preserve-fds 4", "closed"}, // keeps 3 to 6 only
	} {
		nameArg := name
		if strings.Contains(tc.opts, "--temp") {
			nameArg = "-"
		}
		script := fmt.Sprintf(`exec 7<%s; SETNS_RUN_MAIN=1 %s --user nstest-user %s %s sh -c 'cat <&7 2>/dev/null || echo closed'`,
			secret, self, tc.opts, nameArg)
		out, errs, code := nstest.Run(t, "", "sh", "-c", script)
		if code != 0 || strings.TrimSpace(out) != tc.want {
			t.Errorf("setns --user %s: exit %d, stdout %q, stderr %q; want %q", tc.opts, code, out, errs, tc.want)
		}
	}
	// Without --user nothing is closed: the command is root anyway, as
	// under ip netns exec and nsenter.
	script := fmt.Sprintf(`exec 7<%s; SETNS_RUN_MAIN=1 %s %s sh -c 'cat <&7'`, secret, self, name)
	if out, _, _ := nstest.Run(t, "", "sh", "-c", script); out != "root-only-secret\n" {
		t.Errorf("without --user: %q, want the descriptor inherited", out)
	}
}

// TestUserRoot: "--user root" or "--user 0" keeps root's capabilities and
// changes only the groups, as documented; any other uid has none in any
// set, the bounding set included.
func TestUserRoot(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	_, name := nstest.NewNamed(t)
	caps := `grep -E '^Cap(Eff|Bnd|Amb)' /proc/self/status | tr '\n' ' '; id -u; id -G`
	out, errs, code := setns(t, "--user", "0:nstest-extra", name, "sh", "-c", caps)
	full := ownCaps(t) // root's, as this test runs with them
	if want := "CapEff:\t" + full + " CapBnd:\t" + full + " CapAmb:\t0000000000000000 0\n4343 0\n"; code != 0 || out != want {
		t.Errorf("--user 0:nstest-extra: exit %d, %q (%s), want %q", code, out, errs, want)
	}
	out, errs, code = setns(t, "--user", "nstest-user", name, "sh", "-c", caps)
	if want := "CapEff:\t0000000000000000 CapBnd:\t0000000000000000 CapAmb:\t0000000000000000 4242\n4242 4343\n"; code != 0 || out != want {
		t.Errorf("--user nstest-user: exit %d, %q (%s), want %q", code, out, errs, want)
	}
}

// ownCaps returns this process's effective set, checking it is also its
// bounding set (as for root outside any container).
func ownCaps(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var eff, bnd string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:\t"); ok {
			eff = v
		}
		if v, ok := strings.CutPrefix(l, "CapBnd:\t"); ok {
			bnd = v
		}
	}
	if eff != bnd || eff == "0000000000000000" {
		t.Fatalf("this test runs with CapEff %s and CapBnd %s; want root's full sets", eff, bnd)
	}
	return eff
}

// TestRefusesSetuid: installed setuid root, setgid root or with file
// capabilities, setns would make every user root. Run so by an
// unprivileged user, it prints one line that says to use sudo, exits 1,
// and creates nothing.
func TestRefusesSetuid(t *testing.T) {
	nstest.RequireRoot(t)
	dir, _ := userDir(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	marker := dir + "/ran"
	for _, tc := range []struct {
		how   string
		setup func(bin string) error
	}{
		{"setuid", func(bin string) error { return os.Chmod(bin, os.ModeSetuid|0o755) }},
		{"setgid", func(bin string) error { return os.Chmod(bin, os.ModeSetgid|0o755) }},
		{"file capabilities", func(bin string) error {
			setcap, err := exec.LookPath("setcap")
			if err != nil {
				return err
			}
			if out, err := exec.Command(setcap, "cap_sys_admin,cap_net_admin+ep", bin).CombinedOutput(); err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		}},
	} {
		bin := dir + "/setns-" + strings.ReplaceAll(tc.how, " ", "-")
		copyFile(t, self, bin, 0o755)
		if err := tc.setup(bin); err != nil {
			if tc.how == "file capabilities" && os.Getenv("CI") != "true" {
				t.Logf("skipping the file capabilities case: %v", err)
				continue
			}
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--user", "0", name, "touch", marker)
		cmd.Env = []string{"SETNS_RUN_MAIN=1", "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		want := "setns: refusing to run setuid or with file capabilities; use sudo\n"
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stderr.String() != want {
			t.Errorf("%s: %v, stderr %q; want exit 1 and %q", tc.how, err, stderr.String(), want)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%s: the command ran", tc.how)
			os.Remove(marker)
		}
		if _, err := os.Lstat(netns.RunDir + "/" + name); err == nil {
			t.Errorf("%s: %s was created", tc.how, name)
		}
	}
}

// terminal is a pty the test owns, standing for the terminal root types
// in: setns runs with it as its controlling terminal and stdio.
type terminal struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
	done          chan struct{}
}

func newTerminal(t *testing.T) *terminal {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{master: m, slave: s, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { m.Close(); s.Close(); <-term.done })
	return term
}

// start runs cmd on the terminal, in a session of its own, as a login
// shell's child would be.
func (term *terminal) start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.slave, term.slave, term.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the terminal has shown want (generously: this is
// no measure of speed), or fails the test.
func (term *terminal) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(term.output(), want) {
			return
		}
	}
	t.Fatalf("the terminal never showed %q:\n%s", want, term.output())
}

// tiocstiProbe pushes a command line into its terminal's input with
// TIOCSTI, as a hostile program run by --user would, and reports its
// terminal and session.
func tiocstiProbe() int {
	var failed error
	for _, c := range []byte("echo INJECTED\n") {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, 0, syscall.TIOCSTI, uintptr(unsafe.Pointer(&c))); e != 0 {
			failed = e
		}
	}
	tty, _ := os.Readlink("/proc/self/fd/0")
	stat, _ := os.ReadFile("/proc/self/stat")
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	fmt.Printf("tiocsti=%v tty=%s sid=%s\n", failed, tty, f[3])
	return 0
}

// TestUserGetsOwnTerminal: a command run with --user from root's terminal
// cannot push input into it with TIOCSTI (nothing is queued on root's
// terminal afterwards), because it runs on a pty of its own, in a
// session of its own; and the terminal's settings are restored.
func TestUserGetsOwnTerminal(t *testing.T) {
	nstest.RequireRoot(t)
	_, probe := userDir(t)
	_, name := nstest.NewNamed(t)
	term := newTerminal(t)
	before, _ := exec.Command("stty", "-g", "-F", term.slave.Name()).Output()
	outer, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", term.slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]string{{name}, {"--temp", "-"}} {
		cmd := setnsCmd(append(append([]string{"--user", "nstest-user"}, opts...), probe, helperArg, "tiocsti")...)
		term.start(t, cmd)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("setns %q: %v\n%s", opts, err, term.output())
		}
		term.waitFor(t, "sid=")
		line := term.output()[strings.LastIndex(term.output(), "tiocsti="):]
		term.mu.Lock()
		term.out.Reset()
		term.mu.Unlock()
		if n, err := pty.Queued(term.slave); err != nil || n != 0 {
			t.Errorf("setns %q: root's terminal has %d bytes of input queued (%v): the command typed into it", opts, n, err)
		}
		if strings.Contains(line, "tty="+outer+" ") || strings.Contains(line, fmt.Sprintf("sid=%d\r", cmd.Process.Pid)) {
			t.Errorf("setns %q: the command runs on root's terminal or in its session: %q (root's terminal %s, session %d)",
				opts, line, outer, cmd.Process.Pid)
		}
		t.Logf("setns %q: %q", opts, line)
	}
	if after, _ := exec.Command("stty", "-g", "-F", term.slave.Name()).Output(); !bytes.Equal(before, after) {
		t.Errorf("terminal settings %q after setns, want them restored to %q", after, before)
	}
}

// devttyProbe opens its controlling terminal as /dev/tty, as a hostile
// program run by --user with every standard file redirected would, and
// pushes a command line into it with TIOCSTI.
func devttyProbe() int {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		fmt.Println("devtty:", err)
		return 0
	}
	defer f.Close()
	var failed error
	for _, c := range []byte("echo INJECTED\n") {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCSTI, uintptr(unsafe.Pointer(&c))); e != 0 {
			failed = e
		}
	}
	fmt.Printf("devtty: opened, tiocsti=%v\n", failed)
	return 0
}

// TestUserNoTerminalStdio: with stdin, stdout and stderr all redirected,
// a command run with --user from root's terminal still must not reach
// it: it has no controlling terminal, so /dev/tty does not open and
// nothing is typed into root's terminal. (It used to keep setns's
// session and terminal.)
func TestUserNoTerminalStdio(t *testing.T) {
	nstest.RequireRoot(t)
	_, probe := userDir(t)
	_, name := nstest.NewNamed(t)
	term := newTerminal(t)
	for _, opts := range [][]string{{name}, {"--temp", "-"}} {
		cmd := setnsCmd(append(append([]string{"--user", "nstest-user"}, opts...), probe, helperArg, "devtty")...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		// The terminal is setns's controlling terminal only, as fd 3
		// (which --user closes for the command).
		cmd.ExtraFiles = []*os.File{term.slave}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
		if err := cmd.Run(); err != nil {
			t.Fatalf("setns %q: %v: %s", opts, err, stderr.String())
		}
		if want := "devtty: open /dev/tty: no such device or address\n"; stdout.String() != want {
			t.Errorf("setns %q: the command printed %q, want %q", opts, stdout.String(), want)
		}
		if n, err := pty.Queued(term.slave); err != nil || n != 0 {
			t.Errorf("setns %q: root's terminal has %d bytes of input queued (%v): the command typed into it", opts, n, err)
		}
	}
}

// TestUserInteractiveShell: an interactive shell run with --user on its
// own pty works like one on the terminal: input and output pass, Ctrl-C
// interrupts the foreground job, Ctrl-Z stops it (job control), and the
// shell's exit status is setns's.
func TestUserInteractiveShell(t *testing.T) {
	nstest.RequireRoot(t)
	dir, _ := userDir(t)
	_, name := nstest.NewNamed(t)
	term := newTerminal(t)
	cmd := setnsCmd("--user", "nstest-user", name, "sh", "-i")
	term.start(t, cmd)
	send := func(s string) {
		if _, err := term.master.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// waitProc waits for the pid in file to be a sleep in state one of states.
	waitProc := func(file, states string) string {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			pid, _ := os.ReadFile(file)
			stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
			if len(pid) > 0 && err == nil && strings.Contains(string(stat), "(sleep) ") {
				if state := strings.Fields(string(stat))[2]; strings.Contains(states, state) {
					return strings.TrimSpace(string(pid))
				}
			}
		}
		t.Fatalf("%s: no sleep in state %s:\n%s", file, states, term.output())
		return ""
	}
	send("echo $((40+2))x\r")
	term.waitFor(t, "42x")
	send(fmt.Sprintf("sh -c 'echo $$ >%s/int; exec sleep 100'\r", dir))
	pid := waitProc(dir+"/int", "S")
	send("\x03") // Ctrl-C
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + pid); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ctrl-C did not end sleep %s:\n%s", pid, term.output())
		}
	}
	send("echo $((6*7))y\r")
	term.waitFor(t, "42y")
	send(fmt.Sprintf("sh -c 'echo $$ >%s/stop; exec sleep 100'\r", dir))
	waitProc(dir+"/stop", "S")
	send("\x1a") // Ctrl-Z
	waitProc(dir+"/stop", "T")
	send("fg\r")
	pid = waitProc(dir+"/stop", "S")
	send("\x03")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + pid); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ctrl-C did not end sleep %s after fg:\n%s", pid, term.output())
		}
	}
	send("echo $((5*5))z\r")
	term.waitFor(t, "25z")
	send("exit 3\r")
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("setns exited with %v, want status 3\n%s", err, term.output())
	}
}

// TestUserTerminalStartFailureUndoesCreate: with --user on a terminal,
// setns starts COMMAND as a child on a relayed pty; when that start fails
// (root can see the program, the user may not run it), the namespace
// setns created for the run is removed again, as after a failed exec.
func TestUserTerminalStartFailureUndoesCreate(t *testing.T) {
	nstest.RequireRoot(t)
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	prog := t.TempDir() + "/root-only"
	copyFile(t, "/bin/true", prog, 0o700) // executable for root only
	name := nstest.TempName(t)
	t.Cleanup(func() { netns.Delete(name) })
	term := newTerminal(t)
	cmd := setnsCmd("--user", "nstest-user", name, prog)
	term.start(t, cmd)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 126 {
		t.Errorf("setns: %v, want exit status 126\n%s", err, term.output())
	}
	term.waitFor(t, "permission denied")
	if _, err := os.Lstat(netns.RunDir + "/" + name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s after the failed start: %v, want it removed", name, err)
	}
}
