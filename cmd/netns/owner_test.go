package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// TestAddOwner: "add --owner" makes a delegated name that ip lists like
// any other (its user namespace is not in the run directory), list shows
// the owner only when asked (--owners, or a key in -j); other users
// cannot delete it or reconfigure it, nor can its owner delete it (netns
// run by a user works on that user's rootless namespaces, never on the
// host's run directory, and without a runtime directory it stops); delete
// removes both halves; bad owners are refused and leave nothing; doctor
// finds the user namespace that "ip netns delete" leaves behind, and
// --fix removes it.
func TestAddOwner(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	out := sandboxed(t, `
cp "$NETNS" /run/nb; chmod 755 /run/nb
as() { u=$1; shift; setpriv --reuid=$u --regid=$u --clear-groups env NETNS_RUN_MAIN=1 "$@"; }
ip netns add rootns
$NETNS add --owner 4242 d
$NETNS add --owner=4243:4244 e
ip netns list | sort | tr '\n' ' '; echo
$NETNS list --owners | sort
$NETNS -j list | grep -o '{"name":"d"[^}]*}'
echo ==
as 4243 /run/nb delete d 2>&1; echo rc=$?
as 4242 /run/nb delete d 2>&1; echo rc=$?
as 4243 /run/nb add --owner 4243 f 2>&1; echo rc=$?
as 4243 nsenter --user=/run/setns/userns/d --net=/run/netns/d --preserve-credentials ip link add x type dummy 2>&1; echo rc=$?
as 4242 nsenter --user=/run/setns/userns/e --net=/run/netns/e --preserve-credentials true 2>&1; echo rc=$?
as 4243 nsenter --user=/run/setns/userns/e --net=/run/netns/e --preserve-credentials sh -c 'ip link add x type veth peer name y && ip -o link show x | wc -l'; echo rc=$?
ls /run/netns /run/setns/userns | tr '\n' ' '; echo
echo ==
$NETNS add --owner root x 2>&1; echo rc=$?
$NETNS add --owner 4242:0 x 2>&1; echo rc=$?
$NETNS add --owner 4242:root x 2>&1; echo rc=$?
$NETNS add --owner 2>&1; echo rc=$?
$NETNS add --owner= x 2>&1; echo rc=$?
$NETNS add --owner 4242 rootns 2>&1; echo rc=$?
$NETNS delete d; echo rc=$?
ip netns delete e
$NETNS doctor; echo rc=$?
$NETNS doctor --fix; echo rc=$?
$NETNS doctor; echo rc=$?
ls /run/netns /run/setns/userns | tr '\n' ' '; echo
`)
	want := `d e rootns 
d (owner: uid 4242)
e (owner: uid 4243)
rootns
{"name":"d","owner":4242}
==
netns: rootless mode: XDG_RUNTIME_DIR is not set and /run/user/4243 does not exist (log in through a session manager, or set XDG_RUNTIME_DIR to a directory of your own)
rc=1
netns: rootless mode: XDG_RUNTIME_DIR is not set and /run/user/4242 does not exist (log in through a session manager, or set XDG_RUNTIME_DIR to a directory of your own)
rc=1
netns: rootless mode: XDG_RUNTIME_DIR is not set and /run/user/4243 does not exist (log in through a session manager, or set XDG_RUNTIME_DIR to a directory of your own)
rc=1
nsenter: reassociate to namespace 'ns/user' failed: Operation not permitted
rc=1
nsenter: reassociate to namespace 'ns/user' failed: Operation not permitted
rc=1
1
rc=0
/run/netns: d e rootns  /run/setns/userns: d e 
==
netns: create "x": owner must not be root
rc=1
netns: create "x": owner's group must not be root (gid 0)
rc=1
netns: create "x": owner's group must not be root (gid 0)
rc=1
netns: add: --owner needs USER[:GROUP]
rc=1
netns: add: --owner needs USER[:GROUP]
rc=1
netns: create "rootns": file exists
rc=1
rc=0
/run/setns/userns/e: orphan-owner: user namespace of a delegated name whose network namespace is gone or not its own: would remove (--fix)
rc=1
/run/setns/userns/e: orphan-owner: user namespace of a delegated name whose network namespace is gone or not its own: removed
rc=0
rc=0
/run/netns: rootns  /run/setns/userns: 
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestAddOwnerBlocked: where user namespaces are blocked, add --owner
// fails with one line naming the sysctl and its fix, and leaves nothing
// behind. The block is user.max_user_namespaces=0 set in a user
// namespace of the test's own (the limit is per user namespace), so the
// host's setting is never touched.
func TestAddOwnerBlocked(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	cmd := exec.Command("sh", "-c", `set -u
echo 0 >/proc/sys/user/max_user_namespaces
mount -t tmpfs nstest /run
"$NETNS" add --owner 4242 t 2>&1; echo rc=$?
ls -A /run/netns; ls -A /run/setns/userns 2>/dev/null
echo end`)
	cmd.Env = append(os.Environ(), "NETNS_RUN_MAIN=1", "NETNS="+self)
	full := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		UidMappings: full, GidMappings: full, GidMappingsEnableSetgroups: true,
	}
	out, err := cmd.CombinedOutput()
	want := `netns: create "t": user namespace: user namespaces are disabled: user.max_user_namespaces is 0 (fix: sysctl -w user.max_user_namespaces=10000)
rc=1
end
`
	if err != nil || string(out) != want {
		t.Errorf("got %v\n%s\nwant\n%s", err, out, want)
	}
}

// TestAddOwnerHolderGetsNoDescriptors is "exec 7</run/secret; netns add
// --owner 4242 d": the holder that add --owner runs as the owner for a
// moment (unshare(1), here a wrapper that checks and then runs the real
// one) gets stdin, stdout and stderr and none of root's other
// descriptors, which the owner could read from it (/proc/PID/fd, or by
// ptrace: the owner has every capability in its new user namespace).
func TestAddOwnerHolderGetsNoDescriptors(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	real, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip(err)
	}
	out := sandboxed(t, `
mkdir -m 755 /run/bin
cat >/run/bin/unshare <<'EOS'
#!/bin/sh
for fd in /proc/$$/fd/*; do
	n=${fd##*/}
	case $n in 0|1|2) ;; *) [ "$(readlink $fd)" = /run/secret ] && { echo "fd $n leaked: $(eval "cat <&$n")" >&2; exit 1; } ;; esac
