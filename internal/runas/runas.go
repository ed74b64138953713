// Package runas turns a --user USER[:GROUP] argument into the credential
// and environment the commands run COMMAND with.
package runas

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/setns/setns/netns"
)

// User is a resolved --user argument.
type User struct {
	Cred  netns.Credential
	Name  string // login name, or the number when the uid has no entry
	Home  string
	Shell string
}

// Lookup resolves USER[:GROUP], each a name or a numeric id. A name is
// looked up in /etc/passwd (/etc/group), then, if the files have no entry,
// through NSS with getent(1) (LDAP, SSSD, systemd-homed...). A number is
// always an id, never a name: "1000" is uid 1000 even if a user is called
// "1000". A uid with an entry gets that user's group, home, shell and
// supplementary groups (the groups listing the user in /etc/group, or for
// a user only NSS knows, "getent initgroups"); a uid without one is
// allowed, with the same number as group, no supplementary groups, HOME
// "/" and SHELL /bin/sh. GROUP replaces the group, not the supplementary
// groups. The id 4294967295, (uid_t)-1, is refused wherever it comes
// from: setresuid(2) and setresgid(2) read it as "unchanged".
func Lookup(spec string) (*User, error) {
	uname, gname, hasGroup := strings.Cut(spec, ":")
	if uname == "" || hasGroup && gname == "" {
		return nil, fmt.Errorf("invalid user %q: want USER[:GROUP]", spec)
	}
	u, err := lookupUser(uname)
	if err != nil {
		return nil, err
	}
	if hasGroup {
		gid, err := lookupGroup(gname)
		if err != nil {
			return nil, err
		}
		u.Cred.GID = gid
	}
	return u, nil
}

func lookupUser(name string) (*User, error) {
	byID := isNumber(name)
	if byID {
		id, err := parseID(name)
		if err != nil {
			return nil, fmt.Errorf("invalid user %q: uid %v", name, err)
		}
		// The uid as the passwd file and getent write it: "01000" is 1000.
		name = strconv.FormatUint(uint64(id), 10)
	}
	e, err := filesUser(name, byID)
	if err == nil && e == nil {
		e, err = nssUser(name, byID)
	}
	if err != nil {
		return nil, err
	}
	if e == nil {
		if !byID {
			return nil, fmt.Errorf("unknown user %q", name)
		}
		id, _ := parseID(name)
		return &User{Cred: netns.Credential{UID: id, GID: id, Groups: []uint32{}},
			Name: name, Home: "/", Shell: "/bin/sh"}, nil
	}
	var gids []uint32
	if e.files {
		gids, err = filesGroupsOf(e.name, e.gid)
	} else {
		gids, err = nssGroupsOf(e.name, e.gid)
	}
	if err != nil {
		return nil, fmt.Errorf("groups of user %q: %w", name, err)
	}
	shell := e.shell
	if shell == "" {
		shell = "/bin/sh" // passwd(5): an empty shell field means sh
	}
	return &User{Cred: netns.Credential{UID: e.uid, GID: e.gid, Groups: gids},
		Name: e.name, Home: e.home, Shell: shell}, nil
}

// lookupGroup resolves GROUP: a number is a gid, a name is looked up in
// /etc/group, then through getent.
func lookupGroup(name string) (uint32, error) {
	if isNumber(name) {
		gid, err := parseID(name)
		if err != nil {
			return 0, fmt.Errorf("invalid group %q: gid %v", name, err)
		}
		return gid, nil
	}
	g, err := filesGroup(name)
	if err == nil && g == nil {
		g, err = nssGroup(name)
	}
	if err != nil {
		return 0, err
	}
	if g == nil {
		return 0, fmt.Errorf("unknown group %q", name)
	}
	return g.gid, nil
}

// kept are the variables that survive the switch to another user: the
// terminal, locale and search path, and what GUI and audio programs need
// to reach the user's session.
var kept = []string{
	"PATH", "TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ", "NETNS_NAME",
	"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "XDG_RUNTIME_DIR",
	"DBUS_SESSION_BUS_ADDRESS", "PULSE_SERVER",
}

// Env returns the environment for COMMAND run as u: HOME, USER, LOGNAME
// and SHELL for u, plus the variables of env listed in kept and LC_*.
// Everything else (SUDO_*, root's HOME, ...) is dropped, as sudo does.
func (u *User) Env(env []string) []string {
	out := []string{"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name, "SHELL=" + u.Shell}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LC_") || slices.Contains(kept, k) {
			out = append(out, kv)
		}
	}
	return out
}
