package netnstest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/setns/setns/netns"
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
	b := a.As16()
	group := []byte("ff0200000000000000000001ff" + hex.EncodeToString(b[13:]))
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 10*time.Millisecond) {
		var joined bool
		err := ns.Do(func() error {
			// Both read the namespace of this thread.
			ifi, err := net.InterfaceByName(ifname)
			if err != nil || ifi.Flags&net.FlagRunning == 0 {
				return err
			}
			groups, err := os.ReadFile("/proc/thread-self/net/igmp6")
			for line := range bytes.Lines(groups) {
				f := bytes.Fields(line)
				joined = joined || len(f) > 2 && string(f[1]) == ifname && bytes.Equal(f[2], group)
			}
			return err
		})
		if err != nil || joined {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s:%s to come up: %w", ns, ifname, ctx.Err())
		case <-time.After(pause):
		}
	}
}
