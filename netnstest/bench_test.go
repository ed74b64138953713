package netnstest_test

import (
	"testing"

	"github.com/setns/setns/netnstest"
)

// The namespaces a benchmark makes live until it ends, so make bench
// runs these with a fixed count (-benchtime 1000x), not for a time.

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		netnstest.New(b)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "namespaces/s")
}

// BenchmarkNewParallel: New from parallel tests, the rate a test suite
// sees.
func BenchmarkNewParallel(b *testing.B) {
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
	for range b.N {
		b.StopTimer()
		x, y := netnstest.New(b), netnstest.New(b)
		b.StartTimer()
		netnstest.Connect(b, x, y)
	}
}

// BenchmarkConnectSame: many links between the same two namespaces.
func BenchmarkConnectSame(b *testing.B) {
	x, y := netnstest.New(b), netnstest.New(b)
	for b.Loop() {
		netnstest.Connect(b, x, y)
	}
}

func BenchmarkListen(b *testing.B) {
	ns := netnstest.New(b)
	for b.Loop() {
		netnstest.Listen(b, ns, "tcp", "127.0.0.1:0").Close()
	}
}

func BenchmarkDial(b *testing.B) {
	ns := netnstest.New(b)
	ln := netnstest.Listen(b, ns, "tcp", "127.0.0.1:0")
	for b.Loop() {
		netnstest.Dial(b, ns, "tcp", ln.Addr().String()).Close()
	}
}
