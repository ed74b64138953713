package link_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// linkEvent is one RTM_NEWLINK or RTM_DELLINK notification.
type linkEvent struct {
	typ   netlink.HeaderType
	index uint32
	name  string
}

// watchLinks subscribes to link notifications (RTNLGRP_LINK) in ns, or in
// the process's namespace for nil. Reading them only listens: the test
// changes nothing in the process's namespace.
func watchLinks(t *testing.T, ns *netns.NS) *netlink.Conn {
	t.Helper()
	cfg := &netlink.Config{Groups: 1} // RTMGRP_LINK
	if ns != nil {
		cfg.NetNS = ns.Fd()
	} else {
		self, err := netns.OpenPID(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		defer self.Close()
		cfg.NetNS = self.Fd()
	}
	c, err := netlink.Dial(0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// queued returns the notifications already waiting on c. The kernel
// queues them before it acknowledges the request that caused them, so
// after AddVeth returns they are all there; the short deadline only ends
// the read once the queue is empty.
func queued(t *testing.T, c *netlink.Conn) []linkEvent {
	t.Helper()
	var out []linkEvent
	for {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		msgs, err := c.Receive()
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("receive: %v", err)
			}
			return out
		}
		for _, m := range msgs {
			if len(m.Data) < 16 {
				continue
			}
			e := linkEvent{typ: m.Header.Type, index: uint32(m.Data[4]) | uint32(m.Data[5])<<8 | uint32(m.Data[6])<<16 | uint32(m.Data[7])<<24}
			ad, err := netlink.NewAttributeDecoder(m.Data[16:])
			if err != nil {
				t.Fatal(err)
			}
			for ad.Next() {
				if ad.Type() == 3 { // IFLA_IFNAME
					e.name = ad.String()
				}
			}
			out = append(out, e)
		}
	}
}

// TestAddVethInPlace proves both ends are born in their namespaces under
// their final names: the process's namespace hears of neither, and every
// notification in A and B names the end by its final name (a temporary
// name, a rename or a move would show up as another name or a delete).
func TestAddVethInPlace(t *testing.T) {
	nstest.RequireRoot(t)
	a, _ := nstest.NewNamed(t)
	b, _ := nstest.NewNamed(t)
	host, wa, wb := watchLinks(t, nil), watchLinks(t, a), watchLinks(t, b)
	// Names unique to this run, to tell our devices from anything else
	// the host may be doing meanwhile.
	na, nb := "ip"+strings.TrimPrefix(nstest.TempName(t), nstest.Prefix), "ip"+strings.TrimPrefix(nstest.TempName(t), nstest.Prefix)
	if len(na) > 15 || len(nb) > 15 {
		na, nb = na[len(na)-15:], nb[len(nb)-15:]
	}
	if err := link.AddVeth(context.Background(), link.End{NS: a, Name: na}, link.End{NS: b, Name: nb}, nil); err != nil {
		t.Fatal(err)
	}
	for _, e := range queued(t, host) {
		if e.name == na || e.name == nb {
			t.Errorf("the process's namespace saw %+v", e)
		}
	}
	for _, w := range []struct {
		c    *netlink.Conn
		name string
	}{{wa, na}, {wb, nb}} {
		events := queued(t, w.c)
		if len(events) == 0 {
			t.Errorf("no notification for %s", w.name)
		}
		for _, e := range events {
			if e.index == 1 {
				continue // lo coming up
			}
			if e.typ != 16 || e.name != w.name { // RTM_NEWLINK
				t.Errorf("want only RTM_NEWLINK for %s, got %+v", w.name, e)
			}
		}
	}
}

// TestAddVethUndo: when a step after the creation fails, the pair is
// deleted again and the error names the step and the end.
func TestAddVethUndo(t *testing.T) {
	nstest.RequireIP(t)
	a, an := nstest.NewNamed(t)
	b, bn := nstest.NewNamed(t)
	p := netip.MustParsePrefix("10.9.4.2/24")
	err := link.AddVeth(context.Background(), link.End{NS: a, Name: "eth0"},
		link.End{NS: b, Name: "eth0", Addrs: []netip.Prefix{p, p}}, nil)
	if want := `link addr add 10.9.4.2/24 "` + bn + `:eth0": `; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("AddVeth with an address twice = %v, want %s...", err, want)
	}
	for _, ns := range []string{an, bn} {
		if l := ipShow(t, ns); len(l) != 1 {
			t.Errorf("the failed AddVeth left %v in %s", l, ns)
		}
	}
}

// TestAddVethCancelled: a cancelled context stops AddVeth before it
// changes anything.
func TestAddVethCancelled(t *testing.T) {
	nstest.RequireIP(t)
	a, an := nstest.NewNamed(t)
	b, _ := nstest.NewNamed(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := link.AddVeth(ctx, link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AddVeth(cancelled) = %v, want context.Canceled", err)
	}
	if l := ipShow(t, an); len(l) != 1 {
		t.Errorf("a cancelled AddVeth made %v", l)
	}
}
