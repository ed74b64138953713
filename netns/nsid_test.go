package netns_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestIDs assigns, reads and lists nsids. It works inside a throwaway
// namespace (home), so no id is ever assigned in the host's namespace.
func TestIDs(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	home, homeName := nstest.NewNamed(t)
	a, aName := nstest.NewNamed(t)
	b, bName := nstest.NewNamed(t)
	junk := nstest.TempName(t)
	if err := os.WriteFile(netns.RunDir+"/"+junk, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(netns.RunDir + "/" + junk) })

	err := home.Do(func() error {
		c, err := netns.DialIDs()
		if err != nil {
			return err
		}
		defer c.Close()
		checkID(t, c, a, -1)
		if err := c.SetID(a, 7); err != nil {
			t.Errorf("SetID(a, 7) = %v", err)
		}
		checkID(t, c, a, 7)
		checkKernelError(t, "SetID(a, 8)", c.SetID(a, 8), syscall.EEXIST, "already has a nsid")
		checkKernelError(t, "SetID(b, 7)", c.SetID(b, 7), syscall.EEXIST, "already used")
		if err := c.SetID(b, -1); err != nil { // auto: the lowest free id
			t.Errorf("SetID(b, auto) = %v", err)
		}
		checkID(t, c, b, 0)

		ids, err := c.IDs(-1)
		if err != nil || len(ids) != 2 || ids[0].ID != 0 || ids[1].ID != 7 {
			t.Errorf("IDs(-1) = %+v, %v, want ids 0 and 7", ids, err)
		}
		if e, err := c.LookupID(7, -1); err != nil || e.ID != 7 || e.HasCurrent {
			t.Errorf("LookupID(7) = %+v, %v, want ID 7", e, err)
		}
		_, err = c.LookupID(99, -1)
		checkKernelError(t, "LookupID(99)", err, syscall.ENOENT, "Peer netns reference is invalid")
		_, err = c.IDs(99)
		checkKernelError(t, "IDs(99)", err, syscall.EINVAL, "target")

		got := c.NamedIDs([]string{aName, bName, "nstest-missing", junk})
		if got[0].ID != 7 || got[0].Err != nil || got[1].ID != 0 || got[1].Err != nil {
			t.Errorf("NamedIDs: a, b = %+v, %+v, want ids 7 and 0", got[0], got[1])
		}
		if got[2].ID != -1 || !errors.Is(got[2].Err, fs.ErrNotExist) {
			t.Errorf("NamedIDs: missing = %+v, want ENOENT", got[2])
		}
		checkKernelError(t, "NamedIDs: junk", got[3].Err, syscall.EINVAL, "Peer netns reference is invalid")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// ip sees the same ids from inside home.
	out := nstest.MustIP(t, "-n", homeName, "netns", "list-id")
	want := "nsid 0 (iproute2 netns name: " + bName + ")\nnsid 7 (iproute2 netns name: " + aName + ")\n"
	if out != want {
		t.Errorf("ip -n home netns list-id = %q, want %q", out, want)
	}
}

func checkID(t *testing.T, c *netns.IDConn, ns *netns.NS, want int) {
	t.Helper()
	if id, err := c.ID(ns); err != nil || id != want {
		t.Errorf("ID(%s) = %d, %v, want %d", ns, id, err, want)
	}
}

func checkKernelError(t *testing.T, what string, err error, errno syscall.Errno, msg string) {
	t.Helper()
	var ke *netns.KernelError
	if !errors.As(err, &ke) || ke.Errno != errno || !strings.Contains(ke.Message, msg) {
		t.Errorf("%s = %v, want a KernelError %v mentioning %q", what, err, errno, msg)
	}
	if !errors.Is(err, errno) {
		t.Errorf("errors.Is(%v, %v) = false", err, errno)
	}
}

// TestNamedIDsMany checks that pipelined lookups are matched to their
// names across several batches.
func TestNamedIDsMany(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	home, _ := nstest.NewNamed(t)
	var names []string
	var handles []*netns.NS
	for range 150 {
		ns, name := nstest.NewNamed(t)
		names, handles = append(names, name), append(handles, ns)
	}
	err := home.Do(func() error {
		c, err := netns.DialIDs()
		if err != nil {
			return err
		}
		defer c.Close()
		for i, ns := range handles {
			if i%3 != 0 {
				if err := c.SetID(ns, 1000+i); err != nil {
					return err
				}
			}
		}
		for i, got := range c.NamedIDs(names) {
			want := 1000 + i
			if i%3 == 0 {
				want = -1
			}
			if got.Name != names[i] || got.ID != want || got.Err != nil {
				t.Errorf("NamedIDs[%d] = %+v, want %s with id %d", i, got, names[i], want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNamedIDsNoneAssigned: with no nsid assigned in the namespace,
// NamedIDs does not ask about the namespaces (their id can only be -1),
// and reports every other entry as the full lookup does, which runs once
// an id exists.
func TestNamedIDsNoneAssigned(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	home, _ := nstest.NewNamed(t)
	other, _ := nstest.NewNamed(t)
	_, aName := nstest.NewNamed(t)
	_, bName := nstest.NewNamed(t)
	junk, dir, uts := nstest.TempName(t), nstest.TempName(t), nstest.TempName(t)
	for _, n := range []string{junk, uts} {
		if err := os.WriteFile(netns.RunDir+"/"+n, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(netns.RunDir+"/"+dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Another kind of namespace: nsfs, but not a network namespace.
	if err := syscall.Mount("/proc/self/ns/uts", netns.RunDir+"/"+uts, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Unmount(netns.RunDir+"/"+uts, syscall.MNT_DETACH)
		for _, n := range []string{junk, dir, uts} {
			os.Remove(netns.RunDir + "/" + n)
		}
	})
	names := []string{aName, junk, "nstest-missing", dir, uts, bName}
	err := home.Do(func() error {
		c, err := netns.DialIDs()
		if err != nil {
			return err
		}
		defer c.Close()
		quick := c.NamedIDs(names)
		if err := c.SetID(other, 5); err != nil { // now every name is asked about
			return err
		}
		full := c.NamedIDs(names)
		for i := range names {
			q, f := quick[i], full[i]
			if q.Name != f.Name || q.ID != f.ID || fmt.Sprint(q.Err) != fmt.Sprint(f.Err) {
				t.Errorf("%s: without ids %+v, with the full lookup %+v", names[i], q, f)
			}
		}
		if quick[0].ID != -1 || quick[0].Err != nil || quick[5].ID != -1 || quick[5].Err != nil {
			t.Errorf("namespaces: %+v, %+v, want id -1 and no error", quick[0], quick[5])
		}
		checkKernelError(t, "junk", quick[1].Err, syscall.EINVAL, "Peer netns reference is invalid")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestClassifyEntries: the file-handle check NamedIDs makes of each entry
// when no nsid is assigned agrees with opening the file, on every kind of
// entry, and (on Linux 6.18 and later, where nsfs files have handles)
// needs no open for any of them but a dangling symlink.
func TestClassifyEntries(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	_, ns := nstest.NewNamed(t)
	p := func(n string) string { return netns.RunDir + "/" + n }
	names := map[string]string{}
	for _, kind := range []string{"junk", "placeholder", "dir", "link-ns", "link-junk",
		"link-dangling", "link-dir", "uts", "mnt", "bind-junk"} {
		names[kind] = nstest.TempName(t)
	}
	t.Cleanup(func() {
		for _, n := range names {
			syscall.Unmount(p(n), syscall.MNT_DETACH)
			os.Remove(p(n))
		}
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(p(names["junk"]), []byte("junk\n"), 0o644))
	must(os.WriteFile(p(names["placeholder"]), nil, 0)) // a create's reserved file
	must(os.Mkdir(p(names["dir"]), 0o755))
	must(os.Symlink(ns, p(names["link-ns"])))
	must(os.Symlink(names["junk"], p(names["link-junk"])))
	must(os.Symlink("nstest-nowhere", p(names["link-dangling"])))
	must(os.Symlink(p(names["dir"]), p(names["link-dir"])))
	// A mount namespace can only be bound into an older one, and not where
	// the bind would propagate into itself: a private one, made for this.
	sleeper := exec.Command(nstest.NeedTool(t, "unshare", "util-linux"), "--mount", "--propagation", "private", "sleep", "1000")
	must(sleeper.Start())
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	mntNS := fmt.Sprintf("/proc/%d/ns/mnt", sleeper.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", sleeper.Process.Pid))
		if string(comm) == "sleep\n" || time.Now().After(deadline) {
			break // set up and running sleep (or stuck: the bind then fails)
		}
	}
	// And not onto a shared mount such as RunDir, whose copies in newer
	// mount namespaces (ip netns exec's) it would reach: a file of a
	// private tmpfs, with a symlink to it in RunDir.
	priv := t.TempDir()
	must(syscall.Mount("tmpfs", priv, "tmpfs", 0, ""))
	t.Cleanup(func() { syscall.Unmount(priv, syscall.MNT_DETACH) })
	must(syscall.Mount("", priv, "", syscall.MS_PRIVATE, ""))
	must(os.WriteFile(priv+"/mnt", nil, 0))
	// The kernel sometimes refuses this bind with EINVAL for no reason
	// found (its mount-namespace loop check?); the uts entry then stands
	// for nsfs files of other types alone.
	if err := syscall.Mount(mntNS, priv+"/mnt", "", syscall.MS_BIND, ""); err != nil {
		t.Logf("bind %s: %v; the mnt entry is an empty file", mntNS, err)
		delete(names, "mnt")
	}
	if n, ok := names["mnt"]; ok {
		must(os.Symlink(priv+"/mnt", p(n)))
	}
	for kind, src := range map[string]string{"uts": "/proc/self/ns/uts", "bind-junk": p(names["junk"])} {
		must(os.WriteFile(p(names[kind]), nil, 0))
		if err := syscall.Mount(src, p(names[kind]), "", syscall.MS_BIND, ""); err != nil {
			t.Fatalf("bind %s onto the %s entry: %v", src, kind, err)
		}
	}
	handles, err := false, error(nil)
	_, handles, _, err = netns.ClassifyEntry(ns)
	must(err)
	want := map[string]bool{"link-ns": true}
	for kind, n := range names {
		quick, known, full, err := netns.ClassifyEntry(n)
		must(err)
		if full != want[kind] {
			t.Errorf("%s: opened, network namespace %v, want %v", kind, full, want[kind])
		}
		if known && quick != full {
			t.Errorf("%s: by handle, network namespace %v; opened, %v", kind, quick, full)
		}
		if handles && !known && kind != "link-dangling" {
			t.Errorf("%s: the handle could not tell", kind)
		}
	}
	if quick, known, full, _ := netns.ClassifyEntry(ns); !full || known && !quick {
		t.Errorf("namespace: by handle %v (known %v), opened %v; want true", quick, known, full)
	}
	if !handles {
		t.Log("no file handles for nsfs here (Linux < 6.18): every entry is opened")
	}
}
