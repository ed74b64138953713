package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"

	"github.com/setns/setns/internal/rootless"
	"github.com/setns/setns/internal/runas"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

const usage = `Usage: setns [OPTIONS] NAME|PATH [COMMAND [ARG]...]
       setns [OPTIONS] --path FILE|--pid PID [COMMAND [ARG]...]
       setns [OPTIONS] --temp [NAME|-] [COMMAND [ARG]...]

Run COMMAND (default: $SHELL, else /bin/sh) in the network namespace NAME,
as created by "ip netns add NAME", creating it if it does not exist, or in
the namespace file at PATH. The command gets the environment of
"ip netns exec", keeps setns's PID, and finds NAME in $NETNS_NAME.
A namespace root delegated to you ("netns add --owner") needs no sudo.
Run as a normal user, NAME is one of your own, in $XDG_RUNTIME_DIR/netns
(rootless mode), never the host's.

Options:
  --no-create          fail if NAME does not exist instead of creating it
  --path FILE          enter the namespace file FILE (no create, no /etc binds)
  --pid PID            enter the network namespace of process PID
  --bare               only setns(2) and exec, like nsenter --net: no mount namespace
  --user USER[:GROUP]  run COMMAND as USER (name or id; a number is an id),
                       with no capabilities (uid 0 keeps root's), no open
                       descriptor past 2, and on a new pty if on a terminal
  --preserve-fds N     with --user, keep descriptors 3 to 3+N-1 open
  --no-lo              leave loopback down in a namespace setns creates
  --dns ADDR           give COMMAND a resolv.conf naming ADDR (repeatable)
  --sysctl KEY=VALUE   set a net.* sysctl inside before COMMAND runs (repeatable)
  --temp               create NAME (or, for "-" or none, a fresh name), run
                       COMMAND as a child, delete the namespace when it exits
  --uplink[=MODE]      connect NAME to the internet (as "netns connect", MODE
                       nat or pasta; pasta, the only one, when rootless)
                       while COMMAND runs, as its parent;
                       COMMAND finds the addresses in $NETNS_IP and
                       $NETNS_HOST_IP
  --publish SPEC       with --uplink, forward [HOSTIP:]HOSTPORT of the host to
                       PORT in NAME, TCP or /udp (repeatable)
  -h, --help           print this help and exit

Exit status: COMMAND's own (128+N if it dies from signal N under --temp
or --uplink);
1 if setns fails; 126 if COMMAND cannot be executed; 127 if COMMAND is not
found.
`

// options is a parsed command line.
type options struct {
	name     string // NAME, or "" with --path/--pid (and --temp without one)
	path     string // --path, or NAME when it contains "/"
	pid      int    // --pid
	noCreate bool
	bare     bool
	user     string   // --user spec
	preserve int      // --preserve-fds
	noLo     bool     // --no-lo
	dns      []string // --dns
	sysctls  []sysctl // --sysctl
	temp     bool
	uplink   uplink.Mode      // --uplink[=MODE]; "" without
	natNamed bool             // --uplink=nat, not --uplink alone
	publish  []uplink.Publish // --publish
	argv     []string         // COMMAND and its arguments; never empty
}

type sysctl struct{ key, value string }

// errHelp asks for the usage on stdout and exit 0.
var errHelp = errors.New("help requested")

// usageError is a bad command line: one line, then a hint to try -h.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// listFlag collects the values of a repeatable option, checking each.
type listFlag struct {
	add func(string) error
}

func (l listFlag) String() string     { return "" }
func (l listFlag) Set(v string) error { return l.add(v) }

// valueFlag is an option that takes a value, which must not be empty:
// an empty --user must not mean "no --user".
type valueFlag struct{ p *string }

func (f valueFlag) String() string { return "" }
func (f valueFlag) Set(v string) error {
	if v == "" {
		return errEmpty
	}
	*f.p = v
	return nil
}

var errEmpty = errors.New("empty value")

// oneLine refuses a value that the kernel would read as more than one
// line, or cut at a NUL byte.
func oneLine(v string) error {
	if strings.ContainsAny(v, "\n\x00") {
		return errors.New("value must be one line, without NUL")
	}
	return nil
}

