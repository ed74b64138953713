package netns_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

func TestDoRunsInside(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.CheckThreadNS(t)
	ns, _ := nstest.NewNamed(t)
	err := ns.Do(func() error {
		cur, err := netns.Current()
		if err != nil {
			return err
		}
		defer cur.Close()
		if !cur.Equal(ns) {
			return errors.New("fn does not run in the namespace")
		}
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		if len(ifs) != 1 || ifs[0].Name != "lo" {
			return fmt.Errorf("interfaces inside = %v, want only lo", ifs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := errors.New("from fn")
	if got := ns.Do(func() error { return want }); got != want {
		t.Errorf("Do returned %v, want fn's error %v", got, want)
	}
}

func TestDoPanicPropagates(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.CheckThreadNS(t)
	ns, _ := nstest.NewNamed(t)
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want the panic value of fn", p)
		}
	}()
	ns.Do(func() error { panic("boom") })
	t.Error("Do returned after fn panicked")
}

func TestDoOnClosed(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	ns.Close()
	ran := false
	err := ns.Do(func() error { ran = true; return nil })
	if !errors.Is(err, os.ErrClosed) || ran {
		t.Errorf("Do on a closed handle = %v (ran %v), want os.ErrClosed", err, ran)
	}
}

// TestDoStress: 10 000 Do calls from 200 goroutines, some failing, some
// panicking; afterwards no thread of the process is in a foreign namespace.
func TestDoStress(t *testing.T) {
	nstest.RequireRoot(t)
	var spaces []*netns.NS
	for range 4 {
		ns, _ := nstest.NewNamed(t)
		spaces = append(spaces, ns)
	}
	home, err := netns.Current()
	if err != nil {
		t.Fatal(err)
	}
	defer home.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := 0
	for g := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				ns := spaces[(g+i)%len(spaces)]
				err := func() (err error) {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("panic %v", p)
						}
					}()
					return ns.Do(func() error {
						switch i % 5 {
						case 3:
							return errors.New("expected")
						case 4:
							panic("expected")
						}
						cur, err := netns.Current()
						if err != nil {
							return err
						}
						defer cur.Close()
						if !cur.Equal(ns) {
							return errors.New("not inside")
						}
						return nil
					})
				}()
				if (err != nil) != (i%5 >= 3) {
					mu.Lock()
					failures++
					mu.Unlock()
				}
				// The goroutine's own thread must still be at home.
				if cur, err := netns.Current(); err == nil {
					if !cur.Equal(home) {
						mu.Lock()
						failures++
						mu.Unlock()
					}
					cur.Close()
				}
			}
		}()
	}
	wg.Wait()
	if failures > 0 {
		t.Errorf("%d of 10000 Do calls misbehaved", failures)
	}
	bad, err := nstest.ForeignThreads()
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("threads left in foreign namespaces: %v", bad)
	}
}

// TestNoFdLeak: 1000 create+delete cycles leave no descriptor behind.
func TestNoFdLeak(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.NewNamed(t)
	before := countFds(t)
	for range 1000 {
		name := nstest.TempName(t)
		ns, err := netns.Create(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		ns.Close()
		if err := netns.Delete(name); err != nil {
			t.Fatal(err)
		}
	}
	if after := countFds(t); after > before {
		t.Errorf("open descriptors went from %d to %d", before, after)
	}
}

func countFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestCreateLoopback: Create brings lo up (a TCP round trip over 127.0.0.1
// works inside), NoLoopback leaves it down as ip does.
func TestCreateLoopback(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	up, _ := nstest.NewNamed(t)
	err := up.Do(func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		t.Errorf("loopback inside a created namespace: %v", err)
	}
	name := nstest.TempName(t)
	down, err := netns.Create(name, &netns.CreateOptions{NoLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { down.Close(); nstest.Remove(t, name) })
	err = down.Do(func() error {
		lo, err := net.InterfaceByName("lo")
		if err != nil {
			return err
		}
		if lo.Flags&net.FlagUp != 0 {
			return errors.New("lo is up")
		}
		return nil
	})
	if err != nil {
		t.Errorf("with NoLoopback: %v", err)
	}
}
