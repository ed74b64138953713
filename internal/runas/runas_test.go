package runas

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// TestMain runs the root tests in the sandbox, where /etc is an overlay
// they may write (TestLookupOrder) without touching the host's files.
func TestMain(m *testing.M) { nstest.Main(m) }

const reserved = `4294967295 is reserved ((uid_t)-1 means "unchanged" to setresuid)`

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
		{"0065534", "65534 65534"}, // leading zeros: the same uid, with its entry
		{"00:065534", "0 65534"},
		{"4294967294:4294967294", "4294967294 4294967294"},
		{"", "error: invalid user \"\": want USER[:GROUP]"},
		{"root:", "error: invalid user \"root:\": want USER[:GROUP]"},
		{"no-such-user-xyz", "error: unknown user \"no-such-user-xyz\""},
		{"root:no-such-group-xyz", "error: unknown group \"no-such-group-xyz\""},
		// (uid_t)-1 is "unchanged" to setresuid: it would keep root.
		{"4294967295", `error: invalid user "4294967295": uid ` + reserved},
		{"4294967295:4294967295", `error: invalid user "4294967295": uid ` + reserved},
		{"nobody:4294967295", `error: invalid group "4294967295": gid ` + reserved},
		{"4294967296", `error: invalid user "4294967296": uid 4294967296 is out of range`},
		{"0:99999999999", `error: invalid group "99999999999": gid 99999999999 is out of range`},
		{"root:-1", `error: unknown group "-1"`},
		{"-1", `error: unknown user "-1"`},
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

func TestParseEntries(t *testing.T) {
	for _, tc := range []struct {
		line, want string
	}{
		{"alice:x:1000:1001:Alice:/home/alice:/bin/zsh", "alice 1000 1001 /home/alice /bin/zsh"},
		{"alice:x:1000:1001:Alice:/home/alice", `error: malformed passwd entry "alice:x:1000:1001:Alice:/home/alice"`},
		{"alice:x:1000:1001:A:/h:/bin/sh:extra", `error: malformed passwd entry "alice:x:1000:1001:A:/h:/bin/sh:extra"`},
		{"alice:x:4294967295:0::/:/bin/sh", `error: user "alice": uid ` + reserved},
		{"alice:x:0:4294967295::/:/bin/sh", `error: user "alice": gid ` + reserved},
		{"alice:x:+1:0::/:/bin/sh", `error: user "alice": uid "+1" is not a number`},
		{"alice:x: 1:0::/:/bin/sh", `error: user "alice": uid " 1" is not a number`},
		{"alice:x:-1:0::/:/bin/sh", `error: user "alice": uid "-1" is not a number`},
		{":x:1:1::/:/bin/sh", `error: malformed passwd entry ":x:1:1::/:/bin/sh"`},
	} {
		e, err := parsePasswd(tc.line)
		got := fmt.Sprint(e.name, " ", e.uid, " ", e.gid, " ", e.home, " ", e.shell)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("parsePasswd(%q) = %s, want %s", tc.line, got, tc.want)
		}
	}
	// getent's answers must be one entry, for the key asked.
	for _, tc := range []struct {
		lines []string
		key   string
		byID  bool
		want  string
	}{
		{[]string{"bob:x:2000:2000::/home/bob:/bin/sh"}, "bob", false, "bob 2000"},
		{[]string{"bob:x:2000:2000::/home/bob:/bin/sh"}, "2000", true, "bob 2000"},
		{[]string{"bob:x:2000:2000::/home/bob:/bin/sh"}, "eve", false, `error: getent passwd eve: answered for "bob" (uid 2000)`},
		{[]string{"bob:x:2000:2000::/home/bob:/bin/sh"}, "2001", true, `error: getent passwd 2001: answered for "bob" (uid 2000)`},
		{[]string{"bob:x:2000:2000::/:/bin/sh", "bob:x:0:0::/:/bin/sh"}, "bob", false, "error: getent passwd bob: 2 entries, want 1"},
		{[]string{"bob:x:4294967295:0::/:/bin/sh"}, "bob", false, `error: getent passwd bob: user "bob": uid ` + reserved},
	} {
		e, err := parseNSSUser(tc.lines, tc.key, tc.byID)
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = fmt.Sprint(e.name, " ", e.uid)
		}
		if got != tc.want {
			t.Errorf("parseNSSUser(%q, %q) = %s, want %s", tc.lines, tc.key, got, tc.want)
		}
	}
	if g, err := parseInitgroups([]string{"bob   27 100 27"}, "bob", 100); err != nil || !slices.Equal(g, []uint32{100, 27}) {
		t.Errorf("parseInitgroups = %v, %v; want [100 27]", g, err)
	}
	for _, bad := range [][]string{{"eve 27"}, {"bob 4294967295"}, {"bob x"}, {"bob 1", "bob 2"}} {
		if g, err := parseInitgroups(bad, "bob", 100); err == nil {
			t.Errorf("parseInitgroups(%q) = %v, want an error", bad, g)
		}
	}
	if g, err := parseNSSGroup([]string{"wheel:x:4294967295:"}, "wheel"); err == nil {
		t.Errorf("parseNSSGroup with gid 4294967295 = %v, want an error", g)
	}
}