done
exec `+real+` "$@"
EOS
chmod 755 /run/bin/unshare
echo root-only >/run/secret; chmod 600 /run/secret
exec 7</run/secret 8<>/run/secret
PATH=/run/bin:$PATH $NETNS add --owner 4242 d 2>&1; echo rc=$?
$NETNS list --owners
`)
	if want := "rc=0\nd (owner: uid 4242)\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestAddOwnerHolderHasNoTerminal: run from root's terminal, add --owner
// starts its holder (run as the owner, who may control it) without that
// controlling terminal, so the owner cannot open /dev/tty through it to
// read root's keystrokes or push input into root's shell (TIOCSTI).
func TestAddOwnerHolderHasNoTerminal(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	real, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip(err)
	}
	out := sandboxed(t, `
mkdir -m 755 /run/bin
cat >/run/bin/unshare <<'EOS'
#!/bin/sh
if (: </dev/tty) 2>/dev/null; then echo "opened root's terminal" >&2; exit 1; fi
exec `+real+` "$@"
EOS
chmod 755 /run/bin/unshare
script -qec 'PATH=/run/bin:$PATH $NETNS add --owner 4242 d; echo rc=$?' /dev/null | tr -d '\r'
$NETNS list --owners
`)
	if want := "rc=0\nd (owner: uid 4242)\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestAddOwnerUmask: under root's umask 077, add --owner still makes
// the directories the owner must reach to enter (the run directory and
// the user namespace directory, when it creates them) traversable, so
// the owner can enter.
func TestAddOwnerUmask(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	setns := os.Getenv("SETNS_TEST_BINARY")
	if setns == "" {
		t.Skip("SETNS_TEST_BINARY not set")
	}
	out := sandboxed(t, `
cp "`+setns+`" /run/setns-bin; chmod 755 /run/setns-bin
(umask 077; $NETNS add --owner 4242 d)
setpriv --reuid=4242 --regid=4242 --clear-groups /run/setns-bin d sh -c 'echo in $NETNS_NAME' 2>&1; echo rc=$?
stat -c '%n %a' /run/netns /run/setns /run/setns/userns
`)
	if want := "in d\nrc=0\n/run/netns 755\n/run/setns 755\n/run/setns/userns 755\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
