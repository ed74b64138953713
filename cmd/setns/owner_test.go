package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// delegated makes a namespace delegated to nstest-user (uid 4242) and
// removes it, and its user namespace, at the end of the test.
func delegated(t *testing.T) string {
	t.Helper()
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	name := nstest.TempName(t)
	ns, err := netns.CreateOwned(name, 4242, 4242, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	t.Cleanup(func() {
		nstest.Remove(t, name)
		if err := netns.RemoveOwner(name); err != nil {
			t.Error(err)
		}
	})
	return name
}

// userBinaries copies the setns binaries the fast-path tests run into a
// directory every user can reach (the go-build directory is root's).
func userBinaries(t *testing.T) (dir string, bins []string) {
	dir, probe := userDir(t)
	bins = []string{probe}
	if b := os.Getenv("SETNS_TEST_BINARY"); b != "" {
		copyFile(t, b, dir+"/setns", 0o755)
		bins = append(bins, dir+"/setns")
	}
	return dir, bins
}

// asUser runs setns (the binary bin) as uid:uid with no groups and no
// privilege, through setpriv(1); noFast sets SETNS_NO_FASTPATH.
func asUser(t *testing.T, uid, bin string, noFast bool, args ...string) (string, string, int) {
	t.Helper()
	env := []string{"SETNS_RUN_MAIN=1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if noFast {
		env = append(env, "SETNS_NO_FASTPATH=1")
	}
	argv := append([]string{"--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all",
		"env", "-i"}, env...)
	argv = append(argv, bin)
	return nstest.Run(t, "", "setpriv", append(argv, args...)...)
}

// TestDelegatedEnter: the owner of a delegated namespace enters it without
// root, through the fast path and the Go path (a re-exec), and configures
// it (a veth pair, an address, a route); the files it makes are its own on
// the host, and it gets no privilege there (a root-only file stays
// unreadable). Root still enters as before.
func TestDelegatedEnter(t *testing.T) {
	nstest.RequireRoot(t)
	name := delegated(t)
	dir, bins := userBinaries(t)
	secret := dir + "/secret"
	if err := os.WriteFile(secret, []byte("root-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, bin := range bins {
		for _, noFast := range []bool{false, true} {
			n := 2 * i
			if noFast {
				n++
			}
			k := strconv.Itoa(n)
			va, vb := "va"+k, "vb"+k
			file := filepath.Join(dir, va)
			script := strings.Join([]string{
				"ip link add " + va + " type veth peer name " + vb,
				"ip link set " + va + " up",
				"ip addr add 10.77." + k + ".1/24 dev " + va,
				"ip route add 10.78." + k + ".0/24 dev " + va,
				"ls /sys/class/net/" + va + " >/dev/null",
				"touch " + file,
				"{ cat " + secret + " 2>/dev/null && echo LEAK; true; }",
				"echo ok $NETNS_NAME ${SETNS_USERNS-unset}",
			}, " && ")
			out, errs, code := asUser(t, "4242", bin, noFast, name, "sh", "-c", script)
			if code != 0 || out != "ok "+name+" unset\n" {
				t.Fatalf("%s (no fast path %v): exit %d, stdout %q, stderr %q", bin, noFast, code, out, errs)
			}
			var st syscall.Stat_t
			if err := syscall.Stat(file, &st); err != nil || st.Uid != 4242 || st.Gid != 4242 {
				t.Errorf("file made inside: %+v, %v; want owned by 4242:4242", st, err)
			}
			if o, _, c := nstest.IP(t, "-n", name, "route", "show", "10.78."+k+".0/24"); c != 0 || !strings.Contains(o, va) {
				t.Errorf("root sees no route via %s in %s: %q", va, name, o)
			}
			if _, _, c := nstest.IP(t, "link", "show", va); c == 0 {
				t.Errorf("%s appeared on the host", va)
			}
		}
	}
	out, errs, code := setns(t, name, "ip", "-o", "link", "show", "va0")
	if code != 0 || !strings.Contains(out, "va0") {
		t.Errorf("root in the delegated namespace: exit %d, %q %q", code, out, errs)
	}
}

// TestDelegatedRefusesOthers: another unprivileged user gets one line
// naming the owner (the kernel refuses the user namespace), from both
// paths, and runs nothing; the owner cannot reach root's namespaces.
func TestDelegatedRefusesOthers(t *testing.T) {
	nstest.RequireRoot(t)
	name := delegated(t)
	_, rootName := nstest.NewNamed(t)
	dir, bins := userBinaries(t)
	marker := dir + "/ran"
	want := "setns: enter \"" + name + "\": permission denied (it belongs to uid 4242 (nstest-user); only they and root can enter it)\n"
	for _, bin := range bins {
		for _, noFast := range []bool{false, true} {
			_, errs, code := asUser(t, "4243", bin, noFast, name, "touch", marker)
			if code != 1 || errs != want {
				t.Errorf("%s as uid 4243 (no fast path %v): exit %d, stderr %q; want 1, %q", bin, noFast, code, errs, want)
			}
			_, errs, code = asUser(t, "4243", bin, noFast, "--bare", name, "touch", marker)
			if code != 1 || errs != want {
				t.Errorf("%s --bare as uid 4243: exit %d, stderr %q", bin, code, errs)
			}
			_, errs, code = asUser(t, "4242", bin, noFast, rootName, "touch", marker)
			if code != 1 || strings.Count(errs, "\n") != 1 {
				t.Errorf("%s as the owner into root's %s: exit %d, stderr %q; want a refusal", bin, rootName, code, errs)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("a refused setns ran the command")
			}
		}
	}
}

// TestDelegatedStaleOwner: a user namespace that "ip netns delete" left
// behind does not make a root namespace made again under the name look
// delegated: its old owner is refused by the kernel as anyone is, and
// others are not told it belongs to someone (they are in rootless mode).
func TestDelegatedStaleOwner(t *testing.T) {
	nstest.RequireRoot(t)
	name := delegated(t)
	if _, errs, code := nstest.IP(t, "netns", "delete", name); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := nstest.IP(t, "netns", "add", name); code != 0 {
		t.Fatal(errs)
	}
	_, bins := userBinaries(t)
	for _, bin := range bins {
		for _, uid := range []string{"4242", "4243"} {
			_, errs, code := asUser(t, uid, bin, false, name, "true")
			// 4243, to whom nothing is delegated, is in rootless mode,
			// which without a runtime directory stops at once.
			refused := strings.Contains(errs, "operation not permitted") ||
				uid == "4243" && strings.HasPrefix(errs, "setns: rootless mode: XDG_RUNTIME_DIR is not set")
			if code != 1 || strings.Contains(errs, "belongs to") || !refused {
				t.Errorf("%s as %s: exit %d, %q; want the kernel's refusal", bin, uid, code, errs)
			}
		}
	}
}

// TestDelegatedGroupNotRoot: a namespace cannot be delegated with group 0.
// Its user namespace maps the owner's group to gid 0 inside, and the owner,
// who holds every capability there, can setgid to it: with group 0 that
// is the host's root group (here: reading a root:root 0640 file). The
// refusal is one line and leaves nothing behind.
func TestDelegatedGroupNotRoot(t *testing.T) {
	nstest.RequireRoot(t)
	if err := addTestUser(); err != nil {
		t.Fatal(err)
	}
	name := nstest.TempName(t)
	ns, err := netns.CreateOwned(name, 4242, 0, nil)
	if err == nil {
		ns.Close()
		t.Cleanup(func() {
			nstest.Remove(t, name)
			netns.RemoveOwner(name)
		})
		dir, bins := userBinaries(t)
		secret := dir + "/secret"
		if err := os.WriteFile(secret, []byte("root-group\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		out, errs, _ := asUser(t, "4242", bins[0], false, name,
			"setpriv", "--regid=0", "--keep-groups", "cat", secret)
		t.Fatalf("CreateOwned with gid 0 succeeded; the owner then read a root-group file: %q %q", out, errs)
	}
	want := `create "` + name + `": owner's group must not be root (gid 0)`
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := os.Lstat(filepath.Join(netns.RunDir, name)); err == nil {
		t.Errorf("%s left in %s", name, netns.RunDir)
	}
	if _, err := os.Lstat(filepath.Join(netns.UserNSDir, name)); err == nil {
		t.Errorf("%s left in %s", name, netns.UserNSDir)
	}
}

// TestDelegatedRootIgnoresOwnerEnv: root enters a delegated namespace as
// before even with SETNS_USERNS (the variable the re-exec for owners
// sets) in its environment, naming it or another name, through both
// paths; it was told the namespace belongs to its owner.
func TestDelegatedRootIgnoresOwnerEnv(t *testing.T) {
	nstest.RequireRoot(t)
	name := delegated(t)
	_, bins := userBinaries(t)
	for _, bin := range bins {
		for _, v := range []string{name, "other", "../x"} {
			for _, noFast := range []string{"", "SETNS_NO_FASTPATH=1"} {
				args := []string{"-i", "SETNS_RUN_MAIN=1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", ownerEnv + "=" + v}
				if noFast != "" {
					args = append(args, noFast)
				}
				args = append(args, bin, name, "sh", "-c", "echo ok ${SETNS_USERNS-unset}")
				out, errs, code := nstest.Run(t, "", "env", args...)
				if code != 0 || out != "ok unset\n" {
					t.Errorf("%s as root with %s=%s %s: exit %d, %q %q", bin, ownerEnv, v, noFast, code, out, errs)
				}
			}
		}
	}
}

// TestDelegatedSetuidInside: set-user-ID-root and file-capability
// programs run by the owner inside a delegated namespace give no
// privilege on the host (the kernel ignores the set-user-ID bit of a
// file whose owner is not mapped, and file capabilities count only in
// the owner's user namespace): a root-only file stays unreadable.
func TestDelegatedSetuidInside(t *testing.T) {
	nstest.RequireRoot(t)
	name := delegated(t)
	dir, bins := userBinaries(t)
	secret := dir + "/secret"
	if err := os.WriteFile(secret, []byte("root-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip(err)
	}
	suid := dir + "/suid-cat"
	copyFile(t, cat, suid, 0o755)
	if err := os.Chmod(suid, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	progs := []string{suid}
	if setcap, err := exec.LookPath("setcap"); err == nil {
		fcap := dir + "/fcap-cat"
		copyFile(t, cat, fcap, 0o755)
		if _, errs, code := nstest.Run(t, "", setcap, "cap_dac_override,cap_dac_read_search+ep", fcap); code != 0 {
			t.Fatalf("setcap: %s", errs)
		}
		progs = append(progs, fcap)
	}
	for _, prog := range progs {
		// The control: on the host, as the same user, it does read it.
		if out, errs, _ := nstest.Run(t, "", "setpriv", "--reuid=4242", "--regid=4242", "--clear-groups",
			prog, secret); out != "root-only\n" {
			t.Skipf("%s does not work on the host (nosuid /tmp?): %q %q", prog, out, errs)
		}
		out, errs, code := asUser(t, "4242", bins[0], false, name, prog, secret)
		if code == 0 || strings.Contains(out, "root-only") {
			t.Errorf("%s as the owner inside: exit %d, %q %q; want refused", prog, code, out, errs)
		}
	}
}
