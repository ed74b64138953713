package rootless

import (
	"fmt"
	"os"
	"syscall"

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
	if err := makeRootSlave(); err != nil {
		fail("make / a slave mount: %v", err)
	}
	if fi, err := os.Lstat(netns.RunDir); err != nil || !fi.IsDir() {
		fail("%s does not exist on this host, and a user cannot create it (root can: mkdir %s)", netns.RunDir, netns.RunDir)
	}
	if err := bindMount(run, netns.RunDir); err != nil {
		fail("bind %s onto %s: %v", run, netns.RunDir, err)
	}
	use, err := os.OpenFile(dir+"/setns/use.lock", os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		fail("%v", err)
	}
	in, err := watchRemovals(run)
	if err != nil {
		fail("%v", err)
	}
	ready.WriteString("ok")
	ready.Close()
	buf := make([]byte, 64*(inEventHeader+256))
	for {
		// use.lock, exclusively: every command that may still make a
		// namespace holds it shared. Then an empty directory stays empty.
		if flock(int(use.Fd()), lockExclusive) == nil {
			if empty(run) {
				os.Remove(dir + "/setns/keeper")
				os.Exit(0)
			}
			flock(int(use.Fd()), lockUnlock)
		}
		n, err := readEvents(in, buf)
		if err != nil {
			os.Exit(1)
		}
		for off := 0; off+inEventHeader <= n; {
			mask, nameLen := eventAt(buf, off)
			if mask&inGone != 0 {
				// The run directory went (the login ended): so do we.
				os.Remove(dir + "/setns/keeper")
				os.Exit(0)
			}
			off += inEventHeader + nameLen
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
