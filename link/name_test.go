package link_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

func TestValidName(t *testing.T) {
	good := []string{"eth0", "a", strings.Repeat("x", 15), "veth-a.1", "é", "-x"}
	bad := []string{"", strings.Repeat("x", 16), ".", "..", "a/b", "a:b", "a b", "a\tb", "a\nb", "a\x00b", "a\xa0b", "a\vb"}
	for _, n := range good {
		if err := link.ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		err := link.ValidName(n)
		if !errors.Is(err, link.ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

func TestSplitEndpoint(t *testing.T) {
	for _, c := range []struct{ in, ns, ifname string }{
		{"a:eth0", "a", "eth0"},
		{".:veth0", link.Host, "veth0"},
		{"a:b:eth0", "a:b", "eth0"}, // namespace names may hold ":"
		{"..x:e", "..x", "e"},
	} {
		ns, ifname, err := link.SplitEndpoint(c.in)
		if err != nil || ns != c.ns || ifname != c.ifname {
			t.Errorf("SplitEndpoint(%q) = %q, %q, %v; want %q, %q", c.in, ns, ifname, err, c.ns, c.ifname)
		}
	}
	for _, c := range []struct {
		in   string
		want error
	}{
		{"eth0", nil},
		{"a:", link.ErrInvalidName},
		{"a:" + strings.Repeat("x", 16), link.ErrInvalidName},
		{":eth0", netns.ErrInvalidName},
		{"..:eth0", netns.ErrInvalidName},
		{"a/b:eth0", netns.ErrInvalidName},
		{"a:e h", link.ErrInvalidName},
	} {
		_, _, err := link.SplitEndpoint(c.in)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("SplitEndpoint(%q) = %v, want %v", c.in, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), `"`+c.in+`"`) {
			t.Errorf("SplitEndpoint(%q): error %q does not name the endpoint", c.in, err)
		}
	}
}

func TestStableMAC(t *testing.T) {
	a := link.StableMAC("m", "ns", "eth0")
	if b := link.StableMAC("m", "ns", "eth0"); a.String() != b.String() {
		t.Errorf("StableMAC not stable: %s, %s", a, b)
	}
	if b := link.StableMAC("m", "ns", "eth1"); a.String() == b.String() {
		t.Errorf("StableMAC(eth0) = StableMAC(eth1) = %s", a)
	}
	// The parts are separated: ("ab", "c") is not ("a", "bc").
	if link.StableMAC("ab", "c").String() == link.StableMAC("a", "bc").String() {
		t.Error("StableMAC does not separate its parts")
	}
	for i := range 1000 {
		m := link.StableMAC("x", strings.Repeat("y", i))
		if len(m) != 6 || m[0]&1 != 0 || m[0]&2 == 0 {
			t.Fatalf("StableMAC = %s: want 6 bytes, unicast, locally administered", m)
		}
	}
}
