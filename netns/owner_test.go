package netns_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestUserNSBlocker: each sysctl that blocks unprivileged user
// namespaces is named, with its fix, on fake /proc/sys trees (the real
// ones cannot be changed without affecting the machine); an open tree, a
// missing one and unrelated values give "".
func TestUserNSBlocker(t *testing.T) {
	for _, tc := range []struct {
		files map[string]string
		want  string // a part of the line; "" for none
	}{
		{nil, ""},
		{map[string]string{"user/max_user_namespaces": "15000\n", "kernel/unprivileged_userns_clone": "1\n",
			"kernel/apparmor_restrict_unprivileged_userns": "0\n"}, ""},
		{map[string]string{"user/max_user_namespaces": "0\n"}, "user.max_user_namespaces is 0 (fix: sysctl -w user.max_user_namespaces="},
		{map[string]string{"user/max_user_namespaces": "5\n", "kernel/unprivileged_userns_clone": "0\n"},
			"kernel.unprivileged_userns_clone is 0 (fix: sysctl -w kernel.unprivileged_userns_clone=1)"},
		{map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "1\n"},
			"AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns is 1"},
	} {
		dir := t.TempDir()
		for k, v := range tc.files {
			p := filepath.Join(dir, k)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got := netns.UserNSBlocker(dir)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) || strings.Contains(got, "\n") {
			t.Errorf("%v: %q, want a line with %q", tc.files, got, tc.want)
		}
	}
}

// TestCreateOwnedHolderCannotHang: the holder CreateOwned runs runs as the
// owner, who controls it (it is theirs; they can signal it, ptrace it,
// reopen its pipes through /proc). A holder that stops, writes an endless
// line, or leaves a process holding its output open makes CreateOwned
// fail in bounded time and memory, with nothing left behind, not hang.
// Each stands in for unshare(1) through PATH.
func TestCreateOwnedHolderCannotHang(t *testing.T) {
	nstest.RequireRoot(t)
	real, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip(err)
	}
	defer netns.SetHolderTimeout(2 * time.Second)()
	dir, err := os.MkdirTemp("/tmp", "nstest-holder-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, script string
		works        bool
	}{
		{"stops", "kill -STOP $$", false},
		{"endless", "exec yes ready | tr -d '\\n'", false},
		{"keeps-output", "sleep 90 & exec " + real + ` "$@"`, true},
		{"stops-after-ready", "exec " + real + ` --user --map-root-user --net sh -c 'read l; echo "$l"; kill -STOP $$'`, true},
		{"wrong-answer", "echo nope", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := filepath.Join(dir, c.name)
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			script := "#!/bin/sh\n" + c.script + "\n"
			if err := os.WriteFile(bin+"/unshare", []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
			name := nstest.TempName(t)
			done := make(chan error, 1)
			go func() {
				ns, err := netns.CreateOwned(name, 4242, 4242, nil)
				if err == nil {
					ns.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if c.works {
					if err != nil {
						t.Errorf("CreateOwned: %v", err)
					}
					nstest.Remove(t, name)
					netns.RemoveOwner(name)
					return
				}
				if err == nil || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "<nil>") {
					t.Errorf("CreateOwned: %v; want one line naming the cause", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("CreateOwned hangs on a holder that %s", c.name)
			}
			for _, p := range []string{filepath.Join(netns.RunDir, name), filepath.Join(netns.UserNSDir, name)} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s left behind", p)
				}
			}
		})
	}
}

// TestCreateOwnedDoctorMeanwhile: "netns doctor --fix" run while "add
// --owner" is between its two mounts finds nothing to remove, so the
// delegation is whole once the create returns (a user namespace placed
// before its network namespace was an orphan-owner to doctor, and --fix
// removed it).
func TestCreateOwnedDoctorMeanwhile(t *testing.T) {
	nstest.RequireRoot(t)
	name := nstest.TempName(t)
	var fixed []string
	netns.SetTestHook(func(step string) {
		if step != "owned-half" {
			return
		}
		findings, err := netns.Diagnose()
		if err != nil {
			t.Error(err)
		}
		for _, f := range findings {
			if f.Name == name && f.Fixable() {
				fixed = append(fixed, f.Kind)
				if err := f.Fix(); err != nil {
					t.Error(err)
				}
			}
		}
	})
	defer netns.SetTestHook(nil)
	ns, err := netns.CreateOwned(name, 4242, 4242, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	t.Cleanup(func() {
		nstest.Remove(t, name)
		netns.RemoveOwner(name)
	})
	o, err := netns.LookupOwner(name)
	if err != nil || o == nil || !o.Paired || o.UID != 4242 {
		t.Errorf("after doctor --fix meanwhile (fixed %v): owner %+v, %v; want paired, uid 4242", fixed, o, err)
	}
}
