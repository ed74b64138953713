package netns

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	// RunDir is where named namespaces live: NAME is the file RunDir/NAME
	// with the namespace bind-mounted onto it. It is the directory Debian's
	// ip(8) is built with (NETNS_RUN_DIR); upstream's default /var/run/netns
	// is the same directory through the /var/run -> /run symlink.
	RunDir = "/run/netns"

	// EtcDir holds per-namespace configuration: each entry of EtcDir/NAME
	// is bind-mounted over /etc/ENTRY when a command runs in NAME.
	EtcDir = "/etc/netns"

	// maxNameLen is NAME_MAX, the longest name ip(8) accepts.
	maxNameLen = 255
)

// ValidName reports why name cannot name a namespace, or nil. The rules are
// ip(8)'s (invalid_name in ip/ipnetns.c): non-empty, at most 255 bytes, no
// "/", not "." or "..". A NUL byte, which ip cannot even receive, is refused
// as well. Errors wrap ErrInvalidName.
func ValidName(name string) error {
	why := ""
	switch {
	case name == "":
		why = "empty"
	case len(name) > maxNameLen:
		why = fmt.Sprintf("longer than %d bytes", maxNameLen)
	case strings.ContainsRune(name, '/'):
		why = `contains "/"`
	case name == "." || name == "..":
		why = `"." and ".." are reserved`
	case strings.ContainsRune(name, 0):
		why = "contains a NUL byte"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidName, why)
}

// namePath validates name and returns RunDir/name.
func namePath(name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	return RunDir + "/" + name, nil
}

// Delete removes the name NAME, like "ip netns delete NAME": it detaches
// the bind mount and removes the file. Processes and handles still inside
// the namespace keep it alive; Delete does not kill them.
//
// Unlike ip, Delete also removes mounts stacked on the name by repeated
// binds (ip then fails with EBUSY once). A name that is not a namespace
// (a placeholder, junk file or dangling symlink) is removed too, as ip
// does; a directory is not. Needs CAP_SYS_ADMIN.
func Delete(name string) error {
	path, err := namePath(name)
	if err != nil {
		return newError("delete", name, err)
	}
	if err := removeEntry(path); err != nil {
		return newError("delete", name, err)
	}
	return nil
}

// removeEntry detaches every mount stacked on path and unlinks it.
func removeEntry(path string) error {
	for i := 0; ; i++ {
		// The result is ignored, as in iproute2: EINVAL just means nothing
		// (more) is mounted there.
		_ = umountDetach(path)
		err := unlink(path)
		if err != errEBUSY || i == 16 {
			if err != nil {
				return os.NewSyscallError("unlink", err)
			}
			return nil
		}
	}
}

// List returns the names in RunDir in the directory's own order, as
// "ip netns list" prints them (ip does not sort; on tmpfs the newest comes
// first). Entries are not checked: a placeholder or junk file is listed
// too. A missing RunDir gives a nil list and no error; an empty one gives
// an empty, non-nil list.
func List() ([]string, error) {
	f, err := os.Open(RunDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, newError("list", RunDir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1) // unsorted, unlike os.ReadDir
	if err != nil {
		return nil, newError("list", RunDir, err)
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}
