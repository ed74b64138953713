package netns

// Do runs fn on an OS thread that is inside the namespace, and returns
// fn's error. The calling goroutine's thread is never touched.
//
// fn runs on a goroutine of its own, locked to a thread for the duration:
// fn must not call runtime.LockOSThread or UnlockOSThread, and goroutines
// that fn starts run on other threads, in the process's namespace, not in
// ns. Sockets that fn opens stay in ns after Do returns. Afterwards the
// thread is moved back; if that fails it is destroyed rather than reused.
// To move threads back quickly, the handle keeps a descriptor of the
// namespace of each of the last few threads it ran on until Close.
// Close does not wait for a Do in progress, and may be called inside fn:
// the descriptors are closed once the last Do returns.
// A panic in fn is re-raised in the caller after the thread is restored.
//
// This is the library's counterpart of "ip netns exec NAME" for Go code.
// Entering needs CAP_SYS_ADMIN (and CAP_SYS_ADMIN over the namespace's
// user namespace).
func (ns *NS) Do(fn func() error) error {
	return ns.use("enter", func(fd int) error {
		var fnErr error
		err := onThread(&ns.fds.homes, func() error {
			if err := setns(fd); err != nil {
				return newError("enter", ns.String(), err)
			}
			fnErr = fn()
			return nil
		})
		if err != nil {
			return err
		}
		return fnErr
	})
}
