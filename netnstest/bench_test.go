package netnstest_test

import (
	"testing"
	"time"

	"github.com/setns/setns/netnstest"
)

// The namespaces a benchmark makes live until it ends, so make bench
// runs these with a fixed count (-benchtime 1000x), not for a time.

// pending counts the namespaces the benchmarks before made. They are
// deleted when those end, and the kernel then frees them in the
// background, holding the rtnl lock for about half a millisecond each,
// which would slow the next benchmark down: settle waits for that.
var pending int

func settle(made int) {
	time.Sleep(time.Duration(pending) * 500 * time.Microsecond)
	pending = made
}

func BenchmarkNew(b *testing.B) {
	settle(b.N)
	for b.Loop() {
		netnstest.New(b)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "namespaces/s")
}

// BenchmarkNewParallel: New from parallel tests, the rate a test suite
// sees.
func BenchmarkNewParallel(b *testing.B) {
	settle(b.N)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			netnstest.New(b)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "namespaces/s")
}

// BenchmarkConnect: a link between two fresh namespaces, as most tests
// make them (the namespaces are made untimed).
func BenchmarkConnect(b *testing.B) {
	settle(2 * b.N)
	for range b.N {
		b.StopTimer()
		x, y := netnstest.New(b), netnstest.New(b)
		b.StartTimer()
		netnstest.Connect(b, x, y)
	}
}

// BenchmarkConnectSame: many links between the same two namespaces,
// which slows the kernel down as they add up (1000 by the end).
func BenchmarkConnectSame(b *testing.B) {
	settle(2)
	x, y := netnstest.New(b), netnstest.New(b)
	for b.Loop() {
		netnstest.Connect(b, x, y)
	}
}

func BenchmarkListen(b *testing.B) {
	settle(1)
	ns := netnstest.New(b)
	for b.Loop() {
		netnstest.Listen(b, ns, "tcp", "127.0.0.1:0").Close()
	}
}

func BenchmarkDial(b *testing.B) {
	settle(1)
	ns := netnstest.New(b)
	ln := netnstest.Listen(b, ns, "tcp", "127.0.0.1:0")
	for b.Loop() {
		netnstest.Dial(b, ns, "tcp", ln.Addr().String()).Close()
	}
}
