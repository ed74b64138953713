package netns

import (
	"errors"
	"fmt"
	"os"
)

// CreateOptions adjusts Create and Ensure. A nil *CreateOptions means the
// defaults.
type CreateOptions struct {
	// NoLoopback leaves the loopback device down, as "ip netns add" does.
	// By default Create brings lo up, since almost every program expects
	// 127.0.0.1 to work.
	NoLoopback bool

	// Warn, if set, receives problems that do not make Create fail, such
	// as a refusal to bring lo up. By default they are dropped.
	Warn func(error)
}

func (o *CreateOptions) loopback() bool { return o == nil || !o.NoLoopback }

func (o *CreateOptions) warn(err error) {
	if o != nil && o.Warn != nil {
		o.Warn(err)
	}
}

// testHook, when set by a test, is called at each step of Create
// ("reserved", "unshared", "mounted") so crash recovery can be tested by
// killing the process there, and by CreateOwned between its two mounts
// ("owned-half"). It is nil in normal use.
var testHook func(step string)

func hook(step string) {
	if testHook != nil {
		testHook(step)
	}
}

// Create makes a new network namespace and names it NAME, like
// "ip netns add NAME", and returns an open handle to it. Unlike ip, it
// brings the loopback device up (unless opts.NoLoopback). It fails with an
// error wrapping fs.ErrExist if the name is taken.
//
// The steps are iproute2's netns_add, in its order: RunDir is made a mount
// point with shared propagation (under flock on the directory, private
// first, as iproute2 7.0 does, so it gets its own peer group); the name is
// reserved exclusively, as an empty file with no permission bits, before
// any namespace exists (ip uses O_CREAT|O_EXCL and mode 0; we make the
// file with O_TMPFILE, mark it with mode 01000, lock it, and give it the
// name with linkat(2), which fails as O_EXCL does if the name is taken);
// a fresh locked OS thread unshares its network namespace and bind-mounts
// /proc/thread-self/ns/net onto the reserved file itself (through its
// open descriptor, so a name deleted meanwhile makes the mount fail with
// ENOENT instead of landing on someone else's file); the thread then
// moves back. The calling goroutine's thread is never moved. If any step
// fails, the file is removed again, but only while the name still is that
// file with nothing mounted on it: nothing half-made is left behind, and
// nothing of anyone else's is touched.
//
// While it works, Create holds an flock on the reserved file; Ensure uses
// the lock and the mark (see EnsureContext, the placeholder rule) to tell
// a create in progress from a placeholder left by a crash.
// Create is Reserve followed by (*Reservation).Create. Needs CAP_SYS_ADMIN.
func Create(name string, opts *CreateOptions) (*NS, error) {
	r, err := Reserve(name)
	if err != nil {
		return nil, err
	}
	return r.Create(opts)
}

// Reservation is a name taken by Reserve for a namespace not made yet.
// Exactly one of its Create and Release must be called, by one goroutine.
type Reservation struct {
	op, name, path string
	fd             int // the reserved file, opened by its name; -1 once used
	lock           int // the descriptor holding its flock (may be fd)
}

// Reserve does the quick first half of Create: it prepares RunDir and
// reserves the name NAME (an empty, marked file, held open and flock-ed
// from before it has the name; see Create), which is where a taken name
// (fs.ErrExist) or an invalid one fails. (*Reservation).Create then makes
// the namespace, and may run on another goroutine: a caller creating many
// namespaces reserves the names in order, so that name conflicts are
// found and reported in that order, and makes the namespaces in
// parallel, the costly part (a new namespace and its loopback device are
// kernel work under the global rtnl lock, which threads share only in
// part). Each reservation holds a file descriptor until it is used.
// Needs CAP_SYS_ADMIN. The calling thread is not touched.
func Reserve(name string) (*Reservation, error) { return reserveName("create", name) }

// reserveName reserves name for operation op; errors are *Error with Op op.
func reserveName(op, name string) (*Reservation, error) {
	path, err := namePath(name)
	if err != nil {
		return nil, newError(op, name, err)
	}
	if err := prepareRunDir(); err != nil {
		return nil, newError(op, name, err)
	}
	// The placeholder appears marked and locked (see reserveMarked), and
	// the lock is held until it is filled or given up, so Ensure waits
	// for us, and once we are gone knows the placeholder was ours.
	fd, lock, err := reserveMarked(RunDir, name)
	if err == errENOENT {
		err = errDeletedMeanwhile
	}
	if err != nil {
		return nil, newError(op, name, err)
	}
	return &Reservation{op: op, name: name, path: path, fd: fd, lock: lock}, nil
}

// Create makes the namespace for the reserved name, as the second half
// of the package-level Create, and returns an open handle to it. The
// namespace is made on a private locked OS thread, never the caller's, so
// any goroutine may call it; reservations may be created in parallel.
// If it fails, the name is released again. The reservation is used up
// either way: a second call fails with an error wrapping os.ErrClosed.
func (r *Reservation) Create(opts *CreateOptions) (*NS, error) {
	return r.fill(func(file int) (*NS, error) { return populate(r.name, r.path, file, opts) })
}

// Release gives the name up again, removing the reserved file, unless
// Create or Release has used the reservation already. It removes the name
// only while it still is the file reserved, with nothing mounted on it.
func (r *Reservation) Release() {
	if r.fd >= 0 {
		unreserve(r.path, r.fd)
		r.close()
	}
}

