package pty

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRun: a command whose stdout is a terminal gets a pty of its own,
// as its controlling terminal in a new session; its output reaches the
// terminal; a pipe on stdin stays a pipe; the terminal's settings are
// as before; Run returns the command's exit.
func TestRun(t *testing.T) {
	m, s, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer s.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	before, _ := getTermios(int(s.Fd()))
	outer, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", s.Fd()))
	cmd := exec.Command("sh", "-c", `readlink /proc/self/fd/0 /proc/self/fd/1; ps -o sid= -p $$; echo $$; exit 4`)
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = s, s
	err = Run(cmd, (*exec.Cmd).Start, os.Getuid(), nil)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
		t.Errorf("Run: %v, want exit status 4", err)
	}
	after, _ := getTermios(int(s.Fd()))
	if *before != *after {
		t.Errorf("terminal settings changed: %+v, want %+v", after, before)
	}
	m.SetReadDeadline(time.Now().Add(time.Second))
	<-done
	lines := strings.Fields(out.String())
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "pipe:") || !strings.HasPrefix(lines[1], "/dev/pts/") ||
		lines[1] == outer || lines[2] != lines[3] {
		t.Errorf("the command saw %q; want a pipe, a /dev/pts other than %s, and its own session", lines, outer)
	}
	if !IsTerminal(s) {
		t.Error("IsTerminal(pty slave) = false")
	}
}
