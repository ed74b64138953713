package netns

import (
	"os"
	"syscall"
	"testing"
)

// TestHomeCache: entries are taken out while in use, displaced ones are
// closed, and close releases the rest.
func TestHomeCache(t *testing.T) {
	open := func() int {
		fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	isOpen := func(fd int) bool {
		var st syscall.Stat_t
		return syscall.Fstat(fd, &st) == nil
	}
	var c homeCache
	fds := map[int]int{}
	for tid := 1; tid <= 5; tid++ {
		fds[tid] = open()
		c.put(tid, fds[tid])
	}
	if isOpen(fds[1]) {
		t.Errorf("the oldest entry was not closed when a fifth thread came")
	}
	if got := c.take(3); got != fds[3] {
		t.Errorf("take(3) = %d, want %d", got, fds[3])
	}
	if got := c.take(3); got != -1 {
		t.Errorf("take(3) again = %d, want -1: an entry in use is not shared", got)
	}
	if got := c.take(1); got != -1 {
		t.Errorf("take(1) = %d after it was displaced, want -1", got)
	}
	c.put(3, fds[3])
	c.close()
	for tid := 2; tid <= 5; tid++ {
		if isOpen(fds[tid]) {
			t.Errorf("fd of thread %d still open after close", tid)
		}
	}
	late := open()
	c.put(6, late)
	if isOpen(late) {
		t.Error("a descriptor put after close was kept")
	}
	if got := c.take(6); got != -1 {
		t.Errorf("take(6) after close = %d, want -1", got)
	}
	var nilCache *homeCache
	fd := open()
	if nilCache.take(1) != -1 {
		t.Error("a nil cache returned something")
	}
	nilCache.put(1, fd)
	if isOpen(fd) {
		t.Error("a nil cache kept a descriptor open")
	}
}
