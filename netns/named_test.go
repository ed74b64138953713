package netns_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"blue", true},
		{"with space", true},
		{"-dash", true},
		{"12345", true},
		{"ünïcödé", true},
		{strings.Repeat("x", 255), true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../x", false},
		{"/abs", false},
		{strings.Repeat("x", 256), false},
		{"nul\x00byte", false},
		{"...", true},
	} {
		err := netns.ValidName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, netns.ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want it to wrap ErrInvalidName", tc.name, err)
		}
	}
}

func TestErrorText(t *testing.T) {
	err := &netns.Error{Op: "create", Name: "blue", Err: os.NewSyscallError("mount", fs.ErrPermission)}
	if got, want := err.Error(), `create "blue": mount: permission denied`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false, want true", err)
	}
	if got := netns.Hint(err); got != "are you root?" {
		t.Errorf("Hint = %q, want %q", got, "are you root?")
	}
}

func TestInvalidNamesCreateNothing(t *testing.T) {
	nstest.RequireRoot(t)
	before := listing(t)
	for _, name := range []string{"", ".", "..", "a/b", "../x", strings.Repeat("y", 256), "n\x00ul"} {
		if _, err := netns.Create(name, nil); !errors.Is(err, netns.ErrInvalidName) {
			t.Errorf("Create(%q) = %v, want ErrInvalidName", name, err)
		}
		if _, _, err := netns.Ensure(name, nil); !errors.Is(err, netns.ErrInvalidName) {
			t.Errorf("Ensure(%q) = %v, want ErrInvalidName", name, err)
		}
		if err := netns.Delete(name); !errors.Is(err, netns.ErrInvalidName) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	if _, err := os.Stat("/run/x"); err == nil {
		t.Errorf(`"../x" made /run/x`)
	}
	if after := listing(t); !slices.Equal(before, after) {
		t.Errorf("run dir changed from %q to %q", before, after)
	}
}

func listing(t *testing.T) []string {
	t.Helper()
	names, err := netns.List()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func TestCreateOpenDelete(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.CheckThreadNS(t)
	ns, name := nstest.NewNamed(t)
	if ns.Name() != name {
		t.Errorf("Name() = %q, want %q", ns.Name(), name)
	}
	again, err := netns.Open(name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer again.Close()
	if !ns.Equal(again) {
		t.Errorf("Open(%q) is not Equal to the created handle", name)
	}
	cur, err := netns.Current()
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if cur.Equal(ns) {
		t.Errorf("Create moved the calling thread into %q", name)
	}
	if _, err := netns.Create(name, nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create = %v, want fs.ErrExist", err)
	}
	if names, _ := netns.List(); !slices.Contains(names, name) {
		t.Errorf("List() = %q, missing %q", names, name)
	}
	if err := netns.Delete(name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := netns.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after Delete = %v, want fs.ErrNotExist", err)
	}
	if err := netns.Delete(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Delete = %v, want fs.ErrNotExist", err)
	}
	if err := ns.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := ns.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close = %v, want os.ErrClosed", err)
	}
}

// TestIPInterop checks, for each way of making and deleting a namespace,
// that the other side sees the same namespace, and then that it is gone.
func TestIPInterop(t *testing.T) {
	nstest.RequireIP(t)
	for _, tc := range []struct{ madeBy, deletedBy string }{
		{"us", "us"}, {"us", "ip"}, {"ip", "us"}, {"ip", "ip"},
	} {
		t.Run(tc.madeBy+"-made/"+tc.deletedBy+"-deleted", func(t *testing.T) {
			t.Parallel()
			name := nstest.TempName(t)
			t.Cleanup(func() { nstest.Remove(t, name) })
			if tc.madeBy == "us" {
				ns, err := netns.Create(name, nil)
				if err != nil {
					t.Fatal(err)
				}
				ns.Close()
			} else {
				nstest.MustIP(t, "netns", "add", name)
			}
			if out := nstest.MustIP(t, "netns", "list"); !slices.Contains(listNames(out), name) {
				t.Errorf("ip netns list = %q, missing %q", out, name)
			}
			links := nstest.MustIP(t, "netns", "exec", name, "ip", "-o", "link")
			if n := strings.Count(links, "\n"); n != 1 || !strings.Contains(links, ": lo:") {
				t.Errorf("ip netns exec %s ip -o link = %q, want only lo", name, links)
			}
			ipIno := strings.TrimSpace(nstest.MustIP(t, "netns", "exec", name, "readlink", "/proc/self/ns/net"))
			ns, err := netns.Open(name)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			byPath, err := netns.OpenPath(netns.RunDir + "/" + name)
			if err != nil {
				t.Fatalf("OpenPath: %v", err)
			}
			if !ns.Equal(byPath) {
				t.Errorf("Open and OpenPath disagree")
			}
			if want := "net:[" + strconv.FormatUint(ns.Inode(), 10) + "]"; ipIno != want {
				t.Errorf("ip sees %s, we see %s", ipIno, want)
			}
			ns.Close()
			byPath.Close()
			if tc.deletedBy == "us" {
				if err := netns.Delete(name); err != nil {
					t.Fatal(err)
				}
			} else {
				nstest.MustIP(t, "netns", "delete", name)
			}
			if _, err := netns.Open(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open after delete = %v, want fs.ErrNotExist", err)
			}
			if out := nstest.MustIP(t, "netns", "list"); slices.Contains(listNames(out), name) {
				t.Errorf("ip netns list still shows %q", name)
			}
		})
	}
}

func listNames(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// TestOpenRefusesNonNamespaces: every kind of junk in the run dir gives
// ErrNotNamespace with a clear cause, and Ensure creates nothing over it.
func TestOpenRefusesNonNamespaces(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.NewNamed(t) // makes sure the run dir exists
	for _, tc := range []struct {
		kind, want string
		make       func(path string) error
	}{
		{"symlink", "symbolic link", func(p string) error { return os.Symlink("/proc/1/ns/net", p) }},
		{"directory", "directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"regular file", "regular file", func(p string) error { return os.WriteFile(p, []byte("junk"), 0o644) }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			name := nstest.TempName(t)
			path := netns.RunDir + "/" + name
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(path) })
			_, err := netns.Open(name)
			if !errors.Is(err, netns.ErrNotNamespace) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want ErrNotNamespace naming %q", err, tc.want)
			}
			_, _, err = netns.Ensure(name, nil)
			if !errors.Is(err, netns.ErrNotNamespace) {
				t.Errorf("Ensure = %v, want ErrNotNamespace", err)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if (tc.kind == "symlink") != (fi.Mode()&os.ModeSymlink != 0) || (tc.kind == "directory") != fi.IsDir() {
				t.Errorf("entry changed to %v", fi.Mode())
			}
		})
	}
}

