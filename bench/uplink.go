package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

// The uplink comparisons run netns connect and disconnect inside a
// namespace playing the host (upHost, with a veth to upWAN and a default
// route through it), never in the machine's own: nsenter puts netns
// there, and "nsenter ... true" is the other side, so the difference of
// the medians is what connect or disconnect itself costs.
const (
	upHost = "bench-uphost"
	upWAN  = "bench-upwan"
	upNS   = "bench-upns"
)

func uplinkComparisons(c *config) []comparison {
	in := []string{"nsenter", "--net=" + netns.RunDir + "/" + upHost}
	return []comparison{
		{
			key: "connect", title: "`netns connect NAME` vs `true`, both under `nsenter --net=HOST` (a test namespace)",
			pairs: netnsPairs(c, c.enterPairs/3),
			ours: side{prep: func(int) error { return upWorld(false) },
				steps: run1(append(in, c.netns, "connect", upNS)...)},
			theirs: side{steps: run1(append(in, "true")...)},
		},
		{
			key: "disconnect", title: "`netns disconnect NAME` vs `true`, both under `nsenter --net=HOST`",
			pairs: netnsPairs(c, c.enterPairs/3),
			ours: side{prep: func(int) error { return upWorld(true) },
				steps: run1(append(in, c.netns, "disconnect", upNS)...)},
			theirs: side{steps: run1(append(in, "true")...)},
		},
	}
}

// upWorld makes the host, the internet and the namespace if they are
// missing (another comparison's population may have deleted them), then
// leaves upNS connected or not.
func upWorld(connected bool) error {
	host, err := netns.Open(upHost)
	if err != nil {
		for _, n := range []string{upHost, upWAN, upNS} {
			_ = netns.Delete(n)
		}
		// Journals of a host namespace that is gone (/run is the bench's
		// own tmpfs): everything they list went with it.
		if err := os.RemoveAll(uplink.DefaultStateDir); err != nil {
			return err
		}
		if host, err = netns.Create(upHost, nil); err != nil {
			return err
		}
		wan, err := netns.Create(upWAN, nil)
		if err != nil {
			return err
		}
		defer wan.Close()
		ns, err := netns.Create(upNS, nil)
		if err != nil {
			return err
		}
		ns.Close()
		if err := link.AddVeth(context.Background(),
			link.End{NS: host, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.2/24")}},
			link.End{NS: wan, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.1/24")}}, nil); err != nil {
			return err
		}
		if out, err := exec.Command("ip", "-n", upHost, "route", "add", "default", "via", "198.51.100.1").CombinedOutput(); err != nil {
			return fmt.Errorf("default route: %v: %s", err, out)
		}
	}
	defer host.Close()
	o := &uplink.Options{Host: host}
	if !connected {
		return uplink.Disconnect(context.Background(), upNS, o)
	}
	ns, err := netns.Open(upNS)
	if err != nil {
		return err
	}
	defer ns.Close()
	_, err = uplink.Connect(context.Background(), ns, o)
	return err
}
