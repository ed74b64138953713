package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/setns/setns/netns"
)

const usage = `Usage: setns [OPTIONS] NAME|PATH [COMMAND [ARG]...]
       setns [OPTIONS] --path FILE|--pid PID [COMMAND [ARG]...]

Run COMMAND (default: $SHELL, else /bin/sh) in the network namespace NAME,
as created by "ip netns add NAME", creating it if it does not exist, or in
the namespace file at PATH. The command gets the environment of
"ip netns exec" and keeps setns's PID.

Options:
  --no-create   fail if NAME does not exist instead of creating it
  --path FILE   enter the namespace file FILE (no create, no /etc binds)
  --pid PID     enter the network namespace of process PID
  --bare        only setns(2) and exec, like nsenter --net: no mount namespace
  -h, --help    print this help and exit

Exit status: COMMAND's own; 1 if setns fails; 126 if COMMAND cannot be
executed; 127 if COMMAND is not found.
`

// options is a parsed command line.
type options struct {
	name     string // NAME, or "" with --path/--pid
	path     string // --path, or NAME when it contains "/"
	pid      int    // --pid
	noCreate bool
	bare     bool
	argv     []string // COMMAND and its arguments; never empty
}

// errHelp asks for the usage on stdout and exit 0.
var errHelp = errors.New("help requested")

// usageError is a bad command line: one line, then a hint to try -h.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parse reads the command line. Flags end at the first non-flag argument,
// so "setns blue ip -o link" passes -o to ip; "--" ends them too.
func parse(args []string, getenv func(string) string) (*options, error) {
	fl := flag.NewFlagSet("setns", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	var o options
	var help bool
	var pid string
	fl.BoolVar(&help, "h", false, "")
	fl.BoolVar(&help, "help", false, "")
	fl.BoolVar(&o.noCreate, "no-create", false, "")
	fl.BoolVar(&o.bare, "bare", false, "")
	fl.StringVar(&o.path, "path", "", "")
	fl.StringVar(&pid, "pid", "", "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{err.Error()}
	}
	if help {
		return nil, errHelp
	}
	rest := fl.Args()
	if pid != "" {
		n, err := strconv.Atoi(pid)
		if err != nil || n <= 0 {
			return nil, &usageError{fmt.Sprintf("invalid PID %q", pid)}
		}
		o.pid = n
	}
	switch {
	case o.path != "" && o.pid != 0:
		return nil, &usageError{"--path and --pid exclude each other"}
	case o.path != "" || o.pid != 0:
	case len(rest) == 0:
		return nil, &usageError{"missing namespace NAME"}
	case strings.Contains(rest[0], "/"):
		o.path, rest = rest[0], rest[1:]
	default:
		o.name, rest = rest[0], rest[1:]
	}
	o.argv = rest
	if len(o.argv) == 0 {
		sh := getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		o.argv = []string{sh}
	}
	return &o, nil
}

// run is setns without the process around it; it returns the exit status.
// On success it does not return at all: the command replaces the process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parse(args, os.Getenv)
	if err == errHelp {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "setns: %v\nTry 'setns -h' for more information.\n", err)
		return 1
	}
	// Find the command before anything is created, so a typo leaves no
	// namespace behind.
	prog, err := exec.LookPath(o.argv[0])
	if err != nil {
		return fail(stderr, &netns.Error{Op: "exec", Name: o.argv[0], Err: lookError(err)})
	}
	ns, err := open(o)
	if err != nil {
		return fail(stderr, err)
	}
	err = ns.Exec(prog, o.argv, os.Environ(), &netns.ExecOptions{
		Bare: o.bare,
		Warn: func(err error) { fmt.Fprintf(stderr, "setns: warning: %v\n", err) },
	})
	return fail(stderr, err)
}

// open finds the namespace the options name, creating it if need be.
func open(o *options) (*netns.NS, error) {
	switch {
	case o.pid != 0:
		return netns.OpenPID(o.pid)
	case o.path != "":
		return netns.OpenPath(o.path)
	case o.noCreate:
		return netns.Open(o.name)
	}
	ns, _, err := netns.Ensure(o.name, nil)
	return ns, err
}

// lookError unwraps exec.LookPath's error to its cause.
func lookError(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// fail prints err as one line and returns the exit status it calls for:
// 127 when the command does not exist, 126 when it cannot be executed,
// 1 for everything else.
func fail(stderr io.Writer, err error) int {
	msg := err.Error()
	if h := netns.Hint(err); h != "" && !isExec(err) {
		msg += " (" + h + ")"
	}
	fmt.Fprintf(stderr, "setns: %s\n", msg)
	if !isExec(err) {
		return 1
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		return 127
	}
	return 126
}

func isExec(err error) bool {
	var e *netns.Error
	return errors.As(err, &e) && e.Op == "exec"
}
