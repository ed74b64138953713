package runas

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// ErrPrivileged says the command was installed to raise privileges.
// The C fast path of setns prints the same words before Go starts.
var ErrPrivileged = errors.New("refusing to run setuid or with file capabilities; use sudo")

// CheckInvoker returns ErrPrivileged if this process was started with more
// privilege than the user who ran it: real and effective ids differ, or
// the kernel set AT_SECURE. The commands take their options and paths from
// whoever runs them and trust the caller to be root; installed setuid or
// with capabilities, they would let any user enter, create and mount as
// root. Call it first thing in main.
func CheckInvoker() error {
	if os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid() {
		return ErrPrivileged
	}
	if auxvSecure() {
		return ErrPrivileged
	}
	return nil
}

// auxvSecure reads AT_SECURE from the auxiliary vector the Go runtime
// kept from the process's start (no file read on every run), falling back
// to /proc/self/auxv. A process may always read its own file, unless it
// is not dumpable, which is what a secure start makes it: permission
// denied is taken as AT_SECURE. Without /proc the uid and gid comparison
// has to do.
func auxvSecure() bool {
	if v, ok := auxv(); ok {
		for _, kv := range v {
			if kv[0] == atSecure {
				return kv[1] != 0
			}
		}
		return false
	}
	b, err := os.ReadFile("/proc/self/auxv")
	if errors.Is(err, fs.ErrPermission) {
		return true
	}
	if err != nil {
		return false
	}
	size := strconv.IntSize / 8
	for ; len(b) >= 2*size; b = b[2*size:] {
		key, val := word(b, size), word(b[size:], size)
		if key == 0 {
			break
		}
		if key == atSecure {
			return val != 0
		}
	}
	return false
}

func word(b []byte, size int) uint64 {
	if size == 4 {
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return binary.NativeEndian.Uint64(b)
}
