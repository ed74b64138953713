package netns_test

import (
	"bufio"
	"fmt"
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
	// Stacked on a name older than the age guard: a namespace bound on an
	// old placeholder, then the name bound onto itself twice.
	stacked := mk("stacked", placeholder)
	run("touch", "-d", "1 hour ago", dir+stacked)
	run("mount", "--bind", dir+liveName, dir+stacked)
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
		// Each still opens, as the namespace it was.
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

// otherMountNS starts a process in a new mount namespace (private
// propagation) that binds the run directory at another path, as a
// container run with -v /run/netns:/var/run/netns does, and mounts the
// namespace at nsPath on NAME there. It returns the process.
func otherMountNS(t *testing.T, nsPath, name string) (*exec.Cmd, string) {
	t.Helper()
	elsewhere := t.TempDir()
	child := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" "$2" && mount --bind "$3" "$2/$4" && echo ok && exec sleep 600`,
		"sh", netns.RunDir, elsewhere, nsPath, name)
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ok\n" {
		t.Fatalf("child mount: %q", line)
	}
	return child, elsewhere
}

// TestDoctorSparesRunDirBoundElsewhere: a container that binds the run
// directory at another path has a live namespace on a name that is only
// an old placeholder here. Diagnose must see it (by the directory's device
// and inode, not the path), and Fix must not unlink it.
func TestDoctorSparesRunDirBoundElsewhere(t *testing.T) {
	nstest.RequireRoot(t)
	live, liveName := nstest.NewNamed(t)
	name := nstest.TempName(t)
	handPlaceholder(t, name)
	child, elsewhere := otherMountNS(t, netns.RunDir+"/"+liveName, name)
	checkSpared(t, name, fmt.Sprintf("/proc/%d/root%s/%s", child.Process.Pid, elsewhere, name), live.Inode())
}

// TestDoctorSparesNamespaceWithoutProcess: the same, but no process is
// left in that mount namespace: an open descriptor of it keeps it.
func TestDoctorSparesNamespaceWithoutProcess(t *testing.T) {
	nstest.RequireRoot(t)
	live, liveName := nstest.NewNamed(t)
	name := nstest.TempName(t)
	handPlaceholder(t, name)
	child, elsewhere := otherMountNS(t, netns.RunDir+"/"+liveName, name)
	holder, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", child.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	child.Process.Kill()
	child.Wait()
	if f := checkSpared(t, name, "", live.Inode()); !strings.Contains(f.Detail, "no process seen in it") {
		t.Errorf("detail %q does not say that no process is in that mount namespace", f.Detail)
	}
	look := exec.Command("nsenter", "--mount=/proc/self/fd/3", "stat", "-L", "-c", "%i", elsewhere+"/"+name)
	look.ExtraFiles = []*os.File{holder}
	if out, err := look.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != strconv.FormatUint(live.Inode(), 10) {
		t.Errorf("the namespace mounted in the other mount namespace is gone: %q %v", out, err)
	}
}

// checkSpared runs Diagnose and Fix and checks that name is reported as
// mounted elsewhere, left alone, and (when view, the name's path in the
// other mount namespace, is given) that the namespace ino is still
// mounted there.
func checkSpared(t *testing.T, name, view string, ino uint64) *netns.Finding {
	t.Helper()
	all, err := netns.Diagnose()
	if err != nil {
		t.Fatal(err)
	}
	var f *netns.Finding
	for i := range all {
		if all[i].Name == name {
			f = &all[i]
		}
	}
	if f == nil {
		t.Fatalf("Diagnose does not report %s", name)
	}
	defer t.Logf("%s: %s", f.Kind, f.Detail)
	if f.Kind != netns.KindUnpropagated || f.Fixable() {
		t.Errorf("Diagnose: %s %q fixable %v, want %s and not fixable", f.Kind, f.Detail, f.Fixable(), netns.KindUnpropagated)
	}
	if err := f.Fix(); err == nil {
		t.Error("Fix acted on a name mounted in another mount namespace")
	}
	if _, err := os.Lstat(netns.RunDir + "/" + name); err != nil {
		t.Errorf("the name was removed: %v", err)
	}
	if view == "" {
		return f
	}
	var st syscall.Stat_t
	if err := syscall.Stat(view, &st); err != nil || st.Ino != ino {
		t.Errorf("the other mount namespace lost its namespace: inode %d, %v", st.Ino, err)
	}
	return f
}

