package lab

// Writes is the number of kernel writes this process has made.
func Writes() int64 { return writes.Load() }

// SetTestHook sets the hook called between the ownership check of a
// namespace and its deletion; nil removes it.
func SetTestHook(f func(step, name string)) { testHook = f }
