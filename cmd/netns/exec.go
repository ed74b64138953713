package main

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/setns/setns/internal/pty"
	"github.com/setns/setns/internal/runas"
	"github.com/setns/setns/netns"
)

// exec is "ip netns exec NAME CMD...": run CMD inside NAME in the
// environment ip gives it (a private mount namespace, a fresh /sys,
// /etc/netns/NAME bound over /etc). Like ip it does not fork: CMD
// replaces netns and keeps its PID, so the exit status is CMD's own; 255
// if entering NAME fails, 1 if CMD cannot be executed. In a batch, or
// with -all for every name, CMD runs as a child instead.
func (c *cmd) exec(args []string) result {
	args, r := c.execFlags(args)
	if r.code != 0 {
		return r
	}
	if c.opt.all {
		return c.execAll(args)
	}
	if len(args) < 1 {
		return c.fail(1, "exec: no namespace name given")
	}
	if len(args) < 2 {
		return c.fail(1, "exec: no command given")
	}
	if c.batch {
		return c.execChild(args[0], args[1:])
	}
	ns, err := netns.Open(args[0])
	if err != nil {
		return c.fail(255, "%v", err)
	}
	prog, err := lookPath(args[1])
	if err != nil {
		return c.fail(1, "exec %q: %v", args[1], err)
	}
	c.out.Flush()
	if c.usePTY() {
		// A command run as another user must not get root's terminal:
		// netns stays, as its parent, and relays a new pty to it.
		defer ns.Close()
		cmd := &exec.Cmd{Path: prog, Args: args[1:], Env: c.execEnv(), Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr}
		err := c.startWait(ns, cmd)
		if cmd.ProcessState == nil {
			return c.fail(execStatus(err), "%v", err)
		}
		if ws, isWait := cmd.ProcessState.Sys().(syscall.WaitStatus); isWait && ws.Signaled() {
			return result{code: 128 + int(ws.Signal())} // as a shell reports the exec'd command's death
		}
		return result{code: cmd.ProcessState.ExitCode()}
	}
	err = ns.Exec(prog, args[1:], c.execEnv(), c.execOptions())
	return c.fail(execStatus(err), "%v", err)
}

// usePTY tells whether exec --user runs COMMAND through pty.Run, as a
// child in a session of its own: when any of its standard files is a
// terminal (it then gets a pty of its own), or netns has a controlling
// terminal, which COMMAND could otherwise open as /dev/tty.
func (c *cmd) usePTY() bool {
	if c.execUser == nil {
		return false
	}
	var files []*os.File
	for _, f := range []any{c.stdin, c.stdout, c.stderr} {
		if f, isFile := f.(*os.File); isFile {
			files = append(files, f)
		}
	}
	return pty.Needed(files...)
}

// startWait starts cmd inside ns and waits for it; with usePTY on a new
// pty, passing on the signals that would end netns.
func (c *cmd) startWait(ns *netns.NS, cmd *exec.Cmd) error {
	if !c.usePTY() {
		if err := ns.Start(cmd, c.execOptions()); err != nil {
			return err
		}
		return cmd.Wait()
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, pty.Forwarded...)
	defer signal.Stop(sigs)
	start := func(cmd *exec.Cmd) error { return ns.Start(cmd, c.execOptions()) }
	return pty.Run(cmd, start, int(c.execUser.Cred.UID), sigs)
}

// execStatus is ip's status for a failed exec: 1 when execve failed, 255
// when entering the namespace did.
func execStatus(err error) int {
	var e *netns.Error
	if errors.As(err, &e) && e.Op == "exec" {
		return 1
	}
	return 255
}

func (c *cmd) execOptions() *netns.ExecOptions {
	o := &netns.ExecOptions{Warn: c.warn, DNS: c.execDNS, PreserveFDs: c.execPreserve}
	if c.execUser != nil {
		o.Credential = &c.execUser.Cred
	}
	return o
}

// execEnv is the command's environment: netns's own, or with --user the
// one setns gives (runas.User.Env).
func (c *cmd) execEnv() []string {
	if c.execUser != nil {
		return c.execUser.Env(os.Environ())
	}
	return os.Environ()
}

