package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// asRootless runs setns (bin) as uid:uid with no privilege and
// XDG_RUNTIME_DIR=xdg (none when ""); noFast sets SETNS_NO_FASTPATH.
func asRootless(t *testing.T, uid, xdg, bin string, noFast bool, args ...string) (string, string, int) {
	t.Helper()
	env := []string{"SETNS_RUN_MAIN=1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if xdg != "" {
		env = append(env, "XDG_RUNTIME_DIR="+xdg)
	}
	if noFast {
		env = append(env, "SETNS_NO_FASTPATH=1")
	}
	argv := append([]string{"--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all",
		"env", "-i"}, env...)
	argv = append(argv, bin)
	return nstest.Run(t, "", "setpriv", append(argv, args...)...)
}

// runtimeDir makes a runtime directory for uid in dir.
func runtimeDir(t *testing.T, dir string, uid int) string {
	t.Helper()
	xdg := dir + "/xdg-" + strconv.Itoa(uid)
	if err := os.Mkdir(xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(xdg, uid, uid); err != nil {
		t.Fatal(err)
	}
	return xdg
}

// keeperPID is the keeper recorded in xdg, or 0.
func keeperPID(xdg string) int {
	b, _ := os.ReadFile(xdg + "/setns/keeper")
	pid, _ := strconv.Atoi(strings.Fields(string(b) + " 0")[0])
	return pid
}

// gone waits up to five seconds for pid to exit (a zombie has: the
// keeper's new parent, which may be a subreaper, reaps it when it will).
func gone(pid int) bool {
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if j := strings.LastIndexByte(string(b), ')'); j > 0 && strings.HasPrefix(string(b[j:]), ") Z") {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestRootlessSetns: as a normal user, "setns NAME CMD" creates NAME in
// the user's own run directory and runs CMD there as uid 0 of the
// keeper's user namespace, through the fast path and the Go path; a veth
// pair made by one command is there for the next; --temp makes and
// deletes, after which the keeper exits; the host's run directory is
// untouched; --uplink=nat and a missing runtime directory get one line.
func TestRootlessSetns(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "setpriv")
	dir, bins := userBinaries(t)
	if err := os.MkdirAll(netns.RunDir, 0o755); err != nil { // the sandbox's
		t.Fatal(err)
	}
	before, _ := os.ReadDir(netns.RunDir)
	for i, bin := range bins {
		uid := 4242 - i
		xdg := runtimeDir(t, dir, uid)
		u := strconv.Itoa(uid)
		name := "rl" + u
		t.Cleanup(func() {
			if pid := keeperPID(xdg); pid != 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		out, errs, code := asRootless(t, u, xdg, bin, false, name, "sh", "-c",
			`ip link add va type veth peer name vb && ip -br link | cut -d" " -f1 | sort | tr "\n" " "; id -u; echo $NETNS_NAME`)
		if code != 0 || out != "lo va@vb vb@va 0\n"+name+"\n" {
			t.Fatalf("%s: create: exit %d, %q, stderr %q", bin, code, out, errs)
		}
		keeper := keeperPID(xdg)
		if keeper == 0 {
			t.Fatalf("%s: no keeper recorded", bin)
		}
		for _, noFast := range []bool{false, true} {
			out, errs, code = asRootless(t, u, xdg, bin, noFast, "--no-create", name, "ip", "-o", "link", "show", "va")
			if code != 0 || !strings.Contains(out, "va@vb") {
				t.Errorf("%s noFast=%v: va did not survive: exit %d, %q, stderr %q", bin, noFast, code, out, errs)
			}
			out, errs, code = asRootless(t, u, xdg, bin, noFast, "--no-create", name, "cat", "/proc/self/uid_map")
			if f := strings.Fields(out); code != 0 || len(f) != 3 || f[0] != "0" || f[1] != u || f[2] != "1" {
				t.Errorf("%s noFast=%v: uid_map %q (exit %d, stderr %q); want 0 %s 1", bin, noFast, out, code, errs, u)
			}
		}
		if _, err := os.Stat(netns.RunDir + "/" + name); err == nil {
			t.Errorf("%s: %s appeared in the host's %s", bin, name, netns.RunDir)
		}
		// Delete NAME from inside, then --temp: after it, nothing is left
		// and the keeper goes.
		if out, errs, code = asRootless(t, u, xdg, bin, false, name, "ip", "netns", "delete", name); code != 0 {
			t.Errorf("%s: delete: exit %d, %q, stderr %q", bin, code, out, errs)
		}
		if !gone(keeper) {
			// The command that deleted it held it until its exit.
			t.Errorf("%s: keeper %d still there after its last namespace was deleted", bin, keeper)
		}
		out, errs, code = asRootless(t, u, xdg, bin, false, "--temp", "-", "ip", "-o", "link", "show", "lo")
		if code != 0 || !strings.Contains(out, "lo:") {
			t.Errorf("%s: --temp: exit %d, %q, stderr %q", bin, code, out, errs)
		}
		if k := keeperPID(xdg); k != 0 && !gone(k) {
			t.Errorf("%s: keeper %d still there after --temp", bin, k)
		}
		if ents, _ := os.ReadDir(xdg + "/netns"); len(ents) != 0 {
			t.Errorf("%s: left in %s/netns: %v", bin, xdg, ents)
		}
		_, errs, code = asRootless(t, u, xdg, bin, false, "--uplink=nat", name, "true")
		if want := "setns: rootless mode: --uplink=nat needs root on the host (--uplink alone connects with pasta)\n"; code != 1 || errs != want {
			t.Errorf("%s: --uplink=nat: exit %d, stderr %q; want 1, %q", bin, code, errs, want)
		}
		_, errs, code = asRootless(t, u, "", bin, false, name, "true")
		if want := "setns: rootless mode: XDG_RUNTIME_DIR is not set"; code != 1 || !strings.HasPrefix(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: no runtime dir: exit %d, stderr %q; want 1 and one line starting %q", bin, code, errs, want)
		}
	}
	after, _ := os.ReadDir(netns.RunDir)
	if len(after) != len(before) {
		t.Errorf("host run directory changed: %v, then %v", before, after)
	}
}

// TestRootlessBlocked: where user namespaces are refused, rootless mode
// prints one line naming the sysctl and its fix, and leaves no keeper or
// record. user.max_user_namespaces is set to 0 in a user namespace the
// test makes (the limit counts for it and below), not on the machine.
func TestRootlessBlocked(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "setpriv")
	dir, bins := userBinaries(t)
	xdg := runtimeDir(t, dir, 65534)
	for _, bin := range bins {
		script := `echo 0 >/proc/sys/user/max_user_namespaces || exit 9
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env -i SETNS_RUN_MAIN=1 PATH=/usr/bin:/bin XDG_RUNTIME_DIR=` + xdg + ` ` + bin + ` blue true`
		cmd := exec.Command("sh", "-c", script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
			GidMappingsEnableSetgroups: true}
		var out, errs strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errs
		err := cmd.Run()
		want := "setns: rootless mode: start keeper: user namespaces are disabled: user.max_user_namespaces is 0 (fix: sysctl -w user.max_user_namespaces=10000)\n"
		if cmd.ProcessState.ExitCode() != 1 || errs.String() != want || out.String() != "" {
			t.Errorf("%s: %v, stderr %q, stdout %q; want exit 1 and %q", bin, err, errs.String(), out.String(), want)
		}
		if _, err := os.Stat(xdg + "/setns/keeper"); err == nil {
			t.Errorf("%s: a keeper was recorded", bin)
		}
		if ents, _ := os.ReadDir(xdg + "/netns"); len(ents) != 0 {
			t.Errorf("%s: left in %s/netns: %v", bin, xdg, ents)
		}
	}
}

// TestRootlessUplink: a rootless user's setns --uplink (here with --temp)
// connects the namespace through pasta while COMMAND runs: COMMAND
// reaches a server in a namespace playing the internet behind the host
// (the sandbox's network namespace) and finds its address in NETNS_IP;
// afterwards pasta is stopped, no journal is left, the namespace is gone
// and the keeper exits.
func TestRootlessUplink(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "setpriv")
	nstest.NeedTool(t, "pasta", "passt")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	_, bins := userBinaries(t)
	for _, bin := range bins {
		// bins[0] is this test binary, which is also the TCP ends.
		out, errs, code := nstest.Run(t, "", "unshare", "--mount", "--net", "--propagation", "private",
			"env", "SB="+bin, "TB="+bins[0], "sh", "-c", `set -u
mount -t tmpfs nstest /run
cp "$SB" /run/sb; cp "$TB" /run/tb; chmod 755 /run/sb /run/tb
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
NETNS_TEST_TCP=serve:203.0.113.10:7 ip netns exec wan /run/tb </run/srv >/dev/null &
exec 7>/run/srv
for i in $(seq 50); do NETNS_TEST_TCP=dial:203.0.113.10:7 /run/tb >/dev/null && break; sleep 0.1; done
mkdir -m 700 /run/a; chown 65534:65534 /run/a
A() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SETNS_RUN_MAIN=1 XDG_RUNTIME_DIR=/run/a /run/sb "$@"; }
A --temp --uplink - sh -c 'echo $NETNS_IP; cat /run/a/setns/uplink/*.pid >/run/a/pid; NETNS_TEST_TCP=dial:203.0.113.10:7 /run/tb'; echo rc=$?
p=$(cat /run/a/pid); rm /run/a/pid
for i in $(seq 50); do grep -qs '^State:.*[RSD]' /proc/$p/status || break; sleep 0.1; done
grep -qs '^State:.*[RSD]' /proc/$p/status && echo pasta-still-running
for i in $(seq 50); do [ -e /run/a/setns/keeper ] || break; sleep 0.1; done
ls /run/a/netns /run/a/setns /run/a/setns/uplink | tr '\n' ' '; echo
`)
		want := `198.51.100.2
198.51.100.2
rc=0
/run/a/netns:  /run/a/setns: start.lock uplink use.lock  /run/a/setns/uplink: 
`
		if code != 0 || out != want {
			t.Errorf("%s: exit %d, stderr %q, got:\n%s\nwant:\n%s", bin, code, errs, out, want)
		}
	}
}