// TestGetentRoot asks the real getent(1) for root, by name and by uid.
func TestGetentRoot(t *testing.T) {
	if _, err := os.Stat(getentPaths[0]); err != nil {
		if _, err := os.Stat(getentPaths[1]); err != nil {
			t.Skip("getent(1) not installed")
		}
	}
	for _, tc := range []struct {
		key  string
		byID bool
	}{{"root", false}, {"0", true}} {
		e, err := nssUser(tc.key, tc.byID)
		if err != nil || e == nil || e.name != "root" || e.uid != 0 || e.gid != 0 {
			t.Errorf("nssUser(%q) = %+v, %v; want root 0 0", tc.key, e, err)
		}
	}
	if e, err := nssUser("no-such-user-xyz", false); e != nil || err != nil {
		t.Errorf("nssUser(no-such-user-xyz) = %+v, %v; want nothing", e, err)
	}
}

// TestLookupOrder rewrites the sandbox's /etc/passwd and /etc/group: a
// numeric spec is a uid even when a user has that number as name; ids
// of 4294967295 in the files are refused; a user the files lack is found
// through NSS (here nss-systemd's synthesized "nobody", whose entry
// differs from the files' one).
func TestLookupOrder(t *testing.T) {
	nstest.RequireRoot(t)
	if !nstest.InSandbox() {
		t.Fatal("not in the test sandbox: refusing to write /etc/passwd")
	}
	for _, f := range []string{passwdFile, groupFile} {
		old, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.WriteFile(f, old, 0o644) })
	}
	var pw []string
	old, _ := os.ReadFile(passwdFile)
	for _, l := range strings.Split(string(old), "\n") {
		if l != "" && !strings.HasPrefix(l, "nobody:") {
			pw = append(pw, l)
		}
	}
	pw = append(pw, "4713:x:5000:5000::/home/impostor:/bin/sh", "realk:x:4713:4713::/home/realk:/bin/bash",
		"evil:x:4294967295:0::/:/bin/sh", "evilg:x:5001:4294967295::/:/bin/sh")
	if err := os.WriteFile(passwdFile, []byte(strings.Join(pw, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	grp, _ := os.ReadFile(groupFile)
	grp = append(grp, "badgrp:x:4294967295:\nrealkx:x:1234:realk\n"...)
	if err := os.WriteFile(groupFile, grp, 0o644); err != nil {
		t.Fatal(err)
	}

	u, err := Lookup("4713")
	if err != nil || u.Cred.UID != 4713 || u.Name != "realk" || u.Home != "/home/realk" || u.Shell != "/bin/bash" ||
		!slices.Equal(u.Cred.Groups, []uint32{4713, 1234}) {
		t.Errorf("Lookup(4713) = %+v, %v; want uid 4713 (realk), groups [4713 1234]", u, err)
	}
	for spec, want := range map[string]string{
		"evil":        `user "evil": uid ` + reserved,
		"evilg":       `user "evilg": gid ` + reserved,
		"root:badgrp": `group "badgrp": gid ` + reserved,
	} {
		if u, err := Lookup(spec); err == nil || err.Error() != want {
			t.Errorf("Lookup(%q) = %+v, %v; want %s", spec, u, err, want)
		}
	}

	if e, _ := nssUser("nobody", false); e == nil {
		t.Skip("getent finds no nobody once /etc/passwd lacks it (no nss-systemd): cannot show the NSS fallback")
	}
	u, err = Lookup("nobody")
	if err != nil || u.Cred.UID != 65534 || u.Name != "nobody" {
		t.Fatalf("Lookup(nobody) with nobody only in NSS = %+v, %v; want uid 65534", u, err)
	}
	if e, _ := filesUser("nobody", false); e != nil {
		t.Errorf("the files still have nobody: %+v", e)
	}
}
