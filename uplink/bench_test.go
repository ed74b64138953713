package uplink_test

import (
	"context"
	"testing"

	"github.com/setns/setns/uplink"
)

// BenchmarkConnect times Connect alone (NAT mode, a host namespace with a
// default route and no firewall); the Disconnect between runs is untimed.
func BenchmarkConnect(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := uplink.Connect(ctx, w.ns, w.opts()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := uplink.Disconnect(ctx, w.nsN, w.opts()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkDisconnect times Disconnect alone.
func BenchmarkDisconnect(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		if _, err := uplink.Connect(ctx, w.ns, w.opts()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := uplink.Disconnect(ctx, w.nsN, w.opts()); err != nil {
			b.Fatal(err)
		}
	}
}
