package netns_test

import (
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestDoReleasesHomes: the descriptors a handle keeps for Do are gone
// after Close, however many threads Do ran on.
func TestDoReleasesHomes(t *testing.T) {
	nstest.RequireRoot(t)
	_, name := nstest.NewNamed(t)
	before := countFds(t)
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for range 16 {
		go func() {
			var err error
			for range 200 {
				if err = ns.Do(func() error { return nil }); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	ns.Close()
	if after := countFds(t); after != before {
		t.Errorf("open descriptors went from %d to %d", before, after)
	}
}
