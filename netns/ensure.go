package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// PlaceholderGrace is how old an unlocked placeholder must be before Ensure
// (and "netns doctor --fix") treats it as left by a crash and removes it.
//
// A placeholder is the empty mode-0 file a create reserves before the
// namespace is mounted onto it. Our own creates hold an flock on it until
// they finish, so a locked placeholder is always a create in progress, and
// an unlocked one was either left by a process that died (the kernel drops
// the lock with it) or is being filled by ip(8), which takes no such lock.
// ip needs about a millisecond for that, so a placeholder that is unlocked
// and older than PlaceholderGrace (by its modification time, which the
// O_CREAT that made it set) is taken as abandoned.
const PlaceholderGrace = 2 * time.Second

// ensureTimeout bounds how long Ensure waits for another process's create.
const ensureTimeout = 30 * time.Second

// Ensure opens the namespace NAME, creating it first if it does not exist
// (create-if-needed), and reports whether this call created it.
//
// Any number of processes, ours or "ip netns add", racing on the same new
// name end up with one namespace: exactly one creates it, the others wait
// for it to be mounted and open it. An existing namespace is never
// replaced. A placeholder left by a crashed create is removed once it is
// older than PlaceholderGrace and the namespace is made again. Anything
// else in the way (a directory, a symlink, a non-empty file) is an error
// wrapping ErrNotNamespace, and nothing is created. Needs CAP_SYS_ADMIN
// when it creates.
func Ensure(name string, opts *CreateOptions) (ns *NS, created bool, err error) {
	path, err := namePath(name)
	if err != nil {
		return nil, false, newError("open", name, err)
	}
	deadline := time.Now().Add(ensureTimeout)
	wait := 50 * time.Microsecond
	for {
		ns, err := openFile("open", name, path, false)
		switch {
		case err == nil:
			return ns, false, nil
		case errors.Is(err, fs.ErrNotExist):
			ns, err := Create(name, opts)
			if err == nil {
				return ns, true, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, false, err
			}
			continue // someone else reserved it first: wait for theirs
		case errors.Is(err, ErrNotNamespace):
			busy, perr := settlePlaceholder(path)
			if perr != nil {
				return nil, false, newError("open", name, perr)
			}
			if !busy {
				continue // it became a namespace, or a stale one was removed
			}
		default:
			return nil, false, err
		}
		if time.Now().After(deadline) {
			return nil, false, newError("open", name,
				fmt.Errorf("%w: still being created by another process after %v", os.ErrDeadlineExceeded, ensureTimeout))
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// settlePlaceholder looks at a run-dir entry that is not a namespace. It
// reports busy when a create is in progress on it, removes it when it is an
// abandoned placeholder, and returns an error when it is something else.
func settlePlaceholder(path string) (busy bool, err error) {
	fd, err := openNoFollow(path)
	if err != nil {
		if err == errENOENT {
			return false, nil
		}
		if err == errELOOP {
			return false, &notNamespace{"a symbolic link"}
		}
		return false, err
	}
	defer closeFd(fd)
	fi, err := inspect(fd)
	if err != nil {
		return false, err
	}
	if fi.isNetNS() {
		return false, nil // mounted meanwhile
	}
	if !isPlaceholder(fi) {
		return false, &notNamespace{describe(fi)}
	}
	free, err := flockTry(fd)
	if err != nil || !free {
		return true, err
	}
	defer flockUn(fd)
	if time.Since(fi.mtime) < PlaceholderGrace {
		return true, nil // perhaps ip(8) is filling it right now
	}
	// Abandoned. We hold its lock, so no create of ours is using it; make
	// sure the name still refers to this very file before removing it.
	if cur, err := lstatEntry(path); err == nil && cur.id == fi.id {
		if err := unlink(path); err != nil && err != errENOENT {
			return false, os.NewSyscallError("unlink", err)
		}
	}
	return false, nil
}

// isPlaceholder reports whether a file looks like a reserved name that was
// never mounted on: an empty regular file with no permission bits.
func isPlaceholder(fi fileInfo) bool {
	return fi.isRegular() && fi.size == 0 && fi.mode&0o7777 == 0
}
