package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/internal/pty"
)

// TestExecUserDescriptors: exec --user closes the descriptors root had
// open ("exec 7</etc/shadow" stays root's) unless --preserve-fds keeps
// them; empty values and ids of 4294967295 are usage errors (255) that
// run nothing.
func TestExecUserDescriptors(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	out := sandboxed(t, `
ip netns add a
echo root-only-secret >/run/secret; chmod 600 /run/secret
exec 7</run/secret
$NETNS exec --user nobody a sh -c 'exec 2>/dev/null; cat <&7 || echo closed'
$NETNS exec --user nobody --preserve-fds 5 a sh -c 'cat <&7'
exec 7</run/secret
$NETNS -all exec --user=nobody --preserve-fds=4 sh -c 'exec 2>/dev/null; cat <&7 || echo closed'
$NETNS exec a sh -c 'cat <&7'
for bad in "--user=" "--dns=" "--preserve-fds=" "--preserve-fds=1" "--user=nobody --preserve-fds=-1" \
	"--user=4294967295" "--user=nobody:4294967295"; do
	$NETNS exec $bad a touch /run/ran 2>/dev/null; echo "$bad rc=$?"
done
$NETNS exec --user '' a touch /run/ran 2>&1; echo "rc=$?"
test -e /run/ran && echo ran || true
`)
	want := "closed\nroot-only-secret\n\nnetns: a\nclosed\nroot-only-secret\n" +
		"--user= rc=255\n--dns= rc=255\n--preserve-fds= rc=255\n--preserve-fds=1 rc=255\n" +
		"--user=nobody --preserve-fds=-1 rc=255\n--user=4294967295 rc=255\n--user=nobody:4294967295 rc=255\n" +
		"netns: exec: --user needs a value\nrc=255\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestExecUserOwnTerminal: from a terminal, exec --user runs COMMAND on
// a pty of its own, in a session of its own, so that TIOCSTI on its
// terminal cannot reach root's; its exit status is netns's.
func TestExecUserOwnTerminal(t *testing.T) {
	nstest.RequireIP(t)
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer s.Close()
	var mu bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			mu.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	outer, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", s.Fd()))
	// perl pushes a line into its terminal with TIOCSTI (0x5412).
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed: it is the TIOCSTI probe here")
	}
	script := `mount -t tmpfs nstest /run; ip netns add a
exec "$NETNS" exec --user nobody a perl -e 'ioctl(STDIN, 0x5412, $_) for split //, "echo INJECTED\n"; print readlink("/proc/self/fd/0"), "\n"; exit 7'`
	cmd := exec.Command("unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "NETNS_RUN_MAIN=1", "NETNS="+self)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err = cmd.Wait()
	if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != 7 {
		t.Errorf("exit %v, want status 7", err)
	}
	if n, err := pty.Queued(s); err != nil || n != 0 {
		t.Errorf("root's terminal has %d bytes of input queued (%v): the command typed into it", n, err)
	}
	// What netns relayed may still be in the outer pty: read it all
	// (the reader ends at the deadline), then close.
	m.SetReadDeadline(time.Now().Add(time.Second))
	<-done
	m.Close()
	if got := mu.String(); !strings.Contains(got, "/dev/pts/") || strings.Contains(got, outer+"\r") {
		t.Errorf("the command's terminal: %q, want a /dev/pts other than root's %s", got, outer)
	}
}

// TestExecUserNoTerminalStdio: with every standard file redirected,
// exec --user (and -all exec --user) run from root's terminal still give
// COMMAND no controlling terminal: /dev/tty does not open, and nothing is
// typed into root's terminal with TIOCSTI.
func TestExecUserNoTerminalStdio(t *testing.T) {
	nstest.RequireIP(t)
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed: it is the TIOCSTI probe here")
	}
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer s.Close()
	// perl opens /dev/tty and pushes a line into it with TIOCSTI (0x5412).
	probe := `open(T, "+<", "/dev/tty") or do { print "no tty\n"; exit 0 };
		ioctl(T, 0x5412, $_) for split //, "echo INJECTED\n"; print "tty\n"`
	script := `mount -t tmpfs nstest /run; ip netns add a
"$NETNS" exec --user nobody a perl -e '` + probe + `' </dev/null 2>&1
"$NETNS" -all exec --user nobody perl -e '` + probe + `' </dev/null 2>&1`
	cmd := exec.Command("unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "NETNS_RUN_MAIN=1", "NETNS="+self)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.ExtraFiles = []*os.File{s} // the terminal is only the controlling one
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if want := "no tty\n\nnetns: a\nno tty\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	if n, err := pty.Queued(s); err != nil || n != 0 {
		t.Errorf("root's terminal has %d bytes of input queued (%v): the command typed into it", n, err)
	}
}
