// Netns manages named Linux network namespaces verb for verb like
// "ip netns": same verbs and abbreviations, same files, byte-identical
// output and the same exit statuses, so scripts can switch to it.
//
// # Synopsis
//
//	netns [OPTIONS] [list [--owners]]
//	netns [OPTIONS] list-id [target-nsid N] [nsid M]
//	netns [OPTIONS] add [--owner USER[:GROUP]] NAME
//	netns [OPTIONS] attach NAME PID
//	netns [OPTIONS] set NAME NETNSID
//	netns [OPTIONS] [-all] delete [NAME]
//	netns [OPTIONS] identify [PID]
//	netns [OPTIONS] pids NAME
//	netns [OPTIONS] [-all] exec [EXEC-OPTIONS] [NAME] COMMAND [ARG]...
//	netns [OPTIONS] monitor
//	netns [OPTIONS] doctor [--fix] [-j]
//	netns [OPTIONS] link add NS1:IF1 NS2:IF2 [--addr CIDR [--addr CIDR]]
//	netns [OPTIONS] link del NS:IF
//	netns [OPTIONS] link list [NS] [-j]
//	netns [OPTIONS] connect NAME [--subnet CIDR] [--pool CIDR] [--ipv6]
//	                [--publish [HOSTIP:]HOSTPORT:PORT[/udp]]... [--mode nat|pasta]
//	netns [OPTIONS] disconnect NAME|--all
//	netns [OPTIONS] connections [-j]
//	netns [OPTIONS] lab apply FILE [--dry-run] [-j]
//	netns [OPTIONS] lab destroy FILE|LAB [-j]
//	netns [OPTIONS] lab status [FILE|LAB] [-j]
//	netns [OPTIONS] lab graph FILE|LAB [--mermaid]
//	netns help
//	NETNSID := auto | POSITIVE-INT
//
// # Description
//
// A named namespace is the file /run/netns/NAME with the namespace
// bind-mounted onto it, as iproute2 makes it. Verbs may be abbreviated as
// in ip, with ip's precedence ("s" is show, "a" add, "d" delete). Output
// is in the run directory's own order. exec runs COMMAND in the
// environment "ip netns exec" gives (a private mount namespace, a fresh
// /sys, /etc/netns/NAME bound over /etc) and replaces netns with it.
//
// doctor, not in ip, reports what in the run directory breaks "ip netns"
// (placeholders of creates that never finished, junk files, bad symlinks,
// directories, stacked mounts, names whose namespace lives only in another
// mount namespace) and with --fix repairs what is safe to repair; it exits
// 1 while problems remain. exec --user, --preserve-fds and --dns work as
// in setns; from a terminal, exec --user runs COMMAND on a new pty that
// netns relays, as its parent, instead of replacing itself.
//
// link, not in ip either, makes veth pairs between namespaces: link add
// creates both ends directly in their namespaces (one netlink request, no
// rename, no move), brings them and lo up, and adds the --addr addresses,
// the first to NS1's end, the second to NS2's; link del deletes a pair
// setns made, link list prints them with their peers. The namespace "."
// is the one netns runs in (the host, or NAME under -n NAME); the others
// must exist. link is matched only in full, so no abbreviation ip knows
// changes meaning.
//
// connect, disconnect and connections, not in ip, give a namespace the
// internet through the namespace netns runs in (package uplink). connect
// makes a veth pair (the host end "sn" and ten characters of a hash of
// NAME, at most 15 bytes whatever NAME's length; "uplink0" inside), takes
// a free /30 from the pool that overlaps none of the host's routes, adds
// the addresses, the default route inside and lo up, switches on IPv4
// forwarding on the host end and the host's default-route interfaces only
// (never net.ipv4.ip_forward), and masquerades in an nftables table of
// its own, "inet setns-NAME"; a FORWARD policy DROP of iptables (Docker,
// ufw; nft or legacy flavour) gets two accepts tagged "setns:NAME", in
// DOCKER-USER when it exists; a drop in any other table is refused, naming
// table and chain. Every change is journalled in /run/setns/uplink before
// it is made; disconnect undoes exactly the journal (the veth, the table,
// the iptables rules, the sysctls, restored to the values found once no
// other connection needs them, and the conntrack entries of the
// addresses); delete disconnects a connected namespace first, and doctor
// --fix undoes the journals of namespaces that are gone. DNS inside works
// as under setns NAME, which points a resolver-stub resolv.conf at the
// real servers. connect on a connected NAME prints the same line and
// changes nothing. They are matched only in full.
//
// lab, not in ip either, builds a whole topology from one file (YAML or
// JSON; see netns(8)): nodes (each a named namespace LAB-NODE), veth
// links, bridges, addresses, routes and sysctls. lab apply makes the
// kernel match the file, creating what is missing, changing what differs
// and removing what the lab owns but the file no longer has; applied
// again unchanged it writes nothing. Every file error (with its line) is
// reported before anything changes. lab destroy deletes the lab's
// namespaces and nothing else: ownership is marked in the kernel (lo's
// ifalias in each node), so a namespace made by "ip netns add" is never
// taken. lab status shows nodes, links, addresses and drift from the
// file and exits 1 on drift; lab graph prints the topology for Graphviz
// or Mermaid. LAB names a lab by its last applied file, recorded in
// /run/setns/labs. On a terminal, an apply or destroy that takes more than
// half a second shows a progress line on stderr (not with -j). lab is
// matched only in full.
//
// add --owner USER[:GROUP], not in ip, makes a delegated namespace:
// its network namespace is owned by a new user namespace that USER owns
// (USER's uid and GROUP, by default USER's group, map to 0 inside), so
// that USER can enter it with "setns NAME" without sudo and configure it
// (links, addresses, routes, nftables) with the capabilities root has
// inside, and nobody else but root can; files made inside stay USER's.
// USER can take on GROUP on the host (setgid to 0 inside), so GROUP must
// be one USER may have; root as USER or GROUP is refused.
// The network namespace is at /run/netns/NAME as usual, the user
// namespace at /run/setns/userns/NAME, which ip does not list; delete
// removes both. list -j gives delegated names an "owner" key (the uid),
// list --owners adds "(owner: uid N (USER))"; doctor reports a user
// namespace whose network namespace is gone ("ip netns delete" leaves it)
// as orphan-owner and --fix removes it. In a lab file, "owner:
// USER[:GROUP]" (for the lab or a node) makes nodes delegated the same
// way; lab apply refuses to change an existing node's owner (status
// shows it as drift), and lab destroy removes both halves.
//
// Run by a user who is not root, netns works on the user's own
// namespaces (rootless mode), in $XDG_RUNTIME_DIR/netns, never on the
// host's /run/netns: every verb runs inside the user's keeper (see
// setns(1)), a process started on first use that holds a user namespace
// where the user is uid 0 and a mount namespace where
// $XDG_RUNTIME_DIR/netns is bound onto /run/netns; netns joins both by
// re-executing itself (SETNS_ROOTLESS) and then runs as usual. The keeper
// exits when the last namespace is deleted. connect uses pasta there (run
// as the user in the host's network namespace, no host loopback; nat mode
// needs root and is refused), journalled in $XDG_RUNTIME_DIR/setns/uplink.
//
// Deliberate differences from ip: monitor reports a name only once it is
// a usable namespace, and flushes each line; -all delete goes on past a
// failure and then exits 1; add brings the loopback device up; exec and
// -n refuse a symlink in the run directory; list-id shows nsids past the
// first dump buffer, honours target-nsid in a batch, and checks its
// arguments before it reads the run directory; -h is help.
//
// # Options
//
//	-all              delete, exec: act on every namespace
//	-j, -json         JSON output (list, list-id, doctor, link list, connections, lab)
//	-p, -pretty       indent the JSON
//	-b, -batch FILE   run "netns VERB ..." lines from FILE ("-": stdin)
//	-force            in a batch, go on after a failed line
//	-n, -netns NAME   run inside the namespace NAME
//	-h, -help         print this help and exit
//
// Options are matched by prefix in ip's order and may have one or two
// dashes. Other ip options (-s, -d, -o, -c, -4, -f FAMILY, -V, ...) are
// accepted and have no effect, as on ip netns.
//
// # Exec options
//
// None: exactly "ip netns exec".
//
//	--user USER[:GROUP]  run COMMAND as USER, with no capabilities (uid 0
//	                     keeps root's), no descriptor past 2, and on a new
//	                     pty if on a terminal
//	--preserve-fds N     with --user, keep descriptors 3 to 3+N-1 open
//	--dns ADDR           give COMMAND a resolv.conf naming ADDR (repeatable)
//
// # Add and list options
//
// Not in ip.
//
//	--owner USER[:GROUP]  add: delegate NAME to USER, who can then enter and
//	                      configure it without root ("setns NAME", no sudo)
//	--owners          list: show the owner of each delegated namespace
//
// # Link options
//
// link is not in ip; NS "." is the namespace netns runs in.
//
//	--addr CIDR       add CIDR to the first end; a second --addr, to the second
//
// # Connect options
//
// NAME's uplink to the namespace netns runs in, and on to whatever it
// reaches; one line printed, e.g.
// "blue 10.251.0.2/30 via 10.251.0.1 (nat, out eth0)".
//
//	--subnet CIDR     use CIDR (IPv4, /30 or larger), not a free /30 of the pool
//	--pool CIDR       take the /30 from CIDR (default 10.251.0.0/16)
//	--ipv6            also a ULA /64, masqueraded (needs Linux 6.17)
//	--publish SPEC    forward [HOSTIP:]HOSTPORT of the host to PORT in NAME,
//	                  TCP or /udp (repeatable)
//	--mode MODE       nat (default: veth, forwarding, masquerade) or pasta
//	                  (pasta's user-space stack; nothing changes on the host)
//
// # Lab options
//
// lab is not in ip; FILE is YAML or JSON, see netns(8).
//
//	--dry-run         apply: print the plan and change nothing
//	--mermaid         graph: print Mermaid instead of Graphviz DOT
//
// # Doctor options
//
//	--fix             remove placeholders, junk, bad symlinks and empty
//	                  directories, unstack mounts; never a live namespace;
//	                  and uplink leftovers whose namespace is gone
//	-j                print the findings as JSON
//
// # Exit status
//
// As ip: 0 on success; 1 for a failed operation (missing argument, no
// such name, mount or file errors, any failed batch line); 2 when the
// kernel refuses set or list-id nsid; 255 for an invalid name, an unknown
// verb or option, help, a bad value, a failed -n, or an exec that could
// not enter its namespace, or a link command with an invalid endpoint,
// interface name or address (a link command that fails gives 1), or a
// connect with a bad option or value (a refused or failed connect or
// disconnect gives 1), or a lab command with an unknown option (a lab
// command that fails, a bad file included, gives 1, and lab status gives
// 1 when the kernel has drifted from the file). exec gives COMMAND's
// status, or 1 if COMMAND
// cannot be executed. -all exec gives 0, or 1 if a command is killed by a
// signal. Unlike ip, -all delete goes on after a failure and then gives 1.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/setns/setns/internal/rootless"
	"github.com/setns/setns/internal/runas"
)

// The main goroutine starts locked to the main thread, so that goroutines
// that lock a throwaway thread to start a command inside a namespace
// ((*NS).Start, for -all and batch exec) can never get the main thread:
// the runtime keeps that thread, in the foreign namespace, when such a
// goroutine exits on it. run unlocks it when no command will be started
// that way, since a locked main goroutine makes every wait a thread
// handoff (list is twice as slow).
func init() { runtime.LockOSThread() }

func main() {
	// Before anything else: installed setuid or with file capabilities,
	// netns would turn every user into root.
	if err := runas.CheckInvoker(); err != nil {
		fmt.Fprintf(os.Stderr, "netns: %v\n", err)
		os.Exit(1)
	}
	// Not root: the user's own namespaces (rootless mode), in the user
	// and mount namespaces of a keeper that this joins by re-executing.
	if err := rootless.Joined(); err != nil {
		fmt.Fprintf(os.Stderr, "netns: rootless mode: %v\n", err)
		os.Exit(1)
	}
	if rootless.Active() {
		fmt.Fprintf(os.Stderr, "netns: rootless mode: %v\n", rootless.Enter())
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
