// Package runas turns a --user USER[:GROUP] argument into the credential
// and environment the commands run COMMAND with.
package runas

import (
	"fmt"
	"os/user"
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

// Lookup resolves USER[:GROUP], each a name or a numeric id, in the user
// and group databases. Supplementary groups are the user's groups from the
// group database. A numeric uid without a passwd entry is allowed: its
// group defaults to the same number, HOME to "/" and SHELL to /bin/sh.
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
	pw, err := user.Lookup(name)
	if _, numeric := strconv.ParseUint(name, 10, 32); numeric == nil {
		if err != nil {
			pw, err = user.LookupId(name)
		}
		if err != nil {
			id, _ := strconv.ParseUint(name, 10, 32)
			return &User{Cred: netns.Credential{UID: uint32(id), GID: uint32(id), Groups: []uint32{}},
				Name: name, Home: "/", Shell: "/bin/sh"}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("unknown user %q", name)
	}
	uid, err1 := strconv.ParseUint(pw.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(pw.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %q has a non-numeric id", name)
	}
	u := &User{Cred: netns.Credential{UID: uint32(uid), GID: uint32(gid), Groups: []uint32{}},
		Name: pw.Username, Home: pw.HomeDir, Shell: loginShell(pw.Username)}
	gids, err := pw.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user %q: %w", name, err)
	}
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			u.Cred.Groups = append(u.Cred.Groups, uint32(n))
		}
	}
	return u, nil
}

func lookupGroup(name string) (uint32, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		if n, perr := strconv.ParseUint(name, 10, 32); perr == nil {
			return uint32(n), nil
		}
		return 0, fmt.Errorf("unknown group %q", name)
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("group %q has a non-numeric id", name)
	}
	return uint32(n), nil
}

// loginShell returns the shell field of the user's passwd entry; os/user
// does not expose it.
func loginShell(name string) string {
	if sh := passwdField(name, 6); sh != "" {
		return sh
	}
	return "/bin/sh"
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
