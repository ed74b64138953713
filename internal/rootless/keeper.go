package rootless

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"github.com/setns/setns/netns"
)

// runKeeper is the keeper: in its new user and mount namespace it makes
// "/" a slave mount (nothing it mounts reaches the host), binds
// DIR/netns onto /run/netns, says it is ready on descriptor 3, and then
// waits until the run directory is empty and no command is using it.
func runKeeper(dir string) {
	ready := os.NewFile(3, "ready")
	fail := func(format string, a ...any) {
		fmt.Fprintf(ready, format, a...)
		os.Exit(1)
	}
	run := dir + "/netns"
	if err := syscall.Mount("", "/", "", syscall.MS_SLAVE|syscall.MS_REC, ""); err != nil {
		fail("make / a slave mount: %v", err)
	}
	if fi, err := os.Lstat(netns.RunDir); err != nil || !fi.IsDir() {
		fail("%s does not exist on this host, and a user cannot create it (root can: mkdir %s)", netns.RunDir, netns.RunDir)
	}
	if err := syscall.Mount(run, netns.RunDir, "", syscall.MS_BIND, ""); err != nil {
		fail("bind %s onto %s: %v", run, netns.RunDir, err)
	}
	use, err := os.OpenFile(dir+"/setns/use.lock", os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		fail("%v", err)
	}
	in, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		fail("inotify: %v", err)
	}
	if _, err := syscall.InotifyAddWatch(in, run, syscall.IN_DELETE|syscall.IN_MOVED_FROM|syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF); err != nil {
		fail("inotify: %v", err)
	}
	ready.WriteString("ok")
	ready.Close()
	buf := make([]byte, 64*(syscall.SizeofInotifyEvent+256))
	for {
		// use.lock, exclusively: every command that may still make a
		// namespace holds it shared. Then an empty directory stays empty.
		if syscall.Flock(int(use.Fd()), syscall.LOCK_EX) == nil {
			if empty(run) {
				os.Remove(dir + "/setns/keeper")
				os.Exit(0)
			}
			syscall.Flock(int(use.Fd()), syscall.LOCK_UN)
		}
		n, err := syscall.Read(in, buf)
		if err != nil && !errors.Is(err, syscall.EINTR) {
			os.Exit(1)
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&(syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF|syscall.IN_IGNORED) != 0 {
				// The run directory went (the login ended): so do we.
				os.Remove(dir + "/setns/keeper")
				os.Exit(0)
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// empty reports whether dir has no entries; an unreadable one is not.
func empty(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	return len(names) == 0 && err != nil
}
