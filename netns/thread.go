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
func onPrivateThread(body func() error) error { return onThread(nil, body) }

// onThread is onPrivateThread with homes, if not nil, keeping the start
// namespace's descriptor for the next call on the same thread (homeCache).
func onThread(homes *homeCache, body func() error) error {
	done := make(chan threadResult, 1)
	goLocked(func() {
		tid := gettid()
		home := homes.take(tid)
		if home < 0 {
			var err error
			if home, err = openFollow("/proc/thread-self/ns/net"); err != nil {
				runtime.UnlockOSThread()
				done <- threadResult{err: newError("open", "/proc/thread-self/ns/net", err)}
				return
			}
		}
		r := runGuarded(body)
		if setns(home) == nil {
			homes.put(tid, home)
			runtime.UnlockOSThread()
		} else {
			closeFd(home)
		}
		done <- r
		// Returning while locked (restore failed) terminates the thread.
	})
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

// goLocked runs body on a new goroutine locked to an OS thread that is not
// the main thread. body returns with the thread still locked, to have it
// destroyed, or unlocks it first when it leaves the thread as it found it.
//
// The main thread is avoided because it is special twice over: its
// namespaces are the ones /proc/PID/ns shows for the whole process, and
// the runtime never lets it exit (a goroutine that ends locked to it
// wedges it instead), so a tainted main thread would stay tainted. If the
// new goroutine lands on it, it keeps it locked, and so busy, until a
// second goroutine, which then cannot be scheduled there, is locked to
// another thread; that one runs body.
func goLocked(body func()) {
	go func() {
		runtime.LockOSThread()
		if !onMainThread() {
			body()
			return
		}
		elsewhere := make(chan struct{})
		goLocked(func() {
			close(elsewhere)
			body()
		})
		<-elsewhere
		runtime.UnlockOSThread()
	}()
}
