package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/setns/setns/internal/pty"
	"github.com/setns/setns/netns"
)

// forwarded are the signals --temp and a relayed terminal pass on to
// COMMAND; setns itself stays alive until COMMAND exits, so it can delete
// the namespace and put the terminal back (see pty.Forwarded).
var forwarded = pty.Forwarded

// runTemp implements --temp: create a namespace that exists only while
// COMMAND runs. COMMAND is a child, not an exec, so that setns is still
// there to delete the namespace afterwards, whatever happens to COMMAND.
func runTemp(o *options, prog string, env []string, createOpts *netns.CreateOptions,
	execOpts *netns.ExecOptions, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...) // before the namespace exists
	defer signal.Stop(sigs)

	ns, name, err := createTemp(o.name, createOpts)
	if err != nil {
		return fail(stderr, err)
	}
	defer func() {
		ns.Close()
		// Only our namespace: if someone deleted the name and made it
		// again meanwhile, theirs stays.
		err := netns.DeleteIf(name, ns)
		switch {
		case err == nil, errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, netns.ErrNotSame):
			fmt.Fprintf(stderr, "setns: warning: %q now names another namespace: left it\n", name)
		default:
			fmt.Fprintf(stderr, "setns: --temp: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}()
	if err := applySysctls(ns, o.sysctls); err != nil {
		return fail(stderr, err)
	}
	env, disconnect, err := connectUplink(o, ns, env) // --uplink
	if err != nil {
		return fail(stderr, err)
	}
	defer disconnect(stderr) // before the namespace goes
	cmd := &exec.Cmd{Path: prog, Args: o.argv, Env: withName(env, name),
		Stdin: stdin, Stdout: stdout, Stderr: stderr}
	code, err = runChild(ns, cmd, execOpts, sigs, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	return code
}

// usePTY tells whether COMMAND runs through pty.Run, as a child in a
// session of its own: when it runs as another user (--user) and any of
// its standard files is a terminal (it then gets a pty of its own), or
// setns has a controlling terminal, which COMMAND could otherwise open as
// /dev/tty even with every standard file redirected.
func usePTY(execOpts *netns.ExecOptions, files ...any) bool {
	if execOpts.Credential == nil {
		return false
	}
	var osFiles []*os.File
	for _, f := range files {
		if f, ok := f.(*os.File); ok {
			osFiles = append(osFiles, f)
		}
	}
	return pty.Needed(osFiles...)
}

// runChild starts cmd inside ns as a child and waits for it, passing on
// the signals received on sigs, and returns its exit status. When usePTY
// says so, the command runs on a new pty in a new session, as sudo's
// use_pty does, and setns relays between it and the terminal: a command
// run as another user then cannot push input into root's terminal
// (TIOCSTI) or use it after setns exits.
//
// If the command never started, runChild prints nothing and returns the
// error, so the caller can undo what it made before reporting it.
func runChild(ns *netns.NS, cmd *exec.Cmd, execOpts *netns.ExecOptions, sigs <-chan os.Signal, stderr io.Writer) (int, error) {
	start := func(cmd *exec.Cmd) error {
		err := ns.Start(cmd, execOpts)
		var pe *fs.PathError
		if errors.As(err, &pe) { // fork/exec failed: report like an exec
			err = &netns.Error{Op: "exec", Name: cmd.Path, Err: pe.Err}
		}
		return err
	}
	var werr error
	if usePTY(execOpts, cmd.Stdin, cmd.Stdout, cmd.Stderr) {
		werr = pty.Run(cmd, start, int(execOpts.Credential.UID), sigs)
	} else if werr = start(cmd); werr == nil {
		stop := pty.Forward(cmd, sigs)
		werr = cmd.Wait()
		stop()
	}
	if cmd.Process == nil {
		return 0, werr
	}
	if cmd.ProcessState == nil {
		return fail(stderr, werr), nil
	}
	return exitStatus(cmd.ProcessState, werr, stderr), nil
}

// createTemp creates name, or a fresh name when name is "".
func createTemp(name string, opts *netns.CreateOptions) (*netns.NS, string, error) {
	if name != "" {
		ns, err := netns.Create(name, opts)
		return ns, name, err
	}
	for i := 0; ; i++ {
		n := fmt.Sprintf("setns-tmp-%d-%d", os.Getpid(), i)
		ns, err := netns.Create(n, opts)
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			return ns, n, err
		}
	}
}

// exitStatus is COMMAND's exit status as a shell reports it: its code, or
// 128+N when signal N killed it.
func exitStatus(ps *os.ProcessState, err error, stderr io.Writer) int {
	if ps == nil {
		fmt.Fprintf(stderr, "setns: wait: %v\n", err)
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
