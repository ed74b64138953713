package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/setns/setns/internal/runas"
	"github.com/setns/setns/netns"
)

const usage = `Usage:	netns [OPTIONS] [list [--owners]]
	netns [OPTIONS] list-id [target-nsid N] [nsid M]
	netns [OPTIONS] add [--owner USER[:GROUP]] NAME
	netns [OPTIONS] attach NAME PID
	netns [OPTIONS] set NAME NETNSID
	netns [OPTIONS] [-all] delete [NAME]
	netns [OPTIONS] identify [PID]
	netns [OPTIONS] pids NAME
	netns [OPTIONS] [-all] exec [EXEC-OPTIONS] [NAME] COMMAND [ARG]...
	netns [OPTIONS] monitor
	netns [OPTIONS] doctor [--fix] [-j]
	netns [OPTIONS] link add NS1:IF1 NS2:IF2 [--addr CIDR [--addr CIDR]]
	netns [OPTIONS] link del NS:IF
	netns [OPTIONS] link list [NS] [-j]
	netns [OPTIONS] connect NAME [--subnet CIDR] [--pool CIDR] [--ipv6]
	                [--publish [HOSTIP:]HOSTPORT:PORT[/udp]]... [--mode nat|pasta]
	netns [OPTIONS] disconnect NAME|--all
	netns [OPTIONS] connections [-j]
	netns [OPTIONS] lab apply FILE [--dry-run] [-j]
	netns [OPTIONS] lab destroy FILE|LAB [-j]
	netns [OPTIONS] lab status [FILE|LAB] [-j]
	netns [OPTIONS] lab graph FILE|LAB [--mermaid]
	netns help
NETNSID := auto | POSITIVE-INT

Manage named network namespaces (/run/netns/NAME) verb for verb like
"ip netns": the same abbreviations, output and exit statuses.
Run as a normal user, netns works on your own namespaces, in
$XDG_RUNTIME_DIR/netns (rootless mode), never on the host's; connect
uses pasta there.

Options:
  -all              delete, exec: act on every namespace
  -j, -json         JSON output (list, list-id, doctor, link list, connections, lab)
  -p, -pretty       indent the JSON
  -b, -batch FILE   run "netns VERB ..." lines from FILE ("-": stdin)
  -force            in a batch, go on after a failed line
  -n, -netns NAME   run inside the namespace NAME
  -h, -help         print this help and exit

Exec options (none: exactly "ip netns exec"):
  --user USER[:GROUP]  run COMMAND as USER, with no capabilities (uid 0
                       keeps root's), no descriptor past 2, and on a new
                       pty if on a terminal
  --preserve-fds N     with --user, keep descriptors 3 to 3+N-1 open
  --dns ADDR           give COMMAND a resolv.conf naming ADDR (repeatable)

Add and list options (not in ip):
  --owner USER[:GROUP]  add: delegate NAME to USER, who can then enter and
                        configure it without root ("setns NAME", no sudo)
  --owners          list: show the owner of each delegated namespace

Link options (link is not in ip; NS "." is the namespace netns runs in):
  --addr CIDR       add CIDR to the first end; a second --addr, to the second

Connect options (NAME's uplink to the namespace netns runs in, and on
to whatever it reaches; one line printed, e.g.
"blue 10.251.0.2/30 via 10.251.0.1 (nat, out eth0)"):
  --subnet CIDR     use CIDR (IPv4, /30 or larger), not a free /30 of the pool
  --pool CIDR       take the /30 from CIDR (default 10.251.0.0/16)
  --ipv6            also a ULA /64, masqueraded (needs Linux 6.17)
  --publish SPEC    forward [HOSTIP:]HOSTPORT of the host to PORT in NAME,
                    TCP or /udp (repeatable)
  --mode MODE       nat (default: veth, forwarding, masquerade) or pasta
                    (pasta's user-space stack; nothing changes on the host)

Lab options (lab is not in ip; FILE is YAML or JSON, see netns(8)):
  --dry-run         apply: print the plan and change nothing
  --mermaid         graph: print Mermaid instead of Graphviz DOT

Doctor options:
  --fix             remove placeholders, junk, bad symlinks and empty
                    directories, unstack mounts; never a live namespace;
                    and uplink leftovers whose namespace is gone
  -j                print the findings as JSON
`

// cmd is one run of netns: the options, the streams, and what ip keeps
// for the whole run (its rtnetlink socket and its nsid-to-name cache).
type cmd struct {
	opt    options
	stdin  io.Reader
	stdout io.Writer     // unbuffered, handed to the commands exec runs
	out    *bufio.Writer // stdout, flushed before any child runs
	stderr io.Writer
	batch  bool // in a batch: exec forks, as ip does

	conn *netns.IDConn // dialed on first use; one per run
	// exec's own options (--user, --dns, --preserve-fds), for the exec being run.
	execUser     *runas.User
	execDNS      []string
	execPreserve int

	names   nameCache
	scanned []netns.NamedID // this verb's scan of the run directory, if any
}

// result is what a verb returns: the exit status ip gives for it, and
// whether ip exits on the spot (it calls exit() for usage errors, a
// failed list-id dump or a child killed by a signal), which ends a batch
// without a "command failed" line.
type result struct {
	code int
	exit bool
}

