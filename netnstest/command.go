package netnstest

import (
	"bytes"
	"errors"
	"os/exec"
	"sync"
	"testing"

	"github.com/setns/setns/netns"
)

// Cmd is an exec.Cmd that starts inside a namespace. Use it as an
// exec.Cmd (set Stdin, Stdout, Env, ...), but call its own Start, Run,
// Output and CombinedOutput, which start the command with
// (*netns.NS).Start; the embedded exec.Cmd's Start would run it in the
// test's own namespace.
type Cmd struct {
	*exec.Cmd
	// Options adjust the environment (see netns.ExecOptions); nil is that
	// of "ip netns exec".
	Options  *netns.ExecOptions
	ns       *netns.NS
	waitOnce sync.Once
	waitErr  error
}

// Command returns a command that runs name with args inside ns, in the
// environment of "ip netns exec" (a private mount namespace with the
// namespace's /sys and /etc/netns/NAME files). Name is looked up in PATH
// as by exec.Command. The command is killed when the test's context ends
// (just before cleanup), and a cleanup waits for it. The calling thread is
// never moved, and no thread stays in ns while the command runs (so no
// parent-death signal is set: one would need the forking thread kept alive,
// in ns, for the command's life).
func Command(t testing.TB, ns *netns.NS, name string, args ...string) *Cmd {
	t.Helper()
	c := &Cmd{Cmd: exec.CommandContext(t.Context(), name, args...), ns: ns}
	t.Cleanup(func() {
		if c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	})
	return c
}

// Start starts the command inside the namespace; see exec.Cmd.Start.
func (c *Cmd) Start() error { return c.ns.Start(c.Cmd, c.Options) }

// Wait waits for the command; see exec.Cmd.Wait. It may be called more
// than once, from any goroutine, and always returns the same result.
func (c *Cmd) Wait() error {
	c.waitOnce.Do(func() { c.waitErr = c.Cmd.Wait() })
	return c.waitErr
}

// Run starts the command and waits for it; see exec.Cmd.Run.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the command and returns its standard output; see
// exec.Cmd.Output, whose *exec.ExitError gets the captured stderr too.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var out, stderr bytes.Buffer
	c.Stdout = &out
	captureErr := c.Stderr == nil
	if captureErr {
		c.Stderr = &stderr
	}
	err := c.Run()
	var ee *exec.ExitError
	if captureErr && errors.As(err, &ee) {
		ee.Stderr = stderr.Bytes()
	}
	return out.Bytes(), err
}

// CombinedOutput runs the command and returns its standard output and
// standard error together; see exec.Cmd.CombinedOutput.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, errors.New("exec: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}