// TestDoctorUnstack: a stacked name is left alone while young (a create
// may be at work on it); once old, Fix takes the extra mounts off and the
// name opens as its namespace at every moment meanwhile.
func TestDoctorUnstack(t *testing.T) {
	nstest.RequireRoot(t)
	live, liveName := nstest.NewNamed(t)
	name := nstest.TempName(t)
	path := handPlaceholder(t, name) // dated an hour ago
	young := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, young) })
	if _, err := netns.Create(young, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range [][2]string{
		{netns.RunDir + "/" + liveName, path}, {path, path}, {path, path},
		{netns.RunDir + "/" + young, netns.RunDir + "/" + young},
	} {
		if err := syscall.Mount(m[0], m[1], "none", syscall.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
	}
	findings, err := netns.Diagnose()
	if err != nil {
		t.Fatal(err)
	}
	var old *netns.Finding
	for i, f := range findings {
		switch f.Name {
		case young:
			if f.Kind != netns.KindStacked || f.Fixable() || f.Blocked == "" {
				t.Errorf("young stacked name: %s fixable %v blocked %q, want stacked, blocked", f.Kind, f.Fixable(), f.Blocked)
			}
		case name:
			old = &findings[i]
		}
	}
	if old == nil || old.Kind != netns.KindStacked || !old.Fixable() {
		t.Fatalf("old stacked name: %+v, want a fixable stacked finding", old)
	}
	stop := make(chan struct{})
	bad := make(chan error, 1)
	go func() {
		defer close(bad)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ns, err := netns.Open(name)
			if err == nil && !ns.Equal(live) {
				err = fmt.Errorf("opens as another namespace")
			}
			if err != nil {
				bad <- err
				return
			}
			ns.Close()
		}
	}()
	if err := old.Fix(); err != nil {
		t.Errorf("Fix: %v", err)
	}
	close(stop)
	if err := <-bad; err != nil {
		t.Errorf("while unstacking, the name: %v", err)
	}
	if n := strings.Count(mountsOf(t, name), "\n"); n != 1 {
		t.Errorf("%d mounts after Fix, want 1:\n%s", n, mountsOf(t, name))
	}
}

// TestDoctorUnstackWaitsForNoLock: Fix of a stacked name whose file is
// locked (a create or delete of ours at work on it, or stopped there)
// reports that and returns, instead of waiting for the lock without
// bound; the mounts stay.
func TestDoctorUnstackWaitsForNoLock(t *testing.T) {
	nstest.RequireRoot(t)
	_, liveName := nstest.NewNamed(t)
	name := nstest.TempName(t)
	path := handPlaceholder(t, name) // dated an hour ago
	held, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{netns.RunDir + "/" + liveName, path} {
		if err := syscall.Mount(src, path, "none", syscall.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
	}
	findings, err := netns.Diagnose()
	if err != nil {
		t.Fatal(err)
	}
	var f *netns.Finding
	for i := range findings {
		if findings[i].Name == name {
			f = &findings[i]
		}
	}
	if f == nil || f.Kind != netns.KindStacked {
		t.Fatalf("stacked name: %+v, want a stacked finding", f)
	}
	if f.Fixable() {
		t.Errorf("a stacked name whose file is locked is Fixable")
	}
	done := make(chan error, 1)
	go func() { done <- f.Fix() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Fix acted on a stacked name whose file is locked")
		}
	case <-time.After(hangGuard):
		syscall.Flock(int(held.Fd()), syscall.LOCK_UN)
		<-done
		t.Fatal("Fix waited for the lock")
	}
	if n := strings.Count(mountsOf(t, name), "\n"); n != 2 {
		t.Errorf("%d mounts after Fix, want the 2 there were:\n%s", n, mountsOf(t, name))
	}
}

// TestDoctorSparesEntryBoundAsFile: a container that binds the entry's
// file itself (-v /run/netns/NAME:/somewhere) and mounts a namespace on
// that bind has its namespace mounted on the very file: unlinking the
// name would detach it, though no path there ends in the run directory.
func TestDoctorSparesEntryBoundAsFile(t *testing.T) {
	nstest.RequireRoot(t)
	live, liveName := nstest.NewNamed(t)
	name := nstest.TempName(t)
	path := handPlaceholder(t, name) // dated an hour ago
	elsewhere := t.TempDir()
	target := elsewhere + "/file"
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	child := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" "$2" && mount --bind "$3" "$2" && echo ok && exec sleep 600`,
		"sh", path, target, netns.RunDir+"/"+liveName)
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ok\n" {
		t.Fatalf("child mount: %q", line)
	}
	checkSpared(t, name, fmt.Sprintf("/proc/%d/root%s", child.Process.Pid, target), live.Inode())
}
