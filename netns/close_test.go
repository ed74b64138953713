package netns_test

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// hangGuard is how long a test waits for a call that must not block at
// all before it calls it a deadlock. It bounds a hang; it measures nothing.
const hangGuard = 20 * time.Second

// within runs f on a goroutine and fails t if it has not returned after
// hangGuard.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("%s did not return: deadlock", what)
		return nil
	}
}

// TestCloseInsideDo: Close called from fn returns, Do returns, and the
// handle is closed afterwards.
func TestCloseInsideDo(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	before := countFds(t)
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	var closeErr error
	err = within(t, "Close inside Do", func() error {
		return ns.Do(func() error { closeErr = ns.Close(); return nil })
	})
	if err != nil || closeErr != nil {
		t.Fatalf("Do = %v, Close inside it = %v; want nil, nil", err, closeErr)
	}
	if err := ns.Do(func() error { return nil }); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Do after Close = %v, want os.ErrClosed", err)
	}
	if after := countFds(t); after != before {
		t.Errorf("open descriptors went from %d to %d", before, after)
	}
}

// TestCloseDuringDo: a Do that waits does not hold Close up, calls made
// after Close fail with os.ErrClosed at once, and the descriptors are
// closed when the waiting Do finishes.
func TestCloseDuringDo(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	before := countFds(t)
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	doErr := make(chan error, 1)
	go func() {
		doErr <- ns.Do(func() error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	defer func() {
		select {
		case <-release:
		default:
			close(release) // let Do go when the test fails early
		}
	}()
	if err := within(t, "Close during a waiting Do", ns.Close); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := within(t, "Do after Close", func() error {
		return ns.Do(func() error { return errors.New("fn ran") })
	}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Do after Close = %v, want os.ErrClosed", err)
	}
	if err := ns.SetSysctl("net.ipv4.ip_forward", "0"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("SetSysctl after Close = %v, want os.ErrClosed", err)
	}
	if err := ns.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close = %v, want os.ErrClosed", err)
	}
	if fd := ns.Fd(); fd != -1 {
		t.Errorf("Fd after Close = %d, want -1", fd)
	}
	if after := countFds(t); after <= before {
		t.Errorf("descriptors closed (%d -> %d) while a Do still runs in the namespace", before, after)
	}
	close(release)
	if err := <-doErr; err != nil {
		t.Errorf("the Do that Close overtook = %v, want nil", err)
	}
	if after := countFds(t); after != before {
		t.Errorf("open descriptors went from %d to %d after the last Do", before, after)
	}
}

// TestCloseStress: Do from many goroutines while Close comes, over and
// over; every call succeeds or fails with os.ErrClosed, nothing hangs,
// and no descriptor stays open. Run with -race.
func TestCloseStress(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	before := countFds(t)
	for round := range 50 {
		ns, err := netns.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					err := ns.Do(func() error {
						if g == 0 && i == round%5 {
							return ns.Close() // sometimes from inside
						}
						return nil
					})
					if errors.Is(err, os.ErrClosed) {
						return
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		if round%2 == 1 {
			ns.Close() // and sometimes from outside; one of them loses
		}
		if within(t, "Do and Close racing", func() error { wg.Wait(); return nil }); len(errs) > 0 {
			t.Fatalf("round %d: %v", round, <-errs)
		}
	}
	if after := countFds(t); after != before {
		t.Errorf("open descriptors went from %d to %d", before, after)
	}
}

// TestLeakedNSIsClosed: a handle dropped without Close does not keep its
// descriptors for ever: the garbage collector closes them.
func TestLeakedNSIsClosed(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	before := countFds(t)
	func() {
		ns, err := netns.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}()
	if countFds(t) == before {
		t.Fatal("opening a handle opened no descriptor")
	}
	// Cleanups run on their own goroutine after a collection: wait for
	// it, boundedly.
	for deadline := time.Now().Add(hangGuard); countFds(t) != before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("open descriptors went from %d to %d and stayed", before, countFds(t))
		}
		runtime.GC()
	}
}