func mustList(t *testing.T) []string {
	t.Helper()
	n, err := netns.List()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestListOrder: List keeps the directory's own order, as ip prints it.
func TestListOrder(t *testing.T) {
	nstest.RequireIP(t)
	var made []string
	for range 3 {
		_, name := nstest.NewNamed(t)
		made = append(made, name)
	}
	var ours []string
	for _, n := range mustList(t) {
		if slices.Contains(made, n) {
			ours = append(ours, n)
		}
	}
	var theirs []string
	for _, n := range listNames(nstest.MustIP(t, "netns", "list")) {
		if slices.Contains(made, n) {
			theirs = append(theirs, n)
		}
	}
	if !slices.Equal(ours, theirs) || len(ours) != 3 {
		t.Errorf("List order %q, ip's %q", ours, theirs)
	}
}

// TestDeleteStacked: a name with two mounts stacked on it (ip then says
// EBUSY once) is removed by one Delete.
func TestDeleteStacked(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	ns, name := nstest.NewNamed(t)
	defer ns.Close()
	path := netns.RunDir + "/" + name
	if out, err := exec.Command("mount", "--bind", path, path).CombinedOutput(); err != nil {
		t.Fatalf("mount --bind: %v %s", err, out)
	}
	if err := netns.Delete(name); err != nil {
		t.Fatalf("Delete of a stacked name: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("entry still there: %v", err)
	}
}

// TestPropagation: a namespace created after another mount namespace was
// made is visible there as a namespace, thanks to the shared run dir.
func TestPropagation(t *testing.T) {
	nstest.RequireRoot(t)
	_, first := nstest.NewNamed(t) // makes sure the run dir is set up
	_ = first
	// A mount namespace that exists before the new name does.
	cmd := exec.Command("unshare", "--mount", "--propagation", "unchanged", "sh", "-c", "read x; stat -f -c %T "+netns.RunDir+"/\"$x\"")
	stdin, _ := cmd.StdinPipe()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// Wait until the child is in its own mount namespace.
	waitMountNSChange(t, cmd.Process.Pid)
	_, name := nstest.NewNamed(t)
	stdin.Write([]byte(name + "\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, out.String())
	}
	if got := strings.TrimSpace(out.String()); got != "nsfs" {
		t.Errorf("from the older mount namespace the new name is on %q, want nsfs", got)
	}
}

func waitMountNSChange(t *testing.T, pid int) {
	t.Helper()
	self, _ := os.Readlink("/proc/self/ns/mnt")
	for range 1000 {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
		if err == nil && l != self {
			if exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); !strings.HasSuffix(exe, "/unshare") {
				return
			}
		}
		sleepBriefly()
	}
	t.Fatal("child never reached its own mount namespace")
}

// TestSharedRunMountedOnce: on hosts where /run is a shared mount (systemd),
// iproute2 before 7.0 shows each namespace twice in mountinfo, because the
// run directory's bind joins /run's peer group. Create makes it private
// first, as iproute2 7.0 does. ip 6.1 is the control.
func TestSharedRunMountedOnce(t *testing.T) {
	nstest.RequireIP(t)
	for _, who := range []string{"us", "ip"} {
		script := `set -e
mount -t tmpfs nstest /run
mount --make-shared /run
if [ "$1" = us ]; then env NETNS_TEST_CREATE=x "$2"; else ip netns add x; fi
grep -c "$(stat -L -c 'net:\[%i\]' /run/netns/x)" /proc/self/mountinfo`
		self, _ := os.Executable()
		out, errs, code := nstest.Run(t, "", "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", who, self)
		want := "1\n"
		if who == "ip" {
			want = "2\n" // the bug the private step fixes
		}
		if code != 0 || out != want {
			t.Errorf("%s: mounts of the namespace = %q (exit %d, %s), want %q", who, out, code, errs, want)
		}
	}
}

// TestReserve: Reserve takes the name at once (a second one fails with
// fs.ErrExist, and Release frees it); Create on the reservations from
// parallel goroutines makes each namespace; a reservation is used once.
func TestReserve(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.CheckThreadNS(t)
	t.Parallel()
	name := nstest.TempName(t)
	r, err := netns.Reserve(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(netns.RunDir + "/" + name); err != nil || fi.Mode().Perm() != 0 {
		t.Errorf("reserved file: %v, %v; want mode 0", fi, err)
	}
	if _, err := netns.Reserve(name); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Reserve: got %v, want fs.ErrExist", err)
	}
	r.Release()
	r.Release()
	if _, err := os.Lstat(netns.RunDir + "/" + name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Release: got %v, want fs.ErrNotExist", err)
	}
	if _, err := r.Create(nil); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Create after Release: got %v, want os.ErrClosed", err)
	}

	res := make([]*netns.Reservation, 8)
	names := make([]string, len(res))
	for i := range res {
		names[i] = nstest.TempName(t)
		if res[i], err = netns.Reserve(names[i]); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nstest.Remove(t, names[i]) })
	}
	errs := make(chan error, len(res))
	for _, r := range res {
		go func() {
			ns, err := r.Create(nil)
			if err == nil {
				err = ns.Close()
			}
			errs <- err
		}()
	}
	for range res {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for i, n := range names {
		ns, err := netns.Open(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		ns.Close()
		if _, err := res[i].Create(nil); !errors.Is(err, os.ErrClosed) {
			t.Errorf("second Create: got %v, want os.ErrClosed", err)
		}
	}
}

// TestDeleteIfOnlyOurs: DeleteIf removes the name while it refers to our
// namespace (stacked copies too), and leaves a name someone deleted and
// made again, even with "ip netns add", alone.
func TestDeleteIfOnlyOurs(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	ours, name := nstest.NewNamed(t)
	path := netns.RunDir + "/" + name
	if err := syscall.Mount(path, path, "none", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := netns.DeleteIf(name, ours); err != nil {
		t.Fatalf("DeleteIf of our own, stacked twice: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the name is still there: %v", err)
	}
	if err := netns.DeleteIf(name, ours); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteIf of a gone name = %v, want fs.ErrNotExist", err)
	}

	// Someone else's namespace under the same name now.
	nstest.MustIP(t, "netns", "add", name)
	theirs, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	if err := netns.DeleteIf(name, ours); !errors.Is(err, netns.ErrNotSame) {
		t.Errorf("DeleteIf of a name made again by ip = %v, want ErrNotSame", err)
	}
	now, err := netns.Open(name)
	if err != nil {
		t.Fatalf("ip's namespace is gone: %v", err)
	}
	defer now.Close()
	if !now.Equal(theirs) {
		t.Error("the name changed namespace")
	}
	// Ours bound onto theirs: only ours comes off, theirs keeps the name.
	if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", ours.Fd()), path, "none", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := netns.DeleteIf(name, ours); err != nil {
		t.Errorf("DeleteIf of ours stacked on theirs: %v", err)
	}
	if n, err := netns.Open(name); err != nil || !n.Equal(theirs) {
		t.Errorf("after removing ours from the stack: %v", err)
	} else {
		n.Close()
	}
	// A bare placeholder is no namespace of ours.
	other := nstest.TempName(t)
	handPlaceholder(t, other)
	if err := netns.DeleteIf(other, ours); !errors.Is(err, netns.ErrNotSame) {
		t.Errorf("DeleteIf of a placeholder = %v, want ErrNotSame", err)
	}
	if _, err := os.Lstat(netns.RunDir + "/" + other); err != nil {
		t.Errorf("the placeholder was removed: %v", err)
	}
}

// TestReleaseTouchesNoOtherMount: giving a reservation up removes the
// name only while nothing is mounted on it; a namespace someone else
// mounted on the reserved file stays, and so does the name.
func TestReleaseTouchesNoOtherMount(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	live, _ := nstest.NewNamed(t)
	name := nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, name) })
	r, err := netns.Reserve(name)
	if err != nil {
		t.Fatal(err)
	}
	path := netns.RunDir + "/" + name
	if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", live.Fd()), path, "none", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	r.Release()
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatalf("Release removed a mount it did not make: %v", err)
	}
	defer ns.Close()
	if !ns.Equal(live) {
		t.Error("the name refers to another namespace")
	}
}
