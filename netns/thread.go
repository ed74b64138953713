package netns

import (
	"runtime"
)

// threadResult carries what happened on a private thread back to the caller.
type threadResult struct {
	err      error
	panicked bool
	panicVal any
}

// onPrivateThread runs body on a new goroutine locked to its OS thread and
// waits for it. body may move that thread into other network namespaces;
// afterwards the thread is moved back into the one it started in, and only
// then unlocked and handed back to the Go scheduler. If moving back fails,
// the goroutine exits still locked, and the runtime destroys the thread
// rather than reuse it (runtime.LockOSThread), so no other goroutine ever
// runs in a namespace it did not ask for. A panic in body is re-raised in
// the caller once the thread is safe.
//
// The start namespace is read from /proc/thread-self/ns/net: namespaces
// belong to threads, and /proc/self names the main thread's.
func onPrivateThread(body func() error) error {
	done := make(chan threadResult, 1)
	go func() {
		runtime.LockOSThread()
		home, err := openFollow("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- threadResult{err: newError("open", "/proc/thread-self/ns/net", err)}
			return
		}
		r := runGuarded(body)
		restored := setns(home) == nil
		closeFd(home)
		if restored {
			runtime.UnlockOSThread()
		}
		done <- r
		// Returning while locked (restore failed) terminates the thread.
	}()
	r := <-done
	if r.panicked {
		panic(r.panicVal)
	}
	return r.err
}

// runGuarded calls body, turning a panic into a result.
func runGuarded(body func() error) (r threadResult) {
	defer func() {
		if p := recover(); p != nil {
			r = threadResult{panicked: true, panicVal: p}
		}
	}()
	return threadResult{err: body()}
}
