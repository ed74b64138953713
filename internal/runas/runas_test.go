package runas

import (
	"fmt"
	"slices"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want string // "uid gid" or "error: ..."
	}{
		{"root", "0 0"},
		{"0", "0 0"},
		{"root:0", "0 0"},
		{"nobody", "65534 65534"},
		{"4711", "4711 4711"}, // numeric, no passwd entry
		{"4711:4712", "4711 4712"},
		{"", "error: invalid user \"\": want USER[:GROUP]"},
		{"root:", "error: invalid user \"root:\": want USER[:GROUP]"},
		{"no-such-user-xyz", "error: unknown user \"no-such-user-xyz\""},
		{"root:no-such-group-xyz", "error: unknown group \"no-such-group-xyz\""},
	} {
		u, err := Lookup(tc.spec)
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = fmt.Sprint(u.Cred.UID, " ", u.Cred.GID)
		}
		if got != tc.want {
			t.Errorf("Lookup(%q) = %s, want %s", tc.spec, got, tc.want)
		}
	}
}

func TestEnv(t *testing.T) {
	u := &User{Name: "alice", Home: "/home/alice", Shell: "/bin/zsh"}
	got := u.Env([]string{"HOME=/root", "USER=root", "PATH=/usr/bin", "DISPLAY=:0", "SUDO_USER=alice",
		"LC_ALL=C", "XAUTHORITY=/x", "SECRET=1", "NETNS_NAME=blue", "PULSE_SERVER=unix:/p"})
	want := []string{"HOME=/home/alice", "USER=alice", "LOGNAME=alice", "SHELL=/bin/zsh",
		"PATH=/usr/bin", "DISPLAY=:0", "LC_ALL=C", "XAUTHORITY=/x", "NETNS_NAME=blue", "PULSE_SERVER=unix:/p"}
	if !slices.Equal(got, want) {
		t.Errorf("Env = %q, want %q", got, want)
	}
}
