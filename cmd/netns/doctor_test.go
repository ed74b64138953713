package main

import (
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// sandboxed runs script in a child with its own mount and network
// namespaces and a fresh /run, with $NETNS running netns.
func sandboxed(t *testing.T, script string) string {
	t.Helper()
	out, errs, code := nstest.Run(t, "", "unshare", "--mount", "--net", "--propagation", "private",
		"env", "NETNS_RUN_MAIN=1", "NETNS="+self, "sh", "-c", "set -u\nmount -t tmpfs nstest /run\n"+script)
	if code != 0 {
		t.Fatalf("script failed: exit %d: %s\n%s", code, errs, out)
	}
	return out
}

// TestDoctorVerb: each kind of junk is reported (exit 1), --fix removes
// the old ones and nothing else, a young placeholder is left alone, and a
// healthy run directory gives no output and exit 0.
func TestDoctorVerb(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	out := sandboxed(t, `
ip netns add live
: >/run/netns/ph; chmod 0 /run/netns/ph
echo junk >/run/netns/junk
ln -s /run/netns/nothing /run/netns/dangling
mkdir /run/netns/emptydir
touch -h -d '1 hour ago' /run/netns/ph /run/netns/junk /run/netns/dangling /run/netns/emptydir
: >/run/netns/young; chmod 0 /run/netns/young
$NETNS doctor; echo "rc=$?"
$NETNS -j doctor | tr '}' '\n' | grep -c '"path"'; echo "rc=$?"
$NETNS doctor --fix; echo "rc=$?"
echo ==; ls /run/netns | sort | tr '\n' ' '; echo
ip netns exec live true && echo live-ok
rm /run/netns/young
$NETNS do; echo "rc=$?"
`)
	parts := strings.Split(out, "==\n")
	if len(parts) != 2 {
		t.Fatalf("output %q", out)
	}
	for _, want := range []string{
		"/run/netns/ph: placeholder: placeholder of a create that never finished: would remove (--fix)\n",
		"/run/netns/junk: junk-file: a regular file: would remove (--fix)\n",
		"/run/netns/dangling: dangling-symlink: symlink to nothing: would remove (--fix)\n",
		"/run/netns/emptydir: empty-directory: an empty directory: would remove (--fix)\n",
		"/run/netns/young: placeholder: placeholder of a create that never finished: left alone: younger than 1m0s, and not made by setns: ip may still be creating it\n",
		"rc=1\n5\n",
		"/run/netns/ph: placeholder: placeholder of a create that never finished: removed\n",
	} {
		if !strings.Contains(parts[0], want) {
			t.Errorf("output lacks %q:\n%s", want, parts[0])
		}
	}
	if strings.Contains(parts[0], "live") {
		t.Errorf("a live namespace was reported:\n%s", parts[0])
	}
	if got, want := parts[1], "live young \nlive-ok\nrc=0\n"; got != want {
		t.Errorf("after --fix: %q, want %q", got, want)
	}
}

// TestExecUserDNS: netns exec --user and --dns, also with -all; bad
// values are usage errors (255) and run nothing.
func TestExecUserDNS(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	out := sandboxed(t, `
ip netns add a
$NETNS exec --user nobody a sh -c 'id -u; grep NoNewPrivs /proc/self/status; echo "$HOME"'
$NETNS exec --dns 192.0.2.9 --dns=2001:db8::9 a grep nameserver /etc/resolv.conf
$NETNS -all exec --user=nobody:nogroup id -g
$NETNS exec --user no-such-user-xyz a touch /run/ran; echo "rc=$?"
$NETNS exec --dns bogus a true; echo "rc=$?"
$NETNS exec --user; echo "rc=$?"
test -e /run/ran && echo ran
$NETNS exec a id -u
`)
	want := "65534\nNoNewPrivs:\t1\n/nonexistent\n" +
		"nameserver 192.0.2.9\nnameserver 2001:db8::9\n" +
		"\nnetns: a\n65534\n" +
		"rc=255\nrc=255\nrc=255\n" +
		"0\n"
	if out != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}

// TestExecRefusesPaths: like ip, exec takes a NAME, never a path, also
// when its own options put the NAME out of the place where every verb's
// is checked: a client's "../../proc/1/ns/net" enters nothing.
func TestExecRefusesPaths(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	out := sandboxed(t, `
ip netns add a
cd /run/netns
$NETNS exec --dns 192.0.2.1 ../../proc/1/ns/net touch /run/ran; echo "rc=$?"
$NETNS exec --user root /run/netns/a touch /run/ran; echo "rc=$?"
echo 'exec --user root ./a touch /run/ran' | $NETNS -batch -; echo "rc=$?"
test -e /run/ran && echo ran
$NETNS exec --user root a echo ok
`)
	if want := "rc=255\nrc=255\nrc=1\nok\n"; out != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}
