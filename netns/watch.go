package netns

import (
	"context"
	"encoding/binary"
	"os"
	"sync"
	"time"
)

// Event is a change Watcher saw in RunDir.
type Event struct {
	Name    string
	Deleted bool // false: NAME was added
}

// String formats e as "ip netns monitor" prints it: "add NAME" or
// "delete NAME".
func (e Event) String() string {
	if e.Deleted {
		return "delete " + e.Name
	}
	return "add " + e.Name
}

// Watcher reports names added to and deleted from RunDir, like
// "ip netns monitor", with one difference: a name is reported as added
// only once it is a usable namespace. A create first makes an empty
// placeholder file and mounts the namespace onto it a moment later; ip
// reports the placeholder, so a watcher that acts on the report at once
// can find no namespace there. Watcher waits for the mount instead
// (woken by the kernel's mount-table notifications, not by polling) and
// drops, silently, a placeholder that is deleted first or stays unmounted
// for PlaceholderGrace. Additions are reported in the order names become
// usable; a name deleted before it became usable is reported neither as
// added nor as deleted. Entries that are not namespaces (junk files,
// directories) are never reported as added, but their deletion is.
//
// Next waits as long as it takes for an event; NextContext gives up when
// its context is done, and Close makes a waiting Next return.
//
// A Watcher is not safe for concurrent use, except that Close may be
// called while Next blocks.
type Watcher struct {
	events, mounts, waker int // inotify, /proc/thread-self/mountinfo, eventfd
	queue                 []Event
	pending               []pendingAdd // created, not yet usable, oldest first
	buf                   []byte

	mu     sync.Mutex
	busy   bool // Next is running; it closes the fds if Close comes meanwhile
	closed bool
}

type pendingAdd struct {
	name  string
	since time.Time
}

// Watch starts watching RunDir, creating it first (mode 0755) if it does
// not exist, as "ip netns monitor" does. Reading RunDir needs no
// privilege; creating it needs root.
func Watch() (*Watcher, error) {
	if err := mkdir(RunDir, 0o755); err != nil && err != errEEXIST {
		return nil, newError("watch", RunDir, os.NewSyscallError("mkdir", err))
	}
	w := &Watcher{events: -1, mounts: -1, waker: -1, buf: make([]byte, 64<<10)}
	var err error
	if w.events, err = watchDir(RunDir); err == nil {
		if w.mounts, err = openFollow("/proc/thread-self/mountinfo"); err == nil {
			w.waker, err = newWaker()
		} else {
			err = os.NewSyscallError("open", err)
		}
	}
	if err != nil {
		w.closeFds()
		return nil, newError("watch", RunDir, err)
	}
	return w, nil
}

// Next waits for the next event and returns it. It waits without limit:
// use NextContext to bound the wait, or Close from another goroutine.
// After Close it returns an error wrapping os.ErrClosed.
func (w *Watcher) Next() (Event, error) { return w.NextContext(context.Background()) }

// NextContext is Next that gives up when ctx is done, with an error
// wrapping ctx.Err(). The watcher stays usable: events that come
// meanwhile are kept for the next call.
func (w *Watcher) NextContext(ctx context.Context) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, newError("watch", RunDir, err)
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return Event{}, newError("watch", RunDir, os.ErrClosed)
	}
	w.busy = true
	w.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock() // it may run late, after Close closed the waker
		if w.waker >= 0 {
			wake(w.waker)
		}
		w.mu.Unlock()
	})
	ev, err := w.next(ctx)
	stop()
	w.mu.Lock()
	w.busy = false
	if w.closed {
		w.closeFds()
		if err == nil {
			err = newError("watch", RunDir, os.ErrClosed)
		}
	}
	w.mu.Unlock()
	return ev, err
}

