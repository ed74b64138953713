package netns

import "time"

// SetTestHook installs the fault hook Create calls at each step.
func SetTestHook(f func(step string)) { testHook = f }

// ListSubmounts exposes the listmount(2) way of finding submounts.
var ListSubmounts = listSubmounts

// MountinfoSubmounts is the same answer from /proc/thread-self/mountinfo.
func MountinfoSubmounts(dir string) ([]string, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	return submounts(mounts, dir), nil
}

// ClassifyEntry sorts the entry name of RunDir both ways NamedIDs can:
// with a file handle (netNSAt; known false when it cannot tell) and by
// opening the file (isNetNSFile).
func ClassifyEntry(name string) (quick, known, full bool, err error) {
	dir, err := openDirPath(RunDir)
	if err != nil {
		return false, false, false, err
	}
	defer closeFd(dir)
	quick, known = netNSAt(dir, name)
	return quick, known, isNetNSFile(RunDir + "/" + name), nil
}

// SetHolderTimeout sets how long CreateOwned waits for its holder and
// returns a function that puts the old value back.
func SetHolderTimeout(d time.Duration) func() {
	old := holderTimeout
	holderTimeout = d
	return func() { holderTimeout = old }
}
