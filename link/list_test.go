package link_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

func TestList(t *testing.T) {
	nstest.RequireIP(t)
	a, an := nstest.NewNamed(t)
	b, bn := nstest.NewNamed(t)
	ctx := context.Background()
	if err := link.AddVeth(ctx, link.End{NS: a, Name: "eth0", Addrs: prefixes("10.9.3.1/24")}, link.End{NS: b, Name: "eth1"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := link.AddVeth(ctx, link.End{NS: a, Name: "x0"}, link.End{NS: a, Name: "x1"}, &link.Options{Down: true, Group: 7}); err != nil {
		t.Fatal(err)
	}
	nstest.MustIP(t, "-n", an, "link", "add", "foreign", "type", "veth", "peer", "name", "foreign1", "netns", bn)
	links, err := link.List(ctx, []*netns.NS{a}, &link.ListOptions{Peers: []*netns.NS{b}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range links {
		global := slices.DeleteFunc(l.Addrs, func(p netip.Prefix) bool { return p.Addr().IsLinkLocalUnicast() })
		got = append(got, fmt.Sprintf("%s:%s<->%s:%s up=%v group=%d %v", l.NS, l.Name, l.Peer.NS, l.Peer.Name, l.Up, l.Group, global))
	}
	want := []string{
		fmt.Sprintf("%s:eth0<->%s:eth1 up=true group=0 [10.9.3.1/24]", an, bn),
		// By ifindex: the kernel registers the peer first.
		fmt.Sprintf("%s:x1<->%s:x0 up=false group=7 []", an, an),
		fmt.Sprintf("%s:x0<->%s:x1 up=false group=7 []", an, an),
	}
	if !slices.Equal(got, want) {
		t.Errorf("List:\n got %q\nwant %q", got, want)
	}
	// Without the peer's namespace, the peer is unknown but its index is there.
	links, err = link.List(ctx, []*netns.NS{a}, &link.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 4 || links[0].Peer.NS != "" || links[0].Peer.Index == 0 || links[3].Name != "foreign" || links[3].IsOwned {
		t.Errorf("List(All) = %+v", links)
	}
}
