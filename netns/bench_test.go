package netns_test

import (
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// The benchmarks run in the test sandbox (private mount namespace, tmpfs
// run dir) like the root tests; `make bench` runs them.

// BenchmarkCreateDelete: one "ip netns add" plus "ip netns delete" per op.
// The kernel frees a deleted namespace asynchronously, so a long run also
// measures how fast it keeps up.
func BenchmarkCreateDelete(b *testing.B) {
	nstest.RequireRoot(b)
	for b.Loop() {
		name := nstest.TempName(b)
		ns, err := netns.Create(name, nil)
		if err != nil {
			b.Fatal(err)
		}
		ns.Close()
		if err := netns.Delete(name); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// BenchmarkOpen: Open and Close of an existing name (open, fstat,
// fstatfs, NS_GET_NSTYPE, close).
func BenchmarkOpen(b *testing.B) {
	nstest.RequireRoot(b)
	_, name := nstest.NewNamed(b)
	for b.Loop() {
		ns, err := netns.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		ns.Close()
	}
}

// BenchmarkDo: the round trip of an empty fn, from one goroutine.
func BenchmarkDo(b *testing.B) {
	nstest.RequireRoot(b)
	ns, _ := nstest.NewNamed(b)
	fn := func() error { return nil }
	for b.Loop() {
		if err := ns.Do(fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoParallel: Do from GOMAXPROCS goroutines at once.
func BenchmarkDoParallel(b *testing.B) {
	nstest.RequireRoot(b)
	ns, _ := nstest.NewNamed(b)
	fn := func() error { return nil }
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := ns.Do(fn); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkList1000: List with 1000 namespaces in the run dir.
func BenchmarkList1000(b *testing.B) {
	nstest.RequireRoot(b)
	for range 1000 {
		nstest.NewNamed(b)
	}
	for b.Loop() {
		names, err := netns.List()
		if err != nil {
			b.Fatal(err)
		}
		if len(names) < 1000 {
			b.Fatalf("List gave %d names, want at least 1000", len(names))
		}
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "names/s")
}
