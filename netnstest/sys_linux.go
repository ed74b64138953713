package netnstest

// The package's raw system calls, in one place (as netns/sys_linux.go
// holds the library's).

import (
	"os"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a fresh tmpfs on dir (nosuid, nodev, mode 0755).
func mountTmpfs(dir string) error {
	return os.NewSyscallError("mount", unix.Mount("netnstest", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"))
}

// tryLock takes an flock on fd without waiting, shared or exclusive, and
// reports whether it got it.
func tryLock(fd int, shared bool) bool {
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	return unix.Flock(fd, how|unix.LOCK_NB) == nil
}

// alive reports whether process pid exists (kill(pid, 0)).
func alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || err == unix.EPERM
}

// icmpEchoSocket opens an unprivileged ICMP echo socket (a datagram
// socket of proto ICMP or ICMPv6) of family.
func icmpEchoSocket(family, proto int) (int, error) {
	return unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
}
