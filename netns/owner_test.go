package netns_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
