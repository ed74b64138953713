package runas

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The files are read here rather than through os/user, so that the order
// of the lookups is the same in every build: os/user reads only the files
// when built pure Go (osusergo, as setns is) and asks NSS through libc
// when cgo is on.
const (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// entry is a user from the passwd database.
type entry struct {
	name        string
	uid, gid    uint32
	home, shell string
	files       bool // found in passwdFile, not through NSS
}

// errReserved explains why 4294967295 is never an id here.
var errReserved = errors.New(`4294967295 is reserved ((uid_t)-1 means "unchanged" to setresuid)`)

// isNumber reports whether s is all ASCII digits (and not empty).
func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// parseID reads a user or group id: decimal digits only, below 2^32-1.
func parseID(s string) (uint32, error) {
	if !isNumber(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s is out of range", s)
	case n == math.MaxUint32:
		return 0, errReserved
	}
	return uint32(n), nil
}

// parsePasswd reads a passwd(5) line: exactly seven fields, numeric ids.
func parsePasswd(line string) (entry, error) {
	f := strings.Split(line, ":")
	if len(f) != 7 || f[0] == "" {
		return entry{}, fmt.Errorf("malformed passwd entry %q", line)
	}
	uid, err := parseID(f[2])
	if err != nil {
		return entry{}, fmt.Errorf("user %q: uid %v", f[0], err)
	}
	gid, err := parseID(f[3])
	if err != nil {
		return entry{}, fmt.Errorf("user %q: gid %v", f[0], err)
	}
	return entry{name: f[0], uid: uid, gid: gid, home: f[5], shell: f[6]}, nil
}

// group is an entry of the group database.
type group struct {
	name    string
	gid     uint32
	members []string
}

// parseGroup reads a group(5) line: exactly four fields, a numeric gid.
func parseGroup(line string) (group, error) {
	f := strings.Split(line, ":")
	if len(f) != 4 || f[0] == "" {
		return group{}, fmt.Errorf("malformed group entry %q", line)
	}
	gid, err := parseID(f[2])
	if err != nil {
		return group{}, fmt.Errorf("group %q: gid %v", f[0], err)
	}
	g := group{name: f[0], gid: gid}
	if f[3] != "" {
		g.members = strings.Split(f[3], ",")
	}
	return g, nil
}

// scan calls fn with each line of file that is an entry: not blank, not a
// comment, not an NIS compat ("+"/"-") line. fn returns true to stop.
func scan(file string, fn func(line string) (stop bool)) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.ContainsAny(line[:1], "#+-") {
			continue
		}
		if fn(line) {
			return nil
		}
	}
	return sc.Err()
}

// filesUser finds the user whose name is key (byID false) or whose uid is
// key (byID true) in passwdFile. A matching line with a bad id is an error.
func filesUser(key string, byID bool) (*entry, error) {
	var found *entry
	var perr error
	err := scan(passwdFile, func(line string) bool {
		f := strings.Split(line, ":")
		if len(f) != 7 || byID && f[2] != key || !byID && f[0] != key {
			return false
		}
		e, err := parsePasswd(line)
		found, perr = &e, err
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if found != nil {
		found.files = true
	}
	return found, nil
}

// filesGroup finds the group named name in groupFile.
func filesGroup(name string) (*group, error) {
	var found *group
	var perr error
	err := scan(groupFile, func(line string) bool {
		if n, _, _ := strings.Cut(line, ":"); n != name {
			return false
		}
		g, err := parseGroup(line)
		found, perr = &g, err
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return found, nil
}

// filesGroupsOf returns gid followed by the gids of the groups in
// groupFile that list user as a member, each once, as initgroups(3) would.
func filesGroupsOf(user string, gid uint32) ([]uint32, error) {
	gids := []uint32{gid}
	var perr error
	err := scan(groupFile, func(line string) bool {
		f := strings.Split(line, ":")
		if len(f) != 4 || !slices.Contains(strings.Split(f[3], ","), user) {
			return false
		}
		g, err := parseGroup(line)
		if err != nil {
			perr = err
			return true
		}
		if !slices.Contains(gids, g.gid) {
			gids = append(gids, g.gid)
		}
		return false
	})
	if perr != nil {
		return nil, perr
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return gids, nil
}
