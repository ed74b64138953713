package netns

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
