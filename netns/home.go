package netns

import "sync"

// homeCache keeps, for one NS handle, descriptors of the network namespace
// of the last few threads that Do ran on, so that the next Do landing on
// one of them need not open /proc/thread-self/ns/net again: that open (a
// path walk through procfs) and its close were 45 % of a Do.
//
// A descriptor opened on an earlier call still names the thread's home,
// because a thread's namespace changes only while a goroutine holds it
// locked, and whoever changes it moves it back before unlocking or lets
// the thread exit: the Go runtime's rule for LockOSThread, and this
// package's. Do looks its thread up by id once the thread is locked, takes
// the entry out while it runs, and puts it back only after a restore that
// succeeded; a thread whose restore fails exits without an entry, so a
// later thread given the same id starts afresh. Close closes the rest;
// after it the cache keeps nothing, so a descriptor put back late (by a Do
// still running when its handle was closed) is closed at once.
type homeCache struct {
	mu     sync.Mutex
	slots  [4]homeSlot
	next   int // the slot to reuse when all are taken
	closed bool
}

// homeSlot is one thread's home: tid 0 marks an empty slot.
type homeSlot struct{ tid, fd int }

// take removes and returns the descriptor kept for thread tid, or -1.
// A nil cache keeps nothing.
func (c *homeCache) take(tid int) int {
	if c == nil {
		return -1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.slots {
		if s.tid == tid {
			c.slots[i] = homeSlot{}
			return s.fd
		}
	}
	return -1
}

// put keeps fd as the home of thread tid, closing whatever it displaces;
// a nil or closed cache closes fd at once.
func (c *homeCache) put(tid, fd int) {
	if c == nil {
		closeFd(fd)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		closeFd(fd)
		return
	}
	i := c.next
	for j, s := range c.slots {
		if s.tid == 0 {
			i = j
			break
		}
	}
	if old := c.slots[i]; old.tid != 0 {
		closeFd(old.fd)
		c.next = (i + 1) % len(c.slots)
	}
	c.slots[i] = homeSlot{tid, fd}
}

// close closes every kept descriptor, and any put later.
func (c *homeCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for i, s := range c.slots {
		if s.tid != 0 {
			closeFd(s.fd)
		}
		c.slots[i] = homeSlot{}
	}
}
