package netns

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
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
// does; a directory is not. To remove a name only while it still refers
// to a namespace of yours, use DeleteIf. Delete and DeleteIf lock the file
// under the mounts while they work, as a create of this package does, so
// they wait (up to two seconds) for a create in progress on the name to
// finish. Needs CAP_SYS_ADMIN.
func Delete(name string) error {
	path, err := namePath(name)
	if err != nil {
		return newError("delete", name, err)
	}
	if err := removeEntry(name, path); err != nil {
		return newError("delete", name, err)
	}
	return nil
}

// removeEntry detaches every mount stacked on path and unlinks it. It
// holds the lock of the file under the mounts meanwhile, so Ensure does
// not take the file, briefly a bare placeholder, for one left by a crash.
func removeEntry(name, path string) error {
	if under, err := openCovered(RunDir, name); err == nil {
		defer closeFd(under)
		lockBounded(under)
	}
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

// lockWait bounds how long Delete and DeleteIf wait for a create of ours
// in progress on the name (a stopped process may hold the lock forever).
const lockWait = 2 * time.Second

// lockBounded takes the lock of fd, waiting at most lockWait for it. Not
// getting it is no error: the lock only keeps Ensure from taking the bare
// file for abandoned between an unmount and the unlink, and a create that
// loses its file meanwhile fails cleanly (its mount finds no file).
func lockBounded(fd int) {
	wait := 100 * time.Microsecond
	for deadline := time.Now().Add(lockWait); ; {
		if got, err := flockTry(fd); got || err != nil || time.Now().After(deadline) {
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// ErrNotSame is the cause DeleteIf returns when the name refers to another
// namespace, or another file, than the one it was asked to remove.
var ErrNotSame = errors.New("the name refers to another namespace now")

// DeleteIf removes the name NAME like Delete, but only while it still
// refers to the namespace ns: the one mounted on the name must be ns (same
// nsfs device and inode), and the file under the mount must be the one
// that was there when DeleteIf looked first. Only mounts of ns are
// detached, each through a descriptor of that very mount (never "whatever
// is mounted at the path now"), and the file is unlinked only once
// nothing is mounted on it. If the name was deleted and made again by
// someone else, even by "ip netns add" a moment before, it is left alone
// and the error wraps ErrNotSame; a name already gone gives fs.ErrNotExist.
// It is how a program removes a name it made (a temporary namespace, a
// failed set-up) without destroying another tool's namespace. ns may be
// closed. Needs CAP_SYS_ADMIN.
//
// One window remains that the kernel gives no way to close: between the
// last check and unlink(2) (microseconds), a name made anew by a process
// that does not lock (ip) could be unlinked while still an empty
// placeholder; a name with a namespace mounted on it never is (the unlink
// fails with EBUSY).
func DeleteIf(name string, ns *NS) error {
	path, err := namePath(name)
	if err != nil {
		return newError("delete", name, err)
	}
	if ns == nil {
		return newError("delete", name, os.ErrInvalid)
	}
	if err := deleteIfSame(name, path, ns.id); err != nil {
		return newError("delete", name, err)
	}
	return nil
}

// deleteIfSame is DeleteIf on path, for the namespace id.
func deleteIfSame(name, path string, id fileID) error {
	under, err := openCovered(RunDir, name)
	if errors.Is(err, errELOOP) {
		return ErrNotSame // a symlink
	}
	if err != nil {
		return err
	}
	defer closeFd(under)
	// Our creates and deletes lock this file: none can start on it now.
	lockBounded(under)
	file, err := inspect(under)
	if err != nil {
		return err
	}
	for detached := 0; ; detached++ {
		fd, err := openNoFollow(path)
		if err != nil {
			if detached > 0 && err == errENOENT {
				return nil // gone meanwhile, after ours was detached
			}
			if err == errELOOP {
				return ErrNotSame
			}
			return err
		}
		top, err := inspect(fd)
		if err == nil && top.id == file.id {
			closeFd(fd)
			if detached == 0 {
				return ErrNotSame // a bare file: no namespace of ours on it
			}
			break // nothing mounted any more
		}
		if err == nil && (!top.isNetNS() || top.id != id) {
			err = ErrNotSame
		}
		if err == nil && detached == 0 {
			err = sameCovered(name, file.id)
		}
		if err == nil {
			if f, ferr := inspect(under); ferr != nil || f.nlink == 0 {
				err = ErrNotSame // the file was unlinked: the name is another one's now
			}
		}
		if err != nil {
			closeFd(fd)
			if detached > 0 && errors.Is(err, ErrNotSame) {
				return nil // ours are off; another namespace stays on the name
			}
			return err
		}
		err = umountFd(fd)
		closeFd(fd)
		if err != nil {
			return os.NewSyscallError("umount", err)
		}
	}
	if cur, err := lstatEntry(path); err == nil && cur.id == file.id {
		if err := unlink(path); err != nil && err != errENOENT {
			return os.NewSyscallError("unlink", err)
		}
	}
	return nil
}

// sameCovered checks that the file under the mounts at RunDir/name is
// still the file id.
func sameCovered(name string, id fileID) error {
	fd, err := openCovered(RunDir, name)
	if err != nil {
		if errors.Is(err, errENOENT) {
			return ErrNotSame
		}
		return err
	}
	defer closeFd(fd)
	fi, err := inspect(fd)
	if err != nil {
		return err
	}
	if fi.id != id {
		return ErrNotSame
	}
	return nil
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