var ok = result{}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cmd{stdin: stdin, stdout: stdout, out: bufio.NewWriter(stdout), stderr: stderr}
	defer c.close()
	o, rest, keep, err := parseOptions(args)
	c.opt = o
	if !o.isBatch && !o.all {
		runtime.UnlockOSThread() // see init; exec locks what it needs itself
	}
	if len(o.netns) > 0 {
		// ip switches as it parses -n; every failure exits 255.
		if code := c.switchNetns(o.netns, keep, err == nil && !o.help && !o.version); code >= 0 {
			return code
		}
	}
	switch {
	case errors.Is(err, errHelpUsage):
		fmt.Fprint(stderr, usage)
		return 255
	case err != nil:
		fmt.Fprintf(stderr, "netns: %v\n", err)
		return 255
	case o.help:
		fmt.Fprint(c.out, usage)
		return 0
	case o.version:
		fmt.Fprintf(c.out, "netns utility, setns %s\n", version())
		return 0
	case o.isBatch:
		return c.runBatch(o.batch)
	}
	return c.dispatch(rest).code
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return "(unknown)"
}

func (c *cmd) close() {
	c.out.Flush()
	if c.conn != nil {
		c.conn.Close()
	}
}

// verbs is ip's verb table (do_netns in ip/ipnetns.c), in its order: a
// word selects the first verb it is a prefix of, so "s" is show, "a" is
// add and "d" is delete.
var verbs = []struct {
	names []string
	// scan: ip reads every name's nsid first (netns_map_init). list-id
	// does too, but only once its arguments are good (see listID).
	scan bool
	run  func(c *cmd, args []string) result
}{
	{[]string{"list", "show", "lst"}, true, (*cmd).list},
	{[]string{"list-id"}, false, (*cmd).listID},
	{[]string{"help"}, false, (*cmd).help},
	{[]string{"add"}, false, (*cmd).add},
	{[]string{"set"}, false, (*cmd).set},
	{[]string{"delete"}, false, (*cmd).delete},
	{[]string{"identify"}, false, (*cmd).identify},
	{[]string{"pids"}, false, (*cmd).pids},
	{[]string{"exec"}, false, (*cmd).exec},
	{[]string{"monitor"}, false, (*cmd).monitor},
	{[]string{"attach"}, false, (*cmd).attach},
	// Ours, last, so that every abbreviation ip accepts keeps its
	// meaning ("d" stays delete; "do" is doctor).
	{[]string{"doctor"}, false, (*cmd).doctor},
	// "link" only in full: "l" and "li" stay list, and "lin", unknown to
	// ip, stays unknown here.
	{[]string{"link"}, false, (*cmd).link},
	// The uplink verbs, only in full too ("c" and "con" mean nothing to ip).
	{[]string{"connect"}, false, (*cmd).connect},
	{[]string{"disconnect"}, false, (*cmd).disconnect},
	{[]string{"connections"}, false, (*cmd).connections},
	// "lab" only in full too: "l" and "la" are not lab.
	{[]string{"lab"}, false, (*cmd).lab},
}

// exactVerbs are verbs matched only when spelt out in full.
var exactVerbs = map[string]bool{"link": true, "connect": true, "disconnect": true, "connections": true, "lab": true}

// lookupVerb returns the index in verbs of the verb word selects, or -1.
func lookupVerb(word string) int {
	for i, v := range verbs {
		for _, n := range v.names {
			if matches(word, n) && (!exactVerbs[n] || word == n) {
				return i
			}
		}
	}
	return -1
}

// dispatch runs one netns command line (the words after the options, or
// a batch line without its "netns").
func (c *cmd) dispatch(args []string) result {
	c.scanned = nil
	if len(args) == 0 {
		c.initNames()
		return c.list(nil)
	}
	// ip checks the second word of every verb (unless -all), whatever
	// the verb is: "netns list .." is refused too.
	if !c.opt.all && len(args) > 1 && netns.ValidName(args[1]) != nil {
		return c.die(255, "invalid namespace name %q", args[1])
	}
	i := lookupVerb(args[0])
	if i < 0 {
		return c.die(255, "unknown command %q, try \"netns help\"", args[0])
	}
	if verbs[i].scan {
		c.initNames()
	}
	return verbs[i].run(c, args[1:])
}

func (c *cmd) help([]string) result {
	c.out.Flush()
	fmt.Fprint(c.stderr, usage)
	return result{255, true}
}

// fail prints one line on stderr and returns code.
func (c *cmd) fail(code int, format string, args ...any) result {
	c.out.Flush()
	fmt.Fprintf(c.stderr, "netns: "+format+"\n", args...)
	return result{code: code}
}

// die is fail for errors on which ip exits at once.
func (c *cmd) die(code int, format string, args ...any) result {
	r := c.fail(code, format, args...)
	r.exit = true
	return r
}

// warn prints a problem that does not change the outcome.
func (c *cmd) warn(err error) {
	c.out.Flush()
	fmt.Fprintf(c.stderr, "netns: warning: %v\n", err)
}

// dial opens the rtnetlink socket on first use.
func (c *cmd) dial() (*netns.IDConn, error) {
	if c.conn == nil {
		conn, err := netns.DialIDs()
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	return c.conn, nil
}

// cause returns what went wrong inside a library error, for messages that
// name the namespace their own way.
func cause(err error) error {
	var e *netns.Error
	if errors.As(err, &e) {
		return e.Err
	}
	return err
}

// pathOf is RunDir/NAME, the file ip opens for NAME in set and pids
// (symlinks followed, as there).
func pathOf(name string) string { return netns.RunDir + "/" + name }
