package netns

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

// NS is an open reference to a network namespace. While it is open the
// namespace stays alive, even if its name is deleted. It is safe for
// concurrent use. Close releases it; a handle that is dropped without
// Close has its descriptors closed by the garbage collector, at some
// unspecified time after it becomes unreachable.
type NS struct {
	fds  *nsFds
	name string // "" when opened by path, pid or Current
	path string // the file it was opened from
	id   fileID // device and inode of the nsfs file, read once
}

// nsFds holds what an NS must close, apart from the NS itself so that a
// cleanup (runtime.AddCleanup) can close it once the NS is unreachable.
//
// It follows internal/poll.FD: every call that uses the descriptor holds a
// reference while it runs, Close only marks the handle closing, and the
// last reference out (Close itself when there is none in flight) closes
// the descriptors. So Close never waits for a running Do, works from
// inside one, and a call that starts after it fails with os.ErrClosed;
// the mutex is held only to count.
type nsFds struct {
	mu      sync.Mutex
	fd      int // O_CLOEXEC, validated as a network namespace at open
	refs    int // calls using fd right now
	closing bool

	homes homeCache // for Do: the namespaces of threads it ran on
}

// Open opens the named namespace RunDir/NAME, as made by
// "ip netns add NAME" or Create. name must be a valid name (ValidName): a
// name with "/", "", "." or ".." is refused with an error wrapping
// ErrInvalidName, so a name taken from an untrusted client can only ever
// reach an entry of RunDir. A symlink in the run directory is refused as
// well. To open a file by path, such as a NAME containing "/" that
// ip(8) would take as a path, call OpenPath.
//
// Open needs no privilege beyond read access to the file (root for
// files made by ip, which have mode 0444 but sit in a root-owned
// directory). It does not touch the calling thread.
func Open(name string) (*NS, error) {
	path, err := namePath(name)
	if err != nil {
		return nil, newError("open", name, err)
	}
	return openFile("open", name, path, false)
}

// OpenPath opens the network namespace file at path, such as
// /proc/PID/ns/net or a bind mount made elsewhere. Symlinks are followed:
// path must come from a trusted source. Use Open for names.
func OpenPath(path string) (*NS, error) {
	return openFile("open", "", path, true)
}

// OpenPID opens the network namespace of process pid, like
// "nsenter --net --target PID". It needs ptrace access to the process.
func OpenPID(pid int) (*NS, error) {
	if pid <= 0 {
		return nil, newError("open", strconv.Itoa(pid), fmt.Errorf("invalid pid"))
	}
	return openFile("open", "", "/proc/"+strconv.Itoa(pid)+"/ns/net", true)
}

// Current opens the network namespace of the calling thread. Note that
// goroutines move between threads; outside Do this is the namespace of
// whichever thread runs the caller, normally the process's.
func Current() (*NS, error) {
	return openFile("open", "", "/proc/thread-self/ns/net", true)
}

// openFile opens path and checks that it is a network namespace. name is
// "" for path-addressed namespaces; errors then name the path.
func openFile(op, name, path string, follow bool) (*NS, error) {
	subject := name
	if subject == "" {
		subject = path
	}
	open := openNoFollow
	if follow {
		open = openFollow
	}
	fd, err := open(path)
	if err != nil {
		if err == errELOOP && !follow {
			err = &notNamespace{"a symbolic link"}
		}
		return nil, newError(op, subject, err)
	}
	fi, err := inspect(fd)
	if err == nil && !fi.isNetNS() {
		err = &notNamespace{describe(fi)}
	}
	if err != nil {
		closeFd(fd)
		return nil, newError(op, subject, err)
	}
	return newNS(fd, name, path, fi.id), nil
}

// newNS wraps an open namespace descriptor, which it then owns.
func newNS(fd int, name, path string, id fileID) *NS {
	ns := &NS{fds: &nsFds{fd: fd}, name: name, path: path, id: id}
	runtime.AddCleanup(ns, (*nsFds).release, ns.fds)
	return ns
}

// describe names what a file that is not a network namespace is.
func describe(fi fileInfo) string {
	switch {
	case fi.fsMagic == nsfsMagic:
		return "another kind of namespace"
	case fi.isDir():
		return "a directory"
	case fi.isRegular() && fi.size == 0:
		return "an empty placeholder file"
	case fi.isRegular():
		return "a regular file"
	}
	return "file type " + strconv.FormatUint(uint64(fi.mode>>12), 8)
}

// Name returns the name the namespace was opened or created by, or "" when
// it was opened by path, pid or Current.
func (ns *NS) Name() string { return ns.name }

// Path returns the file the namespace was opened from.
func (ns *NS) Path() string { return ns.path }

// Fd returns the open descriptor, or -1 once Close has been called. It
// stays owned by ns: do not close it, do not call Close while using it,
// and keep ns reachable (runtime.KeepAlive) meanwhile, or the garbage
// collector may close it.
func (ns *NS) Fd() int {
	ns.fds.mu.Lock()
	defer ns.fds.mu.Unlock()
	if ns.fds.closing {
		return -1
	}
	return ns.fds.fd
}

// Inode returns the namespace's inode number, the number in
// "net:[NUMBER]" that readlink /proc/PID/ns/net shows.
func (ns *NS) Inode() uint64 { return ns.id.ino }

// Equal reports whether ns and o refer to the same namespace (same device
// and inode). It works on closed handles too and cannot fail.
func (ns *NS) Equal(o *NS) bool {
	return ns != nil && o != nil && ns.id == o.id
}

// String returns the name, or the path for unnamed handles.
func (ns *NS) String() string {
	if ns.name != "" {
		return ns.name
	}
	return ns.path
}

// Close releases the handle. It does not wait for calls in progress on
// other goroutines, or on its own (Close inside Do is fine): they finish
// normally, and the descriptors are closed when the last one returns.
// Calls made after Close, and a second Close, return an error wrapping
// os.ErrClosed.
func (ns *NS) Close() error {
	f := ns.fds
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return newError("close", ns.String(), os.ErrClosed)
	}
	f.closing = true
	last := f.refs == 0
	f.mu.Unlock()
	if !last {
		return nil
	}
	if err := f.destroy(); err != nil {
		return newError("close", ns.String(), os.NewSyscallError("close", err))
	}
	return nil
}

// use runs f with the descriptor held open, so a concurrent Close cannot
// pull it away mid-call.
func (ns *NS) use(op string, f func(fd int) error) error {
	fd, ok := ns.fds.incref()
	if !ok {
		return newError(op, ns.String(), os.ErrClosed)
	}
	defer ns.fds.decref()
	return f(fd)
}

// incref takes a reference to the descriptor, unless the handle is closing.
func (f *nsFds) incref() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return -1, false
	}
	f.refs++
	return f.fd, true
}

// decref drops a reference; the last one out after Close closes.
func (f *nsFds) decref() {
	f.mu.Lock()
	f.refs--
	last := f.closing && f.refs == 0
	f.mu.Unlock()
	if last {
		f.destroy()
	}
}

// release is the cleanup of an unreachable NS: Close without an error to
// return. Close may have run already, and a call may still hold a
// reference (the NS can become unreachable while its last call runs); the
// last reference out closes then.
func (f *nsFds) release() {
	f.mu.Lock()
	last := !f.closing && f.refs == 0
	f.closing = true
	f.mu.Unlock()
	if last {
		f.destroy()
	}
}

// destroy closes the descriptors; it runs once, with no reference left.
func (f *nsFds) destroy() error {
	f.homes.close()
	return closeFd(f.fd)
}
