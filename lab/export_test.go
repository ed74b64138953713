package lab

// Writes is the number of kernel writes this process has made.
func Writes() int64 { return writes.Load() }
