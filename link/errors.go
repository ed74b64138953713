package link

import (
	"errors"
	"fmt"
	"syscall"
)

// Error records a failed operation on a link end, named "NS:IF" (NS is
// Host for the caller's namespace). It prints as one line:
//
//	link add "a:eth0": file exists
type Error struct {
	Op       string // "add", "del", "list", "addr add", ...
	Endpoint string // "NS:IF", or "NS" for operations on a namespace
	Err      error  // the cause; kernel refusals are *netns.KernelError
}

func (e *Error) Error() string { return fmt.Sprintf("link %s %q: %v", e.Op, e.Endpoint, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// ErrNotOwned is returned by Delete for a link that does not carry the
// setns marker: something else made it, and something else should remove
// it ("ip link del").
var ErrNotOwned = errors.New("not made by setns")

// errNoDevice is the kernel's answer for an interface name it does not
// know (ENODEV), which syscall does not map to fs.ErrNotExist.
var errNoDevice = syscall.ENODEV
