package link_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// Wire the namespaces "a" and "b" together, as
// "netns link add a:eth0 b:eth0 --addr 10.0.0.1/24 --addr 10.0.0.2/24".
func ExampleAddVeth() {
	ctx := context.Background()
	a, err := netns.Open("a")
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	b, err := netns.Open("b")
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	err = link.AddVeth(ctx,
		link.End{NS: a, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}},
		link.End{NS: b, Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}},
		nil)
	if err != nil {
		log.Fatal(err) // e.g. link add "a:eth0": file exists
	}
	links, err := link.List(ctx, []*netns.NS{a}, &link.ListOptions{Peers: []*netns.NS{b}})
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range links {
		fmt.Printf("%s:%s <-> %s:%s %s\n", l.NS, l.Name, l.Peer.NS, l.Peer.Name, l.MAC)
	}
	if err := link.Delete(ctx, a, "eth0"); err != nil { // b:eth0 goes too
		log.Fatal(err)
	}
}