// optionError rewrites an error of Go's flag package, which spells every
// option with one dash ("flag needs an argument: -user"), to name the
// option as -h and the documentation spell it: "option --user needs a
// value", "unknown option --bogus", `invalid value "x" for option --dns:
// not an IP address`.
func optionError(err error) string {
	msg := err.Error()
	spell := func(name string) string {
		name = strings.TrimLeft(name, "-")
		if len(name) == 1 {
			return "-" + name
		}
		return "--" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "option " + spell(name) + " needs a value"
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown option " + spell(name)
	}
	for _, sep := range []string{" for flag ", " for "} { // invalid [boolean] value "V" for [flag] -NAME: CAUSE
		if head, tail, ok := strings.Cut(msg, sep); ok && strings.HasPrefix(head, "invalid ") && strings.HasPrefix(tail, "-") {
			name, cause, _ := strings.Cut(tail, ": ")
			return head + " for option " + spell(name) + ": " + cause
		}
	}
	return msg
}

// parse reads the command line. Flags end at the first non-flag argument,
// so "setns blue ip -o link" passes -o to ip; "--" ends them too.
func parse(args []string, getenv func(string) string) (*options, error) {
	fl := flag.NewFlagSet("setns", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	var o options
	var help bool
	var pid, preserve string
	fl.BoolVar(&help, "h", false, "")
	fl.BoolVar(&help, "help", false, "")
	fl.BoolVar(&o.noCreate, "no-create", false, "")
	fl.BoolVar(&o.bare, "bare", false, "")
	fl.Var(valueFlag{&o.path}, "path", "")
	fl.Var(valueFlag{&pid}, "pid", "")
	fl.Var(valueFlag{&o.user}, "user", "")
	fl.Var(valueFlag{&preserve}, "preserve-fds", "")
	fl.BoolVar(&o.noLo, "no-lo", false, "")
	fl.BoolVar(&o.temp, "temp", false, "")
	fl.Var(uplinkFlag{&o.uplink, &o.natNamed}, "uplink", "")
	fl.Var(listFlag{func(v string) error {
		p, err := uplink.ParsePublish(v)
		if err == nil {
			o.publish = append(o.publish, p)
		}
		return err
	}}, "publish", "")
	fl.Var(listFlag{func(v string) error {
		if v == "" {
			return errEmpty
		}
		if _, err := netip.ParseAddr(v); err != nil {
			return fmt.Errorf("not an IP address")
		}
		o.dns = append(o.dns, v)
		return nil
	}}, "dns", "")
	fl.Var(listFlag{func(v string) error {
		if v == "" {
			return errEmpty
		}
		if err := oneLine(v); err != nil {
			return err
		}
		k, val, ok := strings.Cut(v, "=")
		k = strings.TrimSpace(k)
		if !ok || !strings.HasPrefix(k, "net.") && !strings.HasPrefix(k, "net/") {
			return fmt.Errorf("want KEY=VALUE with a net.* KEY")
		}
		o.sysctls = append(o.sysctls, sysctl{k, strings.TrimSpace(val)})
		return nil
	}}, "sysctl", "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{optionError(err)}
	}
	if help {
		return nil, errHelp
	}
	if pid != "" {
		n, err := strconv.Atoi(pid)
		if err != nil || n <= 0 {
			return nil, &usageError{fmt.Sprintf("invalid PID %q", pid)}
		}
		o.pid = n
	}
	if preserve != "" {
		n, err := strconv.Atoi(preserve)
		if err != nil || n < 0 || n > 1<<20 {
			return nil, &usageError{fmt.Sprintf("invalid descriptor count %q", preserve)}
		}
		if o.user == "" {
			return nil, &usageError{"--preserve-fds needs --user: without it no descriptor is closed"}
		}
		o.preserve = n
	}
	rest, err := o.positional(fl.Args())
	if err != nil {
		return nil, err
	}
	if err := o.checkUplink(); err != nil {
		return nil, err
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

// positional takes NAME or PATH off rest and checks the options agree.
func (o *options) positional(rest []string) ([]string, error) {
	unnamed := o.path != "" || o.pid != 0
	switch {
	case o.path != "" && o.pid != 0:
		return nil, &usageError{"--path and --pid exclude each other"}
	case o.temp && (unnamed || o.noCreate):
		return nil, &usageError{"--temp creates a namespace: it excludes --path, --pid and --no-create"}
	case o.temp && len(rest) > 0 && strings.Contains(rest[0], "/"):
		return nil, &usageError{"--temp needs a NAME, not a path"}
	case o.temp && len(rest) > 0:
		if rest[0] != "-" {
			o.name = rest[0]
		}
		rest = rest[1:]
	case unnamed:
	case len(rest) == 0:
		return nil, &usageError{"missing namespace NAME"}
	case strings.Contains(rest[0], "/"):
		o.path, rest = rest[0], rest[1:]
	default:
		o.name, rest = rest[0], rest[1:]
	}
	if o.bare && (len(o.dns) > 0 || o.temp) {
		return nil, &usageError{"--bare has no mount namespace: it excludes --dns and --temp"}
	}
	return rest, nil
}

// run is setns without the process around it; it returns the exit status.
// Without --temp it does not return on success: the command replaces it.
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
	if code, done := enterOwner(o, stderr); done {
		return code
	}
	if rootless.Active() && o.path == "" && o.pid == 0 {
		// Not root: the user's own namespaces (rootless mode).
		if o.natNamed {
			fmt.Fprintf(stderr, "setns: rootless mode: --uplink=nat needs root on the host (--uplink alone connects with pasta)\n")
			return 1
		}
		fmt.Fprintf(stderr, "setns: rootless mode: %v\n", rootless.Enter())
		return 1
	}
	warn := func(err error) { fmt.Fprintf(stderr, "setns: warning: %v\n", err) }
	execOpts := &netns.ExecOptions{Bare: o.bare, Warn: warn, DNS: o.dns, FixLoopbackDNS: !o.bare,
		PreserveFDs: o.preserve}
	env := os.Environ()
	if o.user != "" {
		u, err := runas.Lookup(o.user)
		if err != nil {
			return fail(stderr, err)
		}
		execOpts.Credential = &u.Cred
		env = u.Env(env)
	}
	// Find the command before anything is created, so a typo leaves no
	// namespace behind.
	prog, err := exec.LookPath(o.argv[0])
	if err != nil {
		return fail(stderr, &netns.Error{Op: "exec", Name: o.argv[0], Err: lookError(err)})
	}
	createOpts := &netns.CreateOptions{NoLoopback: o.noLo, Warn: warn}
	if o.temp {
		return runTemp(o, prog, env, createOpts, execOpts, stdin, stdout, stderr)
	}
	ns, created, err := open(o, createOpts)
	if err != nil {
		return fail(stderr, err)
	}
	// From here, a failure before the command runs undoes the create:
	// the name goes again, but only while it still refers to ours.
	undo := func(err error) int {
		code := fail(stderr, err)
		if created {
			if err := deleteOurs(o.name, ns); err != nil {
				fmt.Fprintf(stderr, "setns: %v\n", err)
				return max(code, 1)
			}
		}
		return code
	}
	if err := applySysctls(ns, o.sysctls); err != nil {
		return undo(err)
	}
	if o.uplink != "" {
		code, err := runUplinked(o, ns, prog, env, execOpts, stdin, stdout, stderr)
		if err != nil {
			return undo(err)
		}
		return code
	}
	if usePTY(execOpts, stdin, stdout, stderr) {
		// The command must not get root's terminal: setns stays, as its
		// parent, and relays a new pty to it (see runChild).
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, forwarded...)
		defer signal.Stop(sigs)
		defer ns.Close()
		cmd := &exec.Cmd{Path: prog, Args: o.argv, Env: withName(env, o.name),
			Stdin: stdin, Stdout: stdout, Stderr: stderr}
		code, err := runChild(ns, cmd, execOpts, sigs, stderr)
		if err != nil {
			return undo(err)
		}
		return code
	}
	err = ns.Exec(prog, o.argv, withName(env, o.name), execOpts)
	return undo(err)
}

// deleteOurs removes name if it still refers to ns, the namespace this
// run made; a name someone else deleted or made again is left alone
// (nil). A failed Exec leaves the caller's thread as it was, in the
// host's mount namespace, so the name is removed where it was made.
func deleteOurs(name string, ns *netns.NS) error {
	err := netns.DeleteIf(name, ns)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, netns.ErrNotSame) {
		return nil
	}
	return err
}

// open finds the namespace the options name, creating it if need be.
func open(o *options, createOpts *netns.CreateOptions) (ns *netns.NS, created bool, err error) {
	switch {
	case o.pid != 0:
		ns, err = netns.OpenPID(o.pid)
	case o.path != "":
		ns, err = netns.OpenPath(o.path)
	case o.noCreate:
		ns, err = netns.Open(o.name)
	default:
		return netns.Ensure(o.name, createOpts)
	}
	return ns, false, err
}

func applySysctls(ns *netns.NS, list []sysctl) error {
	for _, s := range list {
		if err := ns.SetSysctl(s.key, s.value); err != nil {
			return err
		}
	}
	return nil
}

// withName sets NETNS_NAME to name in env (removes it when name is ""),
// so the command and its children can tell where they run.
func withName(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NETNS_NAME=") && !strings.HasPrefix(kv, ownerEnv+"=") {
			out = append(out, kv)
		}
	}
	if name != "" {
		out = append(out, "NETNS_NAME="+name)
	}
	return out
}

// lookError unwraps exec.LookPath's error to its cause, without the
// "stat PATH" of a path that does not exist: the message names it already.
func lookError(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
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
