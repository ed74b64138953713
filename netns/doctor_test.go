package netns_test

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestDoctor lays out every kind of junk beside live namespaces, checks
// that Diagnose names exactly the broken entries, and that Fix repairs
// the fixable ones and nothing else.
func TestDoctor(t *testing.T) {
	nstest.RequireRoot(t)
	live, liveName := nstest.NewNamed(t)
	defer live.Close()
	dir := netns.RunDir + "/"
	names := map[string]string{} // role -> name
	mk := func(role string, make func(path string) error) string {
		n := nstest.TempName(t)
		names[role] = n
		t.Cleanup(func() { os.RemoveAll(dir + n); nstest.Remove(t, n) })
		if make != nil {
			if err := make(dir + n); err != nil {
				t.Fatalf("%s: %v", role, err)
			}
		}
		return n
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%q: %v %s", args, err, out)
		}
	}
	placeholder := func(p string) error {
		f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
		if err == nil {
			f.Close()
		}
		return err
	}
	mk("placeholder", placeholder)
	mk("young", placeholder)
	mk("junk", func(p string) error { return os.WriteFile(p, []byte("junk"), 0o644) })
	mk("dangling", func(p string) error { return os.Symlink(dir+"nothing-here", p) })
	mk("link-ok", func(p string) error { return os.Symlink(dir+liveName, p) })
	mk("bad-link", func(p string) error { return os.Symlink("/etc/hostname", p) })
	mk("empty-dir", func(p string) error { return os.Mkdir(p, 0o755) })
	mk("dir", func(p string) error {
		os.Mkdir(p, 0o755)
		return os.WriteFile(p+"/keep", nil, 0o644)
	})
	stacked := mk("stacked", nil)
	s, err := netns.Create(stacked, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	run("mount", "--bind", dir+stacked, dir+stacked)
	run("mount", "--bind", dir+stacked, dir+stacked)
	mixed := mk("mixed", nil)
	m, err := netns.Create(mixed, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	run("mount", "--bind", dir+liveName, dir+mixed)
	// A name whose namespace is mounted only in another mount namespace,
	// as a container without shared propagation leaves it.
	unprop := mk("unpropagated", placeholder)
	child := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" "$2" && echo ok && exec sleep 60`, "sh", dir+liveName, dir+unprop)
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ok\n" {
		t.Fatalf("child mount: %q", line)
	}
	for _, role := range []string{"placeholder", "junk", "dangling", "bad-link", "empty-dir", "dir", "unpropagated"} {
		run("touch", "-h", "-d", "1 hour ago", dir+names[role])
	}

	want := map[string]string{
		names["placeholder"]:  netns.KindPlaceholder,
		names["young"]:        netns.KindPlaceholder,
		names["junk"]:         netns.KindJunk,
		names["dangling"]:     netns.KindDanglingLink,
		names["bad-link"]:     netns.KindBadLink,
		names["empty-dir"]:    netns.KindEmptyDir,
		names["dir"]:          netns.KindDir,
		names["stacked"]:      netns.KindStacked,
		names["mixed"]:        netns.KindStackedMixed,
		names["unpropagated"]: netns.KindUnpropagated,
	}
	findings := diagnoseOurs(t, names)
	got := map[string]string{}
	for _, f := range findings {
		got[f.Name] = f.Kind
	}
	if !mapsEqual(got, want) {
		t.Errorf("Diagnose = %v\nwant       %v", got, want)
	}
	fixable := map[string]bool{}
	for _, f := range findings {
		fixable[f.Name] = f.Fixable()
		err := f.Fix()
		if (err == nil) != f.Fixable() {
			t.Errorf("Fix(%s %s) = %v, fixable %v", f.Kind, f.Name, err, f.Fixable())
		}
	}
	for _, role := range []string{"placeholder", "junk", "dangling", "bad-link", "empty-dir", "stacked"} {
		if !fixable[names[role]] {
			t.Errorf("%s was not fixable", role)
		}
	}
	left := map[string]string{}
	for _, f := range diagnoseOurs(t, names) {
		left[f.Name] = f.Kind
	}
	wantLeft := map[string]string{
		names["young"]: netns.KindPlaceholder, names["dir"]: netns.KindDir,
		names["mixed"]: netns.KindStackedMixed, names["unpropagated"]: netns.KindUnpropagated,
	}
	if !mapsEqual(left, wantLeft) {
		t.Errorf("after Fix: %v\nwant        %v", left, wantLeft)
	}
	for _, n := range []string{liveName, names["link-ok"], stacked} {
		ns, err := netns.OpenPath(dir + n)
		if err != nil {
			t.Errorf("%s after Fix: %v", n, err)
			continue
		}
		ns.Close()
	}
	if n := strings.Count(mountsOf(t, stacked), "\n"); n != 1 {
		t.Errorf("stacked name has %d mounts after Fix, want 1", n)
	}
	if _, err := os.Stat(dir + names["dir"] + "/keep"); err != nil {
		t.Errorf("a directory with entries was touched: %v", err)
	}
	if out, err := exec.Command("nsenter", "-t", strconv.Itoa(child.Process.Pid), "-m", "stat", "-f", "-c", "%T", dir+unprop).Output(); err != nil || string(out) != "nsfs\n" {
		t.Errorf("the other mount namespace lost its namespace: %q %v", out, err)
	}
}

func diagnoseOurs(t *testing.T, names map[string]string) []netns.Finding {
	t.Helper()
	all, err := netns.Diagnose()
	if err != nil {
		t.Fatal(err)
	}
	var ours []netns.Finding
	for _, f := range all {
		for _, n := range names {
			if f.Name == n {
				ours = append(ours, f)
			}
		}
	}
	return ours
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
