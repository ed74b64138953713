package runas

// The package's raw system interface, in one place: the auxiliary vector.

import "golang.org/x/sys/unix"

// atSecure is AT_SECURE, the auxiliary vector entry the kernel sets to 1
// when a program starts with more privilege than its caller: set-user-ID
// or set-group-ID, or with file capabilities (getauxval(3)).
const atSecure = 23

// auxv returns the auxiliary vector the runtime was started with, with no
// system call; ok is false where it cannot.
func auxv() (pairs [][2]uintptr, ok bool) {
	v, err := unix.Auxv()
	return v, err == nil
}
