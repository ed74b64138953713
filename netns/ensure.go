package netns

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// PlaceholderGrace is how long "netns monitor" (Watch) waits for a new
// entry that is still a placeholder to become a namespace before it
// reports it anyway, and the least age of a junk or stacked entry that
// "netns doctor --fix" repairs. Ensure does not go by it: see
// EnsureContext for the placeholder rule.
const PlaceholderGrace = 2 * time.Second

// PlaceholderWait is how long Ensure waits for a placeholder it cannot
// prove abandoned (one not made by this package, as ip(8) leaves it while
// it works) to become a namespace, before it gives up with an error.
const PlaceholderWait = 10 * time.Second

// EnsureTimeout bounds the whole of Ensure's waiting (for a create of
// another process to finish) when the context has no earlier deadline.
const EnsureTimeout = 30 * time.Second

// Ensure is EnsureContext with context.Background(): it waits at most
// EnsureTimeout for creates of other processes.
func Ensure(name string, opts *CreateOptions) (ns *NS, created bool, err error) {
	return EnsureContext(context.Background(), name, opts)
}

// EnsureContext opens the namespace NAME, creating it first if it does
// not exist (create-if-needed), and reports whether this call created it.
//
// Any number of processes, ours or "ip netns add", racing on the same new
// name end up with one namespace: exactly one creates it, the others wait
// for it to be mounted and open it. An existing namespace is never
// replaced, and a name deleted meanwhile (by Delete or "ip netns delete")
// is simply looked at again. Anything in the way that is not a
// placeholder (a directory, a symlink, a non-empty file) is an error
// wrapping ErrNotNamespace, and nothing is created. Needs CAP_SYS_ADMIN
// when it creates.
//
// The placeholder rule. A placeholder is the empty mode-0 file a create
// reserves before the namespace is mounted onto it, and it is the only
// state Ensure may remove, and only when it can prove that no create is
// at work on it:
//
//   - A placeholder made by this package is marked (the S_ISVTX mode bit,
//     set before the file gets its name) and flock-ed by its creator from
//     before it has a name until the namespace is mounted. (On a file
//     system without O_TMPFILE, which tmpfs has, it is made unmarked and
//     then treated like ip's.) Locked, it is a
//     create in progress: Ensure waits. Marked and unlocked, its creator
//     has died (the kernel drops the lock with the process): Ensure
//     removes it at once and creates the namespace (when not every
//     mount namespace can be examined, it is treated as unmarked).
//   - An unmarked placeholder was made by ip(8) or another tool, which
//     take no lock and close the file before they mount: nothing shows
//     whether that create is still at work (it may be slow under kernel
//     lock contention) or died. Ensure waits up to PlaceholderWait for it
//     to become a namespace, and otherwise fails with an error wrapping
//     ErrNotNamespace that names the entry and the fix ("netns delete
//     NAME", or "netns doctor --fix" once it is old). It never removes
//     it: the file's age is wall-clock time, which a clock step can make
//     look old.
//   - Either kind, when another mount namespace has something mounted on
//     it (a create in a container whose copy of RunDir does not
//     propagate to ours), is neither abandoned nor a create at work:
//     Ensure fails at once with an error wrapping ErrNotNamespace that
//     names that mount namespace, and leaves it (removing the name would
//     detach the container's namespace).
//
// The wait for creates of other processes ends when ctx is done, or after
// EnsureTimeout, with an error wrapping ctx.Err() or
// os.ErrDeadlineExceeded.
func EnsureContext(ctx context.Context, name string, opts *CreateOptions) (ns *NS, created bool, err error) {
	path, err := namePath(name)
	if err != nil {
		return nil, false, newError("open", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, EnsureTimeout)
	defer cancel()
	var (
		foreign      fileID    // the unmarked placeholder being waited for
		foreignSince time.Time // since when (monotonic)
	)
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
			if !errors.Is(err, fs.ErrExist) && !errors.Is(err, errDeletedMeanwhile) {
				return nil, false, err
			}
			// Someone else reserved it first (wait for theirs), or
			// deleted our reservation: look again.
		case errors.Is(err, ErrNotNamespace):
			state, id, perr := settlePlaceholder(name, path, foreign)
			if perr != nil {
				return nil, false, newError("open", name, perr)
			}
			switch state {
			case placeholderGone:
				continue // it became a namespace, or was removed
			case placeholderForeign:
				if id != foreign {
					foreign, foreignSince = id, time.Now()
				}
				if time.Since(foreignSince) >= PlaceholderWait {
					return nil, false, newError("open", name, &stalePlaceholder{name, PlaceholderWait})
				}
			}
		default:
			return nil, false, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			cause := fmt.Errorf("waiting for another process's create: %w", ctx.Err())
			if errors.Is(cause, context.DeadlineExceeded) {
				// A create that never ends (its process stopped) holds
				// the name until someone deletes it: say so.
				cause = fmt.Errorf("waiting for another process's create: %w (%w); "+
					"if it is stuck, remove the name: netns delete %s", os.ErrDeadlineExceeded, ctx.Err(), name)
			}
			return nil, false, newError("open", name, cause)
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// stalePlaceholder is the cause when an unmarked placeholder did not
// become a namespace in time. It names the fix.
type stalePlaceholder struct {
	name string
	wait time.Duration
}

func (e *stalePlaceholder) Error() string {
	return fmt.Sprintf("not a network namespace (an empty placeholder that no create filled in %v; "+
		"if none is still running, remove it: netns delete %s, or netns doctor --fix)", e.wait, e.name)
}

func (e *stalePlaceholder) Unwrap() error { return ErrNotNamespace }

// States of a run-directory entry that is not a namespace, for Ensure.
const (
	placeholderGone    = iota // changed: look again
	placeholderBusy           // a create of ours holds it
	placeholderForeign        // unmarked and unlocked: ip's create, at work or dead
)

// settlePlaceholder looks at the run-dir entry name (at path) that is not
// a namespace. It removes a placeholder of ours whose creator has died
// (marked, unlocked) and that no other mount namespace has anything
// mounted on, and reports what it found; something that is no
// placeholder, or is mounted on in another mount namespace, is an error.
// id is the placeholder's identity; seen is that of the one already
// being waited for (placeholderForeign), which is not examined again.
func settlePlaceholder(name, path string, seen fileID) (state int, id fileID, err error) {
	fd, err := openNoFollow(path)
	if err != nil {
		if err == errENOENT {
			return placeholderGone, id, nil
		}
		if err == errELOOP {
			return 0, id, &notNamespace{"a symbolic link"}
		}
		return 0, id, err
	}
	defer closeFd(fd)
	fi, err := inspect(fd)
	if err != nil {
		return 0, id, err
	}
	if fi.isNetNS() {
		return placeholderGone, fi.id, nil // mounted meanwhile
	}
	if !isPlaceholder(fi) {
		return 0, fi.id, &notNamespace{describe(fi)}
	}
	free, err := flockTry(fd)
	if err != nil || !free {
		return placeholderBusy, fi.id, err
	}
	defer flockUn(fd)
	if now, err := inspect(fd); err != nil || now.nlink == 0 {
		return placeholderGone, fi.id, nil // deleted while we looked
	}
	if fi.id == seen {
		return placeholderForeign, fi.id, nil // examined already: waiting for it
	}
	// A create in another mount namespace whose copy of the run directory
	// does not propagate here (a container binding it, rprivate) leaves
	// just this view: the namespace is mounted there, and unlinking the
	// name would detach it. Then it is neither abandoned nor a create at
	// work. A mount found may also be one made here meanwhile (by ip,
	// which takes no lock): only a name that is still this bare file
	// counts.
	where, werr := mountedElsewhere(map[string]bool{name: true})
	if now, err := lstatEntry(path); err != nil || now.id != fi.id {
		return placeholderGone, fi.id, nil // mounted on or replaced meanwhile
	}
	if w, ok := where[name]; ok && werr == nil {
		return 0, fi.id, &notNamespace{"empty here, but a namespace is mounted on it in the mount namespace " + w +
			", where " + RunDir + " does not propagate here"}
	}
	// Ours, its creator gone, and mounted nowhere: abandoned. Unless not
	// every mount namespace could be examined: then it is not proven.
	if !fi.marked() || werr != nil {
		return placeholderForeign, fi.id, nil
	}
	// Provably abandoned. We hold its lock, so no create or
	// delete of ours is using it; make sure the name still refers to this
	// very file (lstat sees the file itself only with nothing mounted on
	// it) before removing it.
	if cur, err := lstatEntry(path); err == nil && cur.id == fi.id {
		if err := unlink(path); err != nil && err != errENOENT {
			return 0, fi.id, os.NewSyscallError("unlink", err)
		}
	}
	return placeholderGone, fi.id, nil
}

// isPlaceholder reports whether a file looks like a reserved name that was
// never mounted on: an empty regular file with no permission bits (and at
// most our mark).
func isPlaceholder(fi fileInfo) bool {
	return fi.isRegular() && fi.size == 0 && (fi.mode&0o7777 == 0 || fi.marked())
}
