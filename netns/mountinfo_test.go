package netns_test

import (
	"errors"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestListSubmounts: listmount(2) finds the same submounts as mountinfo,
// for /sys and for a tree built here with nested, stacked and oddly named
// mounts.
func TestListSubmounts(t *testing.T) {
	nstest.RequireRoot(t)
	if _, err := netns.ListSubmounts("/"); errors.Is(err, syscall.ENOSYS) {
		t.Skip("listmount(2) needs Linux 6.8; the mountinfo fallback is used")
	}
	dir := t.TempDir()
	mount := func(p string) {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("nstest", p, "tmpfs", 0, ""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(p, syscall.MNT_DETACH) })
	}
	plain := dir + "/plain"
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	top := dir + "/top"
	mount(top)
	mount(top + "/a")
	mount(top + "/a/nested")
	mount(top + "/with space\tand\\tab")
	mount(top + "/b")
	mount(top + "/b") // stacked: a child of the first /b, not of top
	for _, tc := range []struct {
		dir  string
		want []string // nil: only compare with mountinfo
	}{
		{top, []string{top + "/a", top + "/with space\tand\\tab", top + "/b"}},
		{top + "/a", []string{top + "/a/nested"}},
		{plain, []string{}},
		{"/sys", nil},
		{"/run", nil},
	} {
		got, err := netns.ListSubmounts(tc.dir)
		if err != nil {
			t.Fatalf("ListSubmounts(%q): %v", tc.dir, err)
		}
		ref, err := netns.MountinfoSubmounts(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ref) || len(got) > 0 && !slices.Equal(got, ref) {
			t.Errorf("ListSubmounts(%q) = %q, mountinfo gives %q", tc.dir, got, ref)
		}
		if tc.want != nil && (len(got) != len(tc.want) || len(got) > 0 && !slices.Equal(got, tc.want)) {
			t.Errorf("ListSubmounts(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}
