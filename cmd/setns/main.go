// Setns runs a command inside a named Linux network namespace, creating the
// namespace first if it does not exist.
//
// # Synopsis
//
//	setns [OPTIONS] NAME|PATH [COMMAND [ARG]...]
//	setns [OPTIONS] --path FILE|--pid PID [COMMAND [ARG]...]
//	setns [OPTIONS] --temp [NAME|-] [COMMAND [ARG]...]
//
// # Description
//
// Setns opens the network namespace NAME, as made by "ip netns add NAME"
// (the file /run/netns/NAME), creating it race-free if it does not exist,
// enters it and executes COMMAND in place: the command keeps setns's PID
// and finds NAME in $NETNS_NAME. COMMAND defaults to $SHELL, else
// /bin/sh. The command runs in the same environment "ip netns exec"
// gives: a private mount namespace with "/" made rslave, a sysfs of the
// namespace on /sys (submounts such as /sys/fs/cgroup kept), and each
// entry of /etc/netns/NAME bound over /etc. A NAME containing "/" is a
// namespace file; it is opened, never created. With --temp, setns runs
// COMMAND as its child in a namespace it creates, and deletes the
// namespace when COMMAND exits. With --uplink, setns connects NAME to the
// internet as "netns connect" does (package uplink) and runs COMMAND as
// its child, which finds NAME's address in $NETNS_IP and the host end's
// in $NETNS_HOST_IP; when COMMAND exits, setns disconnects. The NAT table
// is owned by setns's netlink socket, so if setns is killed, even with
// SIGKILL, the kernel deletes it at once, and "netns doctor --fix" takes
// back the rest. --uplink --temp is a throwaway namespace with internet.
//
// A namespace that root delegated to a user ("netns add --owner USER
// NAME") is entered by that user without sudo: setns joins the user
// namespace that owns NAME (/run/setns/userns/NAME), where USER is root,
// before it enters NAME, in C code that runs before the Go runtime starts
// threads (joining a user namespace needs a single-threaded process; with
// options, setns re-executes itself for it, with SETNS_USERNS set). The
// command is uid 0 with every capability inside that user namespace
// only: it can configure NAME, has no privilege on the host, and its
// files are USER's. Anyone else gets one line naming the owner.
//
// Run by a user who is not root (and NAME not delegated to them), setns
// works on the user's own namespaces (rootless mode), in
// $XDG_RUNTIME_DIR/netns, never on the host's /run/netns: the first use
// starts a per-user keeper process (setns-keeper) that holds a user
// namespace, where the user is uid 0, and a mount namespace, where
// $XDG_RUNTIME_DIR/netns is bound onto /run/netns; setns joins both
// (re-executing itself with SETNS_ROOTLESS set, so that C code joins
// before the Go runtime starts) and does its usual work there. COMMAND
// has every capability in that user namespace only. The namespaces
// survive between commands; the keeper exits after the last one is
// deleted. --uplink connects through pasta there (--uplink=nat needs
// root and is refused); --path and --pid are not rootless.
//
// # Options
//
//	--no-create          fail if NAME does not exist instead of creating it
//	--path FILE          enter the namespace file FILE (no create, no /etc binds)
//	--pid PID            enter the network namespace of process PID
//	--bare               only setns(2) and exec, like nsenter --net: no mount namespace
//	--user USER[:GROUP]  run COMMAND as USER (name or id; a number is an id),
//	                     with no capabilities (uid 0 keeps root's), no open
//	                     descriptor past 2, and on a new pty if on a terminal
//	--preserve-fds N     with --user, keep descriptors 3 to 3+N-1 open
//	--no-lo              leave loopback down in a namespace setns creates
//	--dns ADDR           give COMMAND a resolv.conf naming ADDR (repeatable)
//	--sysctl KEY=VALUE   set a net.* sysctl inside before COMMAND runs (repeatable)
//	--temp               create NAME (or, for "-" or none, a fresh name), run
//	                     COMMAND as a child, delete the namespace when it exits
//	--uplink[=MODE]      connect NAME to the internet (as "netns connect", MODE
//	                     nat or pasta; pasta, the only one, when rootless)
//	                     while COMMAND runs, as its parent;
//	                     COMMAND finds the addresses in $NETNS_IP and
//	                     $NETNS_HOST_IP
//	--publish SPEC       with --uplink, forward [HOSTIP:]HOSTPORT of the host to
//	                     PORT in NAME, TCP or /udp (repeatable)
//	-h, --help           print this help and exit
//
// # Exit status
//
// COMMAND's own status once it runs (128+N if it dies from signal N under
// --temp or --uplink or on a relayed terminal); 1 if setns itself fails (usage, bad
// name, no such namespace, permission, started setuid or with file
// capabilities); 126 if COMMAND was found but could not be executed; 127
// if COMMAND was not found.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/setns/setns/internal/rootless"
	"github.com/setns/setns/internal/runas"
)

// The main goroutine stays on the main thread for the whole run. The
// namespace is entered and the command executed on a private thread
// (netns's Exec), which takes over setns's PID; Exec copies the
// parent-death signal from its caller's thread, and only the main
// thread's is the one a parent may have set for setns. Keeping the main
// thread busy also means the library's private threads are never it.
func init() { runtime.LockOSThread() }

func main() {
	// Before anything else: installed setuid or with file capabilities,
	// setns would turn every user into root.
	if err := runas.CheckInvoker(); err != nil {
		fmt.Fprintf(os.Stderr, "setns: %v\n", err)
		os.Exit(1)
	}
	// The rootless keeper runs here, and a command re-executed to join
	// it checks it did.
	if err := rootless.Joined(); err != nil {
		fmt.Fprintf(os.Stderr, "setns: rootless mode: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
