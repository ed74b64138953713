package main

import (
	"os"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// TestRootless: as two unprivileged users (65534 and 4242), each with a
// runtime directory of their own, netns add, exec, list and delete work
// on the user's own namespaces; the namespaces survive between commands;
// the keeper starts on first use and exits after the last delete (and at
// once when a command made nothing); the host's /run/netns (the
// sandbox's) is unchanged; one user cannot see, enter or delete the
// other's namespaces nor join the other's keeper; and nothing gains a
// capability on the host: a root-only file stays unreadable and files
// made inside are the user's own. When the keeper is killed, its
// namespaces are gone: the next command sweeps the names left behind.
func TestRootless(t *testing.T) {
	nstest.RequireIP(t)
	nstest.RequireTool(t, "setpriv")
	nstest.RequireTool(t, "nsenter")
	t.Parallel()
	out := sandboxed(t, `
cp "$NETNS" /run/nb; chmod 755 /run/nb
mkdir -p /run/netns; ip netns add rootns
echo secret >/run/secret; chmod 600 /run/secret
mkdir -m 700 /run/a /run/b; chown 65534:65534 /run/a; chown 4242:4242 /run/b
host() { ls -la --time-style=+ /run/netns; grep -c ' /run/netns' /proc/self/mountinfo; }
host >/run/before
as() { u=$1 d=$2; shift 2; setpriv --reuid=$u --regid=$u --clear-groups --inh-caps=-all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NETNS_RUN_MAIN=1 XDG_RUNTIME_DIR=$d "$@"; }
A() { as 65534 /run/a /run/nb "$@"; }
B() { as 4242 /run/b /run/nb "$@"; }
A add red; echo rc=$?
A add blue; echo rc=$?
A list | sort | tr '\n' ' '; echo
ka=$(cut -d' ' -f1 /run/a/setns/keeper)
A exec red sh -c 'ip link add va type veth peer name vb && ip addr add 10.9.0.1/24 dev va && ip link set va up && ip link set vb up && ip -br link | cut -d" " -f1 | sort | tr "\n" " "'; echo rc=$?
A exec red ip -o -4 addr show va | wc -l
A exec blue ip -o link show va 2>&1; echo rc=$?
A exec red sh -c 'cat /run/secret; touch /run/a/made' 2>&1 | sed 's/^.*: //'
stat -c %u /run/a/made; rm /run/a/made
grep CapEff /proc/$ka/status
echo == B
B list; echo rc=$?
B exec red true 2>&1; echo rc=$?
B delete red 2>&1; echo rc=$?
as 4242 /run/b nsenter --preserve-credentials -U -m -t $ka true 2>&1 | sed 's/^nsenter: //; s/[0-9][0-9]*/PID/'
as 4242 /run/b nsenter --preserve-credentials -n -t $ka true 2>&1 | sed 's/^nsenter: //; s/[0-9][0-9]*/PID/'
A exec rootns true 2>&1; echo rc=$?
A list | sort | tr '\n' ' '; echo
for i in $(seq 50); do [ -e /run/b/setns/keeper ] || break; sleep 0.1; done
ls /run/b/setns | tr '\n' ' '; echo
echo == delete
A delete red; echo rc=$?
kill -0 $ka && echo keeper-alive
A delete blue; echo rc=$?
for i in $(seq 50); do kill -0 $ka 2>/dev/null || break; sleep 0.1; done
kill -0 $ka 2>/dev/null && echo keeper-still-there
ls /run/a/setns /run/a/netns | tr '\n' ' '; echo
host | cmp - /run/before && echo host-unchanged
ip netns list
echo == killed
A add green; A add gray; ka=$(cut -d' ' -f1 /run/a/setns/keeper)
kill -9 $ka; for i in $(seq 50); do kill -0 $ka 2>/dev/null || break; sleep 0.1; done
ls /run/a/netns | tr '\n' ' '; echo
A list; echo rc=$?
for i in $(seq 50); do [ -e /run/a/setns/keeper ] || break; sleep 0.1; done
ls /run/a/netns /run/a/setns | tr '\n' ' '; echo
`)
	want := `rc=0
rc=0
blue red 
lo va@vb vb@va rc=0
1
Device "va" does not exist.
rc=1
Permission denied
65534
CapEff:	000001ffffffffff
== B
rc=0
netns: open "red": no such file or directory
rc=255
netns: delete "red": unlink: no such file or directory
rc=1
cannot open /proc/PID/ns/user: Permission denied
cannot open /proc/PID/ns/net: Permission denied
netns: open "rootns": no such file or directory
rc=255
blue red 
start.lock use.lock 
== delete
rc=0
keeper-alive
rc=0
/run/a/netns:  /run/a/setns: start.lock use.lock 
host-unchanged
rootns
== killed
gray green 
rc=0
/run/a/netns:  /run/a/setns: start.lock use.lock 
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

// TestRootlessConnect: a rootless user's netns connect gives NAME the
// internet through pasta (the default in rootless mode), run as the user
// in the host's network namespace (here the sandbox's, with a namespace
// playing the internet behind it), with no way to the host's loopback
// through the gateway address; the journal is the user's own, the host's
// /run/setns is never made; disconnect stops pasta and leaves nothing;
// nat mode is refused with one line.
func TestRootlessConnect(t *testing.T) {
	nstest.RequireIP(t)
	nstest.RequireTool(t, "setpriv")
	nstest.NeedTool(t, "pasta", "passt")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	t.Parallel()
	out := sandboxed(t, `
cp "$NETNS" /run/nb; chmod 755 /run/nb
# pasta needs a tun device the user may open (0666, as distributions
# ship it); this one is the sandbox's own.
mknod -m 666 /run/tun c 10 200; mount --bind /run/tun /dev/net/tun
ip link set lo up
mkdir -p /run/netns; ip netns add wan
ip link add eth0 type veth peer name eth0 netns wan
ip addr add 198.51.100.2/24 dev eth0; ip link set eth0 up
ip -n wan addr add 198.51.100.1/24 dev eth0; ip -n wan addr add 203.0.113.10/24 dev eth0
ip -n wan link set eth0 up; ip -n wan link set lo up
ip route add default via 198.51.100.1
mkfifo /run/srv
NETNS_TEST_TCP=serve:203.0.113.10:7 ip netns exec wan /run/nb </run/srv >/dev/null &
NETNS_TEST_TCP=serve:127.0.0.1:8 /run/nb </run/srv >/dev/null &
exec 7>/run/srv
for i in $(seq 50); do NETNS_TEST_TCP=dial:203.0.113.10:7 /run/nb >/dev/null && NETNS_TEST_TCP=dial:127.0.0.1:8 /run/nb >/dev/null && break; sleep 0.1; done
mkdir -m 700 /run/a; chown 65534:65534 /run/a
as() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NETNS_RUN_MAIN=1 XDG_RUNTIME_DIR=/run/a "$@"; }
A() { as /run/nb "$@"; }
A add red; echo rc=$?
A connect red --mode nat 2>&1; echo rc=$?
A connect red; echo rc=$?
A connections
p=$(cat /run/a/setns/uplink/*.pid)
grep '^Uid:' /proc/$p/status | tr -s '\t' ' '
[ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo pasta-in-host-netns
ls -d /run/setns 2>&1 | sed 's/^.*: //'
A exec red env NETNS_TEST_TCP=dial:203.0.113.10:7 /run/nb; echo rc=$?
A exec red env NETNS_TEST_TCP=dial:198.51.100.1:8 /run/nb; echo rc=$?
A disconnect red; echo rc=$?
for i in $(seq 50); do grep -qs '^State:.*[RSD]' /proc/$p/status || break; sleep 0.1; done
grep -qs '^State:.*[RSD]' /proc/$p/status && echo pasta-still-running
ls /run/a/setns/uplink | grep -v '^\.lock$'
A connections
A exec red ip -o -4 addr show scope global
A delete red; echo rc=$?
`)
	want := `rc=0
netns: connect "red": nat mode needs root on the host (rootless mode connects with --mode pasta, the default)
rc=1
red 198.51.100.2/24 via 198.51.100.1 (pasta, out eth0)
rc=0
NAME  MODE   ADDRESS          HOST-ADDRESS     HOST-IF  OUT   PUBLISH
red   pasta  198.51.100.2/24  198.51.100.1/24  -        eth0  -
Uid: 65534 65534 65534 65534
pasta-in-host-netns
No such file or directory
198.51.100.2
rc=0
dial failed
rc=1
rc=0
rc=0
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}
