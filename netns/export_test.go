package netns

// SetTestHook installs the fault hook Create calls at each step.
func SetTestHook(f func(step string)) { testHook = f }

var ParseMountinfo = parseMountinfo

// Submounts exposes submounts for the unit test.
func Submounts(data []byte, dir string) []string { return submounts(parseMountinfo(data), dir) }
