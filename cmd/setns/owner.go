package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/setns/setns/netns"
)

// ownerEnv asks the C stage (fastpath.c, join_owner) of a re-executed
// setns to join the user namespace of the delegated namespace it names.
const ownerEnv = "SETNS_USERNS"

// enterOwner prepares entering a delegated namespace (netns add --owner)
// as an unprivileged user: its network namespace can only be entered
// from its user namespace, which a Go program cannot join (setns(2)
// refuses CLONE_NEWUSER to a threaded process), so setns re-executes
// itself with ownerEnv set and the C stage joins it before the runtime
// starts; the C fast path joins by itself for plain command lines. done
// is true when run must return code: the re-exec failed, or the caller
// may not enter. Root, a caller already in the user namespace, and names
// that are not delegated go on as usual.
func enterOwner(o *options, stderr io.Writer) (code int, done bool) {
	// Root goes on even with ownerEnv in its environment, where it is
	// no sign of a re-exec; so does the owner after the re-exec, uid 0
	// in the user namespace the C stage joined.
	if o.name == "" || o.path != "" || o.pid != 0 || os.Geteuid() == 0 {
		return 0, false
	}
	owner, err := netns.LookupOwner(o.name)
	// Not paired: a user namespace left by "ip netns delete" under a name
	// made again since; the name is not delegated.
	if err != nil || owner == nil || owner.Joined || !owner.Paired {
		return 0, false
	}
	fail := func(format string, a ...any) (int, bool) {
		fmt.Fprintf(stderr, "setns: enter %q: "+format+"\n", append([]any{o.name}, a...)...)
		return 1, true
	}
	if owner.UID != uint32(os.Geteuid()) {
		return fail("permission denied (it belongs to %s; only they and root can enter it)", describeUID(owner.UID))
	}
	if os.Getenv(ownerEnv) != "" || !fastPathBuilt {
		why := "the kernel refused to join its user namespace"
		if !fastPathBuilt {
			why = "this setns was built without cgo, which joining its user namespace needs"
		}
		return fail("%s", why)
	}
	env := append(os.Environ(), ownerEnv+"="+o.name)
	err = syscall.Exec("/proc/self/exe", os.Args, env)
	return fail("re-exec to join its user namespace: %v", err)
}

// describeUID names uid as "uid 1000 (alice)", or "uid 1000".
func describeUID(uid uint32) string {
	s := "uid " + strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}