// execFlags takes exec's own options off the front of args: --user
// USER[:GROUP], --preserve-fds N and --dns ADDR (repeatable; also
// --user=... and so on). ip netns exec has none, so without them exec is
// exactly ip's. A bad or empty value is a usage error (255), as ip's bad
// arguments are.
func (c *cmd) execFlags(args []string) ([]string, result) {
	c.execUser, c.execDNS, c.execPreserve = nil, nil, 0
	preserve := false
	for len(args) > 0 {
		opt, val, inline := strings.Cut(args[0], "=")
		if opt != "--user" && opt != "--dns" && opt != "--preserve-fds" {
			break
		}
		if !inline {
			if len(args) < 2 {
				return nil, c.die(255, "exec: %s needs a value", opt)
			}
			val, args = args[1], args[1:]
		}
		args = args[1:]
		if val == "" {
			return nil, c.die(255, "exec: %s needs a value", opt)
		}
		if opt == "--preserve-fds" {
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 1<<20 {
				return nil, c.die(255, "exec: --preserve-fds %q: not a descriptor count", val)
			}
			c.execPreserve, preserve = n, true
			continue
		}
		if opt == "--dns" {
			if _, err := netip.ParseAddr(val); err != nil {
				return nil, c.die(255, "exec: --dns %q: not an IP address", val)
			}
			c.execDNS = append(c.execDNS, val)
			continue
		}
		u, err := runas.Lookup(val)
		if err != nil {
			return nil, c.die(255, "exec: --user: %v", err)
		}
		c.execUser = u
	}
	if preserve && c.execUser == nil {
		return nil, c.die(255, "exec: --preserve-fds needs --user: without it no descriptor is closed")
	}
	return args, ok
}

// lookPath finds a command as execvp(3) does for ip: in $PATH unless it
// contains a slash. A relative result from "." in $PATH is used too,
// where exec.LookPath would refuse it.
func lookPath(file string) (string, error) {
	p, err := exec.LookPath(file)
	if errors.Is(err, exec.ErrDot) {
		err = nil
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *fs.PathError // "stat PATH": the caller's message names it
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return p, err
}

// execAll is "ip -all netns exec CMD...": for each name in directory
// order, print "\nnetns: NAME\n" and run CMD inside it as a child. The
// children's statuses are ignored (status 0), except that a child killed
// by a signal stops everything with status 1, as in ip.
func (c *cmd) execAll(argv []string) result {
	if len(argv) < 1 {
		return c.fail(1, "exec: no command given")
	}
	names, err := netns.List()
	if err != nil {
		return c.fail(1, "%v", err)
	}
	for _, name := range names {
		c.out.WriteString("\nnetns: " + name + "\n")
		if r := c.execChild(name, argv); r.exit {
			return r
		}
	}
	return ok
}

// execChild runs argv inside name as a child and waits for it, as ip's
// cmd_exec does in a batch or with -all. The result is the child's exit
// status; a failure to set it up gives 1, as ip's child exits 1 then
// (iproute2 6.9 and later; 6.1's child went on running the batch). A
// child killed by a signal ends netns at once with status 1.
func (c *cmd) execChild(name string, argv []string) result {
	ns, err := netns.Open(name)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	defer ns.Close()
	prog, err := lookPath(argv[0])
	if err != nil {
		return c.fail(1, "exec %q: %v", argv[0], err)
	}
	cmd := &exec.Cmd{Path: prog, Args: argv, Env: c.execEnv(), Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr}
	c.out.Flush()
	err = c.startWait(ns, cmd)
	if cmd.ProcessState == nil {
		return c.fail(1, "%v", err)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, isWait := ee.Sys().(syscall.WaitStatus); isWait && ws.Signaled() {
			return c.die(1, "exec %q in %q: %v", argv[0], name, ws.Signal())
		}
		return result{code: ee.ExitCode()}
	}
	if err != nil {
		return c.fail(1, "exec %q in %q: %v", argv[0], name, err)
	}
	return ok
}

// switchNetns does what ip's "-n NAME" does, one switch per -n in order:
// it enters each NAME (a name with "/" is a path below the run directory,
// as in ip 6.1) and then, when proceed is set, runs netns again inside
// the last one with the -n options left out, so that everything it does,
// every netlink socket and /sys, is NAME's. That returns only on failure.
// A failure gives status 255; -1 means go on (proceed unset).
func (c *cmd) switchNetns(names, argv []string, proceed bool) int {
	var last *netns.NS
	for _, name := range names {
		if last != nil {
			last.Close()
		}
		var err error
		if last, err = openSwitch(name); err != nil {
			c.fail(255, "-n %q: %v", name, cause(err))
			return 255
		}
	}
	defer last.Close()
	if !proceed {
		return -1
	}
	self := append([]string{os.Args[0]}, argv...)
	err := last.Exec("/proc/self/exe", self, os.Environ(), c.execOptions())
	c.fail(255, "-n %q: %v", names[len(names)-1], err)
	return 255
}

// openSwitch opens the namespace "-n NAME" names.
func openSwitch(name string) (*netns.NS, error) {
	if netns.ValidName(name) != nil {
		// ip opens RUN_DIR/NAME whatever NAME is: "../../proc/1/ns/net"
		// works, "" is the directory itself (refused).
		return netns.OpenPath(pathOf(name))
	}
	return netns.Open(name)
}
