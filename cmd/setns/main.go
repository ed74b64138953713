// Setns runs a command inside a named Linux network namespace, creating the
// namespace first if it does not exist.
//
// # Synopsis
//
//	setns [OPTIONS] NAME|PATH [COMMAND [ARG]...]
//	setns [OPTIONS] --path FILE|--pid PID [COMMAND [ARG]...]
//
// # Description
//
// Setns opens the network namespace NAME, as made by "ip netns add NAME"
// (the file /run/netns/NAME), creating it race-free if it does not exist,
// enters it and executes COMMAND in place: the command keeps setns's PID.
// COMMAND defaults to $SHELL, else /bin/sh. The command runs in the same
// environment "ip netns exec" gives: a private mount namespace with "/"
// made rslave, a sysfs of the namespace on /sys (submounts such as
// /sys/fs/cgroup kept), and each entry of /etc/netns/NAME bound over /etc.
// A NAME containing "/" is a namespace file; it is opened, never created.
//
// # Options
//
//	--no-create   fail if NAME does not exist instead of creating it
//	--path FILE   enter the namespace file FILE (no create, no /etc binds)
//	--pid PID     enter the network namespace of process PID
//	--bare        only setns(2) and exec, like nsenter --net: no mount namespace
//	--user USER[:GROUP]
//	              run COMMAND as USER (a number is an id), with no capabilities
//	              (uid 0 keeps root's), no descriptor past 2, and on a new pty
//	              relayed by setns when a standard file is a terminal
//	--preserve-fds N
//	              with --user, keep descriptors 3 to 3+N-1 open
//	-h, --help    print usage and exit
//
// # Exit status
//
// COMMAND's own status once it runs; 1 if setns itself fails (usage, bad
// name, no such namespace, permission, installed setuid or with file
// capabilities); 126 if COMMAND was found but could
// not be executed; 127 if COMMAND was not found.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/setns/setns/internal/runas"
)

// The main goroutine stays on the main thread, which is the one that enters
// the namespace and calls execve (STYLE §3.5).
func init() { runtime.LockOSThread() }

func main() {
	// Before anything else: installed setuid or with file capabilities,
	// setns would turn every user into root.
	if err := runas.CheckInvoker(); err != nil {
		fmt.Fprintf(os.Stderr, "setns: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
