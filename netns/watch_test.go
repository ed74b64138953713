package netns_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// nextOf returns the next event about one of names, skipping those of
// other tests that share the run directory.
func nextOf(t *testing.T, w *netns.Watcher, names ...string) netns.Event {
	t.Helper()
	for {
		ev, err := w.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		for _, n := range names {
			if ev.Name == n {
				return ev
			}
		}
	}
}

// watchWithJunk starts a Watcher, then makes an empty placeholder, junk,
// that never becomes a namespace; name is a fresh name for the test.
func watchWithJunk(t *testing.T) (w *netns.Watcher, junk, name string) {
	t.Helper()
	w, err := netns.Watch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	junk, name = nstest.TempName(t), nstest.TempName(t)
	if err := os.WriteFile(netns.RunDir+"/"+junk, nil, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(netns.RunDir + "/" + junk) })
	return w, junk, name
}

func TestWatch(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	w, junk, name := watchWithJunk(t)
	// A placeholder that never becomes a namespace is not reported, nor
	// is its deletion.
	os.Remove(netns.RunDir + "/" + junk)
	for _, byIP := range []bool{false, true} {
		if byIP {
			nstest.MustIP(t, "netns", "add", name)
		} else if ns, err := netns.Create(name, nil); err != nil {
			t.Fatal(err)
		} else {
			ns.Close()
		}
		ev := nextOf(t, w, name, junk)
		if ev.String() != "add "+name {
			t.Fatalf("got %q, want %q", ev, "add "+name)
		}
		if ns, err := netns.Open(name); err != nil {
			t.Errorf("reported added, but Open: %v", err)
		} else {
			ns.Close()
		}
		nstest.Remove(t, name)
		if ev := nextOf(t, w, name, junk); ev.String() != "delete "+name {
			t.Fatalf("got %q, want %q", ev, "delete "+name)
		}
	}
}

func TestWatchDropsStalePlaceholder(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	w, junk, name := watchWithJunk(t)
	time.Sleep(netns.PlaceholderGrace + 100*time.Millisecond)
	_, _ = nstest.NewNamed(t) // some other name: wakes the watcher
	ns, err := netns.Create(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	t.Cleanup(func() { nstest.Remove(t, name) })
	if ev := nextOf(t, w, name, junk); ev.String() != "add "+name {
		t.Errorf("got %q, want %q: the stale placeholder must be dropped", ev, "add "+name)
	}
	os.Remove(netns.RunDir + "/" + junk)
	if ev := nextOf(t, w, name, junk); ev.String() != "delete "+junk {
		t.Errorf("got %q, want %q", ev, "delete "+junk)
	}
}

func TestWatchClose(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	w, err := netns.Watch()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		for {
			if _, err := w.Next(); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Next after Close = %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked after Close")
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("second Close = %v, want an error", err)
	}
}

// TestWatchContext: NextContext gives up when its context is done, with
// the context's error, and the watcher goes on reporting afterwards.
func TestWatchContext(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	w, err := netns.Watch()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	done := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.NextContext(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("NextContext(cancelled) = %v, want context.Canceled", err)
	}
	for _, give := range []struct {
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{func() (context.Context, context.CancelFunc) { return context.WithCancel(done) }, context.Canceled},
		{func() (context.Context, context.CancelFunc) { return context.WithTimeout(done, 50*time.Millisecond) }, context.DeadlineExceeded},
	} {
		ctx, cancel := give.ctx()
		errc := make(chan error, 1)
		go func() {
			for { // skip events of other tests
				if _, err := w.NextContext(ctx); err != nil {
					errc <- err
					return
				}
			}
		}()
		time.Sleep(20 * time.Millisecond)
		if give.want == context.Canceled {
			cancel()
		}
		select {
		case err := <-errc:
			if !errors.Is(err, give.want) {
				t.Errorf("NextContext = %v, want %v", err, give.want)
			}
		case <-time.After(hangGuard):
			t.Fatalf("NextContext still blocked when its context was done (%v)", give.want)
		}
		cancel()
	}
	name := nstest.TempName(t)
	nstest.MustIP(t, "netns", "add", name)
	t.Cleanup(func() { nstest.Remove(t, name) })
	if ev := nextOf(t, w, name); ev.String() != "add "+name {
		t.Errorf("after NextContext gave up, got %q, want %q", ev, "add "+name)
	}
}
