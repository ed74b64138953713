package pty

// Every raw system call of the package lives in this file: the terminal
// ioctls a pseudo-terminal relay needs. It is the one file besides
// netns/sys_linux.go that the Makefile's lint rule lets import
// golang.org/x/sys/unix.

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openPair makes a new pseudo-terminal: posix_openpt(3) on /dev/ptmx, then
// unlockpt and the slave opened from the master itself (TIOCGPTPEER, Linux
// 4.13), which needs no lookup in /dev/pts and cannot be raced. Both are
// close-on-exec and neither becomes the caller's controlling terminal.
// The master is non-blocking, so that Go's poller (and read deadlines)
// work on it.
func openPair() (master, slave int, err error) {
	master, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, -1, os.NewSyscallError("open /dev/ptmx", err)
	}
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(master)
		return -1, -1, os.NewSyscallError("ioctl TIOCSPTLCK", err)
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER,
		unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	slave, err = int(r), nil
	if errno != 0 {
		err = errno
	}
	if err == unix.EINVAL || err == unix.ENOTTY {
		// Before TIOCGPTPEER: the slave by number.
		var n uint32
		n, err = unix.IoctlGetUint32(master, unix.TIOCGPTN)
		if err == nil {
			slave, err = unix.Open("/dev/pts/"+strconv.Itoa(int(n)), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		}
	}
	if err != nil {
		unix.Close(master)
		return -1, -1, os.NewSyscallError("open pty slave", err)
	}
	return master, slave, nil
}

// termios is a terminal's settings (termios(3)).
type termios unix.Termios

// isTerminal reports whether fd is a terminal (isatty(3): TCGETS works).
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

func getTermios(fd int) (*termios, error) {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return (*termios)(t), os.NewSyscallError("ioctl TCGETS", err)
}

// setTermios applies t once pending output is written (TCSADRAIN).
func setTermios(fd int, t *termios) error {
	return os.NewSyscallError("ioctl TCSETSW", unix.IoctlSetTermios(fd, unix.TCSETSW, (*unix.Termios)(t)))
}

// raw returns t in raw mode, as cfmakeraw(3) makes it: no echo, no line
// editing, no signals from keys, 8-bit characters, reads of one byte on.
func (t termios) raw() *termios {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return &t
}

// copyWinsize gives terminal to the size of terminal from; on a pty
// master the kernel then sends SIGWINCH to the slave's foreground group.
func copyWinsize(from, to int) error {
	ws, err := unix.IoctlGetWinsize(from, unix.TIOCGWINSZ)
	if err != nil {
		return os.NewSyscallError("ioctl TIOCGWINSZ", err)
	}
	return os.NewSyscallError("ioctl TIOCSWINSZ", unix.IoctlSetWinsize(to, unix.TIOCSWINSZ, ws))
}

// waitReadable blocks until fd has input, or wake is readable (woken).
func waitReadable(fd, wake int) (woken bool, err error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("poll", err)
		}
		return fds[1].Revents != 0, nil
	}
}

// queued returns how many bytes of input terminal fd holds unread
// (TIOCINQ; in canonical mode, those of complete lines).
func queued(fd int) (int, error) {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	return n, os.NewSyscallError("ioctl TIOCINQ", err)
}
