package netnstest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

const (
	rtmGetLink = 18   // RTM_GETLINK
	iffUp      = 0x1  // IFF_UP
	iffRunning = 0x40 // IFF_RUNNING: operationally up
)

// waitReady waits until the interface ifname in ns takes traffic for its
// IPv4 address and its IPv6 address a: it is operationally up
// (IFF_RUNNING), and it has joined a's solicited-node multicast group.
//
// A veth's carrier comes on when both ends are up, but the kernel starts
// the transmit queue of the end that was up first only later, from a work
// item (linkwatch) that marks it operationally up just before, and that
// runs up to a second late when many devices change at once; IPv6 joins
// an address's groups from another work item. Until then packets are
// dropped: the first ARP request or neighbour solicitation is lost, and
// the test's first connection stalls for the one-second retransmit.
func waitReady(ctx context.Context, ns *netns.NS, ifname string, a netip.Addr) error {
	c, err := rtnetlink.Dial(&netlink.Config{NetNS: ns.Fd()}) // a socket inside ns
	runtime.KeepAlive(ns)
	if err != nil {
		return fmt.Errorf("wait for %s:%s to come up: %w", ns, ifname, err)
	}
	defer c.Close()
	req := &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: ifname}}
	b := a.As16()
	group := []byte("ff0200000000000000000001ff" + hex.EncodeToString(b[13:]))
	running, joined := false, false
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		if !running {
			msgs, err := c.Execute(req, rtmGetLink, netlink.Request)
			if err != nil {
				return fmt.Errorf("wait for %s:%s to come up: %w", ns, ifname, err)
			}
			if len(msgs) == 1 {
				lm, ok := msgs[0].(*rtnetlink.LinkMessage)
				running = ok && lm.Flags&iffRunning != 0
			}
		}
		if running {
			err := ns.Do(func() error {
				groups, err := os.ReadFile("/proc/thread-self/net/igmp6") // this thread's namespace
				for line := range bytes.Lines(groups) {
					f := bytes.Fields(line)
					joined = joined || len(f) > 2 && string(f[1]) == ifname && bytes.Equal(f[2], group)
				}
				return err
			})
			if err != nil || joined {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s:%s to come up: %w", ns, ifname, ctx.Err())
		case <-time.After(pause):
		}
	}
}
