package netns

// SetTestHook installs the fault hook Create calls at each step.
func SetTestHook(f func(step string)) { testHook = f }
