package rootless

// The package's raw system calls, in one place (as netns/sys_linux.go
// holds the library's): the keeper's mounts and inotify watch, and the
// locks and descriptors the commands pass to it.

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Lock kinds for flock.
const (
	lockShared    = unix.LOCK_SH
	lockExclusive = unix.LOCK_EX
	lockUnlock    = unix.LOCK_UN
)

// Inotify: what the keeper watches its run directory for, and the events
// that say the directory itself went.
const (
	inEventHeader = unix.SizeofInotifyEvent
	inGone        = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_IGNORED
)

// makeRootSlave makes "/" a recursive slave mount, so nothing mounted in
// this mount namespace reaches the one it was copied from.
func makeRootSlave() error {
	return os.NewSyscallError("mount", unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""))
}

// bindMount binds src onto dst, not recursively.
func bindMount(src, dst string) error {
	return os.NewSyscallError("mount", unix.Mount(src, dst, "", unix.MS_BIND, ""))
}

// watchRemovals starts an inotify instance reporting entries removed from
// dir and the removal of dir itself.
func watchRemovals(dir string) (int, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("inotify_init1", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("inotify_add_watch", err)
	}
	return fd, nil
}

// readEvents reads inotify events from fd, retrying on EINTR.
func readEvents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// eventAt returns the mask and name length of the inotify event at off.
func eventAt(buf []byte, off int) (mask uint32, nameLen int) {
	ev := (*unix.InotifyEvent)(unsafePointer(&buf[off]))
	return ev.Mask, int(ev.Len)
}

func flock(fd, how int) error { return os.NewSyscallError("flock", unix.Flock(fd, how)) }

// dupInheritable duplicates fd without close-on-exec, to pass it on.
func dupInheritable(fd int) (int, error) {
	n, err := unix.Dup(fd)
	return n, os.NewSyscallError("dup", err)
}

func closeOnExec(fd int) { unix.CloseOnExec(fd) }

func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
