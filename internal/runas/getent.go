package runas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Users and groups that only NSS knows (LDAP, SSSD, systemd-homed and
// userdb, ...) are asked of getent(1), which goes through the system's
// nsswitch.conf, when the files have no entry. getent is run from a fixed
// place, never from $PATH, with an empty environment, and its answer is
// parsed as strictly as the files are.

// getentPaths are where getent is looked for, in order.
var getentPaths = []string{"/usr/bin/getent", "/bin/getent"}

// getentTimeout bounds one getent run (a directory server may not answer).
const getentTimeout = 30 * time.Second

// getent runs "getent DB KEY" and returns its output lines; none when
// the database has no such key (status 2) or getent is not installed.
func getent(db, key string) ([]string, error) {
	if key == "" || strings.ContainsAny(key, ":,\n\x00 \t") || strings.HasPrefix(key, "-") {
		return nil, nil // no entry can have such a name
	}
	var bin string
	for _, p := range getentPaths {
		if _, err := exec.LookPath(p); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), getentTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, db, key)
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("getent %s %s: %v %s", db, key, err, strings.TrimSpace(stderr.String()))
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"), nil
}

// nssUser asks getent for the user named key (byID false) or with uid key.
func nssUser(key string, byID bool) (*entry, error) {
	lines, err := getent("passwd", key)
	if err != nil || lines == nil {
		return nil, err
	}
	return parseNSSUser(lines, key, byID)
}

// parseNSSUser checks getent's answer: one passwd line, for key.
func parseNSSUser(lines []string, key string, byID bool) (*entry, error) {
	if len(lines) != 1 {
		return nil, fmt.Errorf("getent passwd %s: %d entries, want 1", key, len(lines))
	}
	e, err := parsePasswd(lines[0])
	if err != nil {
		return nil, fmt.Errorf("getent passwd %s: %w", key, err)
	}
	if byID && fmt.Sprint(e.uid) != key || !byID && e.name != key {
		return nil, fmt.Errorf("getent passwd %s: answered for %q (uid %d)", key, e.name, e.uid)
	}
	return &e, nil
}

// nssGroup asks getent for the group named name.
func nssGroup(name string) (*group, error) {
	lines, err := getent("group", name)
	if err != nil || lines == nil {
		return nil, err
	}
	return parseNSSGroup(lines, name)
}

// parseNSSGroup checks getent's answer: one group line, for name.
func parseNSSGroup(lines []string, name string) (*group, error) {
	if len(lines) != 1 {
		return nil, fmt.Errorf("getent group %s: %d entries, want 1", name, len(lines))
	}
	g, err := parseGroup(lines[0])
	if err != nil {
		return nil, fmt.Errorf("getent group %s: %w", name, err)
	}
	if g.name != name {
		return nil, fmt.Errorf("getent group %s: answered for %q", name, g.name)
	}
	return &g, nil
}

// nssGroupsOf returns gid followed by the groups "getent initgroups"
// lists for user, each once.
func nssGroupsOf(user string, gid uint32) ([]uint32, error) {
	lines, err := getent("initgroups", user)
	if err != nil {
		return nil, err
	}
	return parseInitgroups(lines, user, gid)
}

// parseInitgroups reads getent's "USER GID..." line (none: no groups).
func parseInitgroups(lines []string, user string, gid uint32) ([]uint32, error) {
	gids := []uint32{gid}
	if lines == nil {
		return gids, nil
	}
	f := strings.Fields(strings.Join(lines, "\n"))
	if len(lines) != 1 || len(f) == 0 || f[0] != user {
		return nil, fmt.Errorf("getent initgroups %s: malformed answer %q", user, strings.Join(lines, "\n"))
	}
	for _, s := range f[1:] {
		g, err := parseID(s)
		if err != nil {
			return nil, fmt.Errorf("getent initgroups %s: gid %v", user, err)
		}
		if !slices.Contains(gids, g) {
			gids = append(gids, g)
		}
	}
	return gids, nil
}
