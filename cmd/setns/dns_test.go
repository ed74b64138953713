package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// isolatedEtc prepares, in a child's own mount namespace, a writable copy
// of /etc (overlay on a tmpfs) and an empty /run/systemd, so a test can lay
// out the host's resolver files as systemd-resolved, NetworkManager or
// dnsmasq would, without touching the sandbox other tests share.
const isolatedEtc = `set -e
d=$(mktemp -d /run/nstest-dns.XXXXXX)
mount -t tmpfs nstest "$d"
mkdir "$d/u" "$d/w"
mount -t overlay nstest -o lowerdir=/etc,upperdir="$d/u",workdir="$d/w" /etc
mkdir -p /run/systemd
mount -t tmpfs nstest /run/systemd
mkdir /run/systemd/resolve
stub=/run/systemd/resolve/stub-resolv.conf
up=/run/systemd/resolve/resolv.conf
setns() { env SETNS_RUN_MAIN=1 "$SELF" "$@"; }
`

// runDNS runs script after isolatedEtc, with $SELF (setns) and $NAME set.
func runDNS(t *testing.T, name, script string) (string, string, int) {
	t.Helper()
	return nstest.Run(t, "", "unshare", "--mount", "--propagation", "private",
		"env", "SELF="+self, "NAME="+name, "sh", "-c", isolatedEtc+script)
}

func TestDNS(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	for _, tc := range []struct {
		name, script string
		want         string // stdout
		warn         bool   // a warning on stderr
	}{
		{"resolved stub symlink: upstream list is used",
			`echo 'nameserver 127.0.0.53' > $stub; echo 'nameserver 192.0.2.1' > $up
ln -sf $stub /etc/resolv.conf
setns "$NAME" cat /etc/resolv.conf; echo --; cat /etc/resolv.conf`,
			"nameserver 192.0.2.1\n--\nnameserver 127.0.0.53\n", false},
		{"dnsmasq on 127.0.0.1 in a plain file, resolved upstream present",
			`echo 'nameserver 127.0.0.1' > /etc/resolv.conf; echo 'nameserver 192.0.2.2' > $up
setns "$NAME" cat /etc/resolv.conf`,
			"nameserver 192.0.2.2\n", false},
		{"stub only: warn once, change nothing",
			`printf 'nameserver 127.0.0.53\nnameserver ::1\n' > $stub; ln -sf $stub /etc/resolv.conf
setns "$NAME" cat /etc/resolv.conf`,
			"nameserver 127.0.0.53\nnameserver ::1\n", true},
		{"a real resolver: nothing to do",
			`echo 'nameserver 192.0.2.3' > /etc/resolv.conf; echo 'nameserver 192.0.2.4' > $up
setns "$NAME" cat /etc/resolv.conf`,
			"nameserver 192.0.2.3\n", false},
		{"--dns: for this run only, read-only, host untouched",
			`ln -sf $stub /etc/resolv.conf; echo 'nameserver 127.0.0.53' > $stub
setns --dns 192.0.2.7 --dns 2001:db8::1 "$NAME" sh -c 'grep -v "^#" /etc/resolv.conf; { echo x >> /etc/resolv.conf; } 2>/dev/null || echo read-only'
echo --; cat /etc/resolv.conf`,
			"nameserver 192.0.2.7\nnameserver 2001:db8::1\nread-only\n--\nnameserver 127.0.0.53\n", false},
		{"per-namespace file over a symlinked resolv.conf",
			`echo 'nameserver 127.0.0.53' > $stub; ln -sf $stub /etc/resolv.conf
mkdir -p /etc/netns/$NAME; echo 'nameserver 192.0.2.53' > /etc/netns/$NAME/resolv.conf
setns "$NAME" cat /etc/resolv.conf; echo --; cat $stub`,
			"nameserver 192.0.2.53\n--\nnameserver 127.0.0.53\n", false},
		{"per-namespace file over a dangling symlink",
			`ln -sf /run/systemd/resolve/missing /etc/resolv.conf
mkdir -p /etc/netns/$NAME; echo 'nameserver 192.0.2.54' > /etc/netns/$NAME/resolv.conf
setns "$NAME" cat /etc/resolv.conf`,
			"nameserver 192.0.2.54\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runDNS(t, name, tc.script)
			if code != 0 || out != tc.want {
				t.Errorf("exit %d, stdout %q, want %q (stderr %q)", code, out, tc.want, errs)
			}
			warned := strings.Count(errs, "setns: warning: /etc/resolv.conf names only loopback resolvers")
			if tc.warn && warned != 1 || !tc.warn && errs != "" {
				t.Errorf("stderr %q; want a warning: %v", errs, tc.warn)
			}
		})
	}
}

// TestDNSSurvivesRename: the per-namespace resolv.conf stays in place when
// the host's symlink target is replaced by rename mid-run, as resolved and
// NetworkManager write it. ip binds onto the target file instead, and
// loses it: the control run shows the test can tell the two apart.
func TestDNSSurvivesRename(t *testing.T) {
	nstest.RequireIP(t)
	_, name := nstest.NewNamed(t)
	script := `echo 'nameserver 127.0.0.53' > $stub; ln -sf $stub /etc/resolv.conf
mkdir -p /etc/netns/$NAME; echo 'nameserver 192.0.2.53' > /etc/netns/$NAME/resolv.conf
run() {
	"$@" sh -c "cat /etc/resolv.conf; touch $d/started; while [ ! -e $d/go ]; do sleep 0.01; done; cat /etc/resolv.conf" &
	while [ ! -e $d/started ]; do sleep 0.01; done
	echo 'nameserver 127.0.0.99' > $stub.new; mv $stub.new $stub
	touch $d/go; wait $!
	rm $d/started $d/go; echo 'nameserver 127.0.0.53' > $stub
}
run setns "$NAME"; echo --; run ip netns exec "$NAME"`
	out, errs, code := runDNS(t, name, script)
	parts := strings.Split(out, "--\n")
	if code != 0 || len(parts) != 2 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if want := "nameserver 192.0.2.53\nnameserver 192.0.2.53\n"; parts[0] != want {
		t.Errorf("setns saw %q across the rename, want %q", parts[0], want)
	}
	if want := "nameserver 192.0.2.53\nnameserver 127.0.0.99\n"; parts[1] != want {
		t.Errorf("control: ip netns exec saw %q, expected it to lose the bind: %q", parts[1], want)
	}
}

// TestDNSWarningNamesNamespace: the loopback-resolver warning names the
// namespace as it was given: its name and /etc/netns/NAME/ for a name,
// the file for --path and --pid, which have no /etc/netns directory.
func TestDNSWarningNamesNamespace(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	pid := nstest.Sleeper(t, name)
	const warning = "setns: warning: /etc/resolv.conf names only loopback resolvers (127.0.0.53), which cannot answer inside "
	for _, tc := range []struct{ args, want string }{
		{`"$NAME"`, warning + `"` + name + `"; put a resolv.conf in /etc/netns/` + name + `/ or use --dns` + "\n"},
		{`--path /run/netns/"$NAME"`, warning + `"/run/netns/` + name + `"; use --dns` + "\n"},
		{fmt.Sprintf("--pid %d", pid), warning + fmt.Sprintf(`"/proc/%d/ns/net"; use --dns`, pid) + "\n"},
	} {
		script := `echo 'nameserver 127.0.0.53' > $stub; ln -sf $stub /etc/resolv.conf
setns ` + tc.args + ` true`
		_, errs, code := runDNS(t, name, script)
		if code != 0 || errs != tc.want {
			t.Errorf("setns %s: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}