// close closes the reserved file, dropping its lock.
func (r *Reservation) close() {
	if r.lock != r.fd {
		closeFd(r.lock)
	}
	closeFd(r.fd)
	r.fd, r.lock = -1, -1
}

// errDeletedMeanwhile is the cause when the reserved name was deleted by
// another process before the namespace could be mounted on it. Ensure
// takes it as a reason to look again.
var errDeletedMeanwhile = errors.New("deleted by another process while being created")

// fill mounts a namespace on the reserved file (mount gets its open
// descriptor), then closes the file (dropping the lock); if mount fails,
// the name is released.
func (r *Reservation) fill(mount func(file int) (*NS, error)) (*NS, error) {
	if r.fd < 0 {
		return nil, newError(r.op, r.name, os.ErrClosed)
	}
	defer r.close()
	ns, err := mount(r.fd)
	if err != nil {
		if fi, ferr := inspect(r.fd); ferr == nil && fi.nlink == 0 {
			err = errDeletedMeanwhile
		}
		unreserve(r.path, r.fd)
		var e *Error
		if errors.As(err, &e) {
			return nil, err // already names the operation and the namespace
		}
		return nil, newError(r.op, r.name, err)
	}
	return ns, nil
}

// populate makes the namespace and mounts it on the reserved file, open
// as file (the mount goes onto that file, not onto whatever path names
// by then), and returns a handle to the namespace it made.
func populate(name, path string, file int, opts *CreateOptions) (*NS, error) {
	hook("reserved")
	made := -1
	err := onPrivateThread(func() error {
		if err := unshareNet(); err != nil {
			return err
		}
		hook("unshared")
		fd, err := openFollow("/proc/thread-self/ns/net")
		if err != nil {
			return os.NewSyscallError("open", err)
		}
		if err := bindOnto("/proc/thread-self/ns/net", file); err != nil {
			closeFd(fd)
			return err
		}
		made = fd
		if opts.loopback() {
			if err := loopbackUp(); err != nil {
				opts.warn(newError("create", name, fmt.Errorf("loopback up: %w", err)))
			}
		}
		return nil
	})
	if err != nil {
		if made >= 0 {
			closeFd(made)
		}
		return nil, err
	}
	hook("mounted")
	defer closeFd(made)
	ns, err := openMade("create", name, path, made)
	if err != nil {
		// Take our mount off again (only ours), so the caller's rollback
		// finds the bare reserved file. (Not deleteIfSame: we hold the
		// file's lock already.)
		if fi, ierr := inspect(made); ierr == nil {
			detachMounts(path, fi.id)
		}
		return nil, err
	}
	return ns, nil
}

// detachMounts takes the mounts of the namespace id off path, from the
// top, each through a descriptor of that very mount, and stops at the
// first mount of anything else.
func detachMounts(path string, id fileID) {
	for range 64 {
		fd, err := openNoFollow(path)
		if err != nil {
			return
		}
		fi, err := inspect(fd)
		if err == nil && fi.isNetNS() && fi.id == id {
			err = umountFd(fd)
		} else if err == nil {
			err = ErrNotSame
		}
		closeFd(fd)
		if err != nil {
			return
		}
	}
}

// openMade returns a handle named name (at path) to the namespace open as
// fd, which the caller keeps: the one just mounted, not whatever the path
// names by now.
func openMade(op, name, path string, fd int) (*NS, error) {
	ns, err := openFile(op, name, fdPath(fd), true)
	if err != nil {
		return nil, err
	}
	ns.path = path
	return ns, nil
}

// unreserve undoes a failed create: it removes the reserved file, open as
// fd, but only while path still names that very file with nothing mounted
// on it (lstat then sees the file itself). A mount someone else made on
// it, or a file someone put there after deleting ours, is left alone.
func unreserve(path string, fd int) {
	mine, err := inspect(fd)
	if err != nil {
		return
	}
	if cur, err := lstatEntry(path); err == nil && cur.id == mine.id {
		unlink(path)
	}
}

// prepareRunDir creates RunDir and makes it a mount point with shared
// propagation, so that namespaces mounted in it later reach every mount
// namespace that has a copy of it (iproute2's netns_add, head version).
func prepareRunDir() error {
	if err := mkdirShared(RunDir, 0o755); err != nil && err != errEEXIST {
		return os.NewSyscallError("mkdir", err)
	}
	// Fast path: already a mount point, so making it shared succeeds.
	if setPropagation(RunDir, propShared) == nil {
		return nil
	}
	dir, err := openFollow(RunDir)
	if err != nil {
		return os.NewSyscallError("open", err)
	}
	defer closeFd(dir)
	// Serialise with other creators, ours and ip's: without the lock,
	// parallel adds stack many binds on the directory (Debian #949235).
	if err := flockEx(dir); err == nil {
		defer flockUn(dir)
	}
	made := false
	for {
		err := setPropagation(RunDir, propShared)
		if err == nil {
			return nil
		}
		if err != errEINVAL || made {
			return os.NewSyscallError("mount", err)
		}
		// EINVAL: not a mount point yet. Bind it onto itself, recursively
		// so mounts already in it stay visible, and make it private so it
		// leaves the peer group of its parent (a shared /run would show
		// every namespace twice).
		if err := bindSelfRec(RunDir); err != nil {
			return os.NewSyscallError("mount", err)
		}
		if err := setPropagation(RunDir, propPrivate); err != nil {
			return os.NewSyscallError("mount", err)
		}
		made = true
	}
}
