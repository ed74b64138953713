package uplink

// The package's raw system calls, in one place (as netns/sys_linux.go
// holds the library's): the journal's lock and stopping pasta.

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// lockWait takes an exclusive flock on fd, waiting for it.
func lockWait(fd int) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			return os.NewSyscallError("flock", err)
		}
	}
}

// signal sends sig to process pid; errors are ignored (it may be gone).
func signal(pid int, sig syscall.Signal) { _ = unix.Kill(pid, sig) }