func (w *Watcher) next(ctx context.Context) (Event, error) {
	for len(w.queue) == 0 {
		timeout, mounts := time.Duration(-1), -1
		if len(w.pending) > 0 {
			// Only while adds are pending do mount changes matter.
			timeout = max(time.Until(w.pending[0].since.Add(PlaceholderGrace)), 0)
			mounts = w.mounts
		}
		woken, err := waitEvents(w.events, mounts, w.waker, timeout)
		if err != nil {
			return Event{}, newError("watch", RunDir, err)
		}
		if woken {
			if err := w.woken(ctx); err != nil {
				return Event{}, err
			}
			continue
		}
		if err := w.readEvents(); err != nil {
			return Event{}, newError("watch", RunDir, err)
		}
		w.settle()
	}
	ev := w.queue[0]
	w.queue = w.queue[1:]
	return ev, nil
}

// woken says why the waker fired: Close, or ctx done. Otherwise it was a
// late wake for the context of an earlier call, which it drains. Close
// sets closed before it wakes, so a wake from Close is never drained.
func (w *Watcher) woken(ctx context.Context) error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return newError("watch", RunDir, os.ErrClosed)
	}
	readNonblock(w.waker, w.buf[:8])
	if err := ctx.Err(); err != nil {
		return newError("watch", RunDir, err)
	}
	return nil
}

// readEvents reads what inotify has and queues or parks each event.
func (w *Watcher) readEvents() error {
	n, err := readNonblock(w.events, w.buf)
	if err != nil {
		return err
	}
	for b := w.buf[:n]; len(b) >= inEventHeader; {
		mask := binary.NativeEndian.Uint32(b[4:8])
		size := int(binary.NativeEndian.Uint32(b[12:16]))
		if len(b) < inEventHeader+size {
			break
		}
		name := cString(b[inEventHeader : inEventHeader+size])
		b = b[inEventHeader+size:]
		switch {
		case mask&inCreate != 0:
			w.pending = append(w.pending, pendingAdd{name, time.Now()})
		case mask&inDelete != 0:
			if !w.unpark(name) {
				w.settle() // adds that came first are reported first
				w.queue = append(w.queue, Event{Name: name, Deleted: true})
			}
		}
	}
	return nil
}

// unpark drops a pending add of name and reports whether there was one.
func (w *Watcher) unpark(name string) bool {
	for i, p := range w.pending {
		if p.name == name {
			w.pending = append(w.pending[:i], w.pending[i+1:]...)
			return true
		}
	}
	return false
}

// settle reports the pending names that became namespaces and drops those
// that waited too long. A placeholder's age counts from its mtime when
// that is older than the event, as it is when Next was not called for a
// while.
func (w *Watcher) settle() {
	kept := w.pending[:0]
	for _, p := range w.pending {
		isNS, mtime, ok := probe(RunDir + "/" + p.name)
		if isNS {
			w.queue = append(w.queue, Event{Name: p.name})
			continue
		}
		since := p.since
		if ok && mtime.Before(since) {
			since = mtime
		}
		if time.Since(since) < PlaceholderGrace {
			kept = append(kept, p)
		}
	}
	w.pending = kept
}

// probe opens path as ip opens it (symlinks followed) and reports whether
// it is a network namespace, and its mtime.
func probe(path string) (isNS bool, mtime time.Time, ok bool) {
	fd, err := openFollow(path)
	if err != nil {
		return false, time.Time{}, false
	}
	defer closeFd(fd)
	fi, err := inspect(fd)
	if err != nil {
		return false, time.Time{}, false
	}
	return fi.isNetNS(), fi.mtime, true
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Close stops the watcher; a Next blocked meanwhile returns.
func (w *Watcher) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return newError("watch", RunDir, os.ErrClosed)
	}
	w.closed = true
	if w.busy {
		wake(w.waker) // Next closes the fds on its way out
		return nil
	}
	w.closeFds()
	return nil
}

func (w *Watcher) closeFds() {
	for _, fd := range []*int{&w.events, &w.mounts, &w.waker} {
		if *fd >= 0 {
			closeFd(*fd)
			*fd = -1
		}
	}
}
