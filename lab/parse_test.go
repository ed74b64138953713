package lab_test

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/setns/setns/lab"
)

// The minimal file of the documentation parses as written.
func TestParseDemo(t *testing.T) {
	l, err := lab.ParseFile("testdata/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "demo" || l.Namespace("r1") != "demo-r1" || len(l.Nodes) != 4 || len(l.Links) != 2 {
		t.Fatalf("parsed %+v", l)
	}
	if r1 := l.Node("r1"); r1.Sysctls["net.ipv4.ip_forward"] != "1" || r1.Sysctls["net.ipv6.conf.all.forwarding"] != "0" {
		t.Errorf("r1 sysctls %v: want the file's over the baseline", r1.Sysctls)
	}
	if h1 := l.Node("h1"); len(h1.Routes) != 1 || h1.Routes[0].String() != "default via 10.0.1.1" ||
		h1.Addrs["eth0"][0] != netip.MustParsePrefix("10.0.1.2/24") {
		t.Errorf("h1 %+v", h1)
	}
	if l.Node("sw").Kind != lab.KindBridge {
		t.Errorf("sw kind %q", l.Node("sw").Kind)
	}
}

// JSON is YAML too.
func TestParseJSON(t *testing.T) {
	l, err := lab.Parse("x.json", []byte(`{"lab": "j", "nodes": {"a": {}, "b": {"routes": ["10.9.0.0/16 via 10.0.0.1"]}},
		"links": [{"endpoints": ["a:e0", "b:e0"], "addresses": ["10.0.0.1/30", "10.0.0.2/30"], "mtu": 9000}, ["a:e1", "b:e1"]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Links) != 2 || l.Links[0].MTU != 9000 || l.Links[1].Ends[1].String() != "b:e1" {
		t.Fatalf("parsed %+v", l.Links)
	}
}

// Every kind of bad input gets an error naming the file, the line and
// the problem.
func TestParseErrors(t *testing.T) {
	base := "lab: demo\nnodes:\n  a: {}\n  b: {}\n"
	for _, c := range []struct{ name, in, want string }{
		{"yaml", "lab: demo\nnodes:\n\ta: {}\n", "f.yaml:3: invalid YAML"},
		{"empty", "", "f.yaml: empty lab file"},
		{"unknown key", "lab: demo\ncolour: red\nnodes: {a: {}}\n", `f.yaml:2: lab file: unknown key "colour"`},
		{"unknown node key", base + "  c: {rotues: []}\n", `f.yaml:5: node c: unknown key "rotues"`},
		{"unknown node", base + "links:\n  - [a:eth0, z:eth0]\n", `f.yaml:6: link: endpoint "z:eth0": unknown node "z"`},
		{"endpoint twice", base + "links:\n  - [a:eth0, b:eth0]\n  - [a:eth0, b:eth1]\n", `f.yaml:7: link: endpoint "a:eth0" used twice (first at line 6)`},
		{"long ifname", base + "links:\n  - [a:eth0123456789abc, b:eth0]\n", `f.yaml:6: link: endpoint "a:eth0123456789abc": invalid interface name`},
		{"not a prefix", base + "links:\n  - endpoints: [a:eth0, b:eth0]\n    addresses: [10.0.0.1, 10.0.0.2/24]\n", `f.yaml:7: link a:eth0--b:eth0: address "10.0.0.1" is not a prefix`},
		{"bad lab name", "lab: a/b\nnodes: {a: {}}\n", `f.yaml:1: invalid lab name "a/b"`},
		{"bad node name", "lab: demo\nnodes:\n  a/b: {}\n", `f.yaml:3: invalid node name "a/b"`},
		{"dot node", "lab: demo\nnodes:\n  ..: {}\n", `f.yaml:3: invalid node name ".."`},
		{"long namespace", "lab: demo\nnodes:\n  " + strings.Repeat("n", 255) + ": {}\n", "f.yaml:3: node nnn"},
		{"bad route", base + "  c: {routes: [\"default via nowhere\"]}\n", `f.yaml:5: node c: route "default via nowhere": invalid gateway`},
		{"route dev", base + "  c: {routes: [\"10.0.0.0/8 dev eth7\"]}\n", `f.yaml:5: node c: route "10.0.0.0/8 dev eth7": no interface "eth7"`},
		{"unreachable gateway", base + "  c:\n    routes:\n      - 10.1.0.0/16 via 10.0.0.9\n      - default via 10.9.0.1\nlinks:\n  - {endpoints: [a:e, c:e], addresses: [10.0.0.1/24, 10.0.0.2/24]}\n",
			`f.yaml:8: node c: route "default via 10.9.0.1": gateway 10.9.0.1 is in no subnet of the node's addresses`},
		{"sysctl", base + "  c: {sysctls: {kernel.pid_max: 1}}\n", `f.yaml:5: sysctl "kernel.pid_max": only net.*`},
		{"kind", base + "  c: {kind: switch}\n", `f.yaml:5: node c: unknown kind "switch"`},
		{"mtu", base + "links:\n  - {endpoints: [a:e, b:e], mtu: 9}\n", `f.yaml:6: link: invalid mtu "9"`},
		{"duplicate key", "lab: demo\nnodes:\n  a: {}\n  a: {}\n", `f.yaml:4: nodes: key "a" given twice`},
		{"same endpoint", base + "links:\n  - [a:e, a:e]\n", `f.yaml:6: link: endpoint "a:e" used twice`},
		{"lo", base + "links:\n  - [a:lo, b:e]\n", `f.yaml:6: link: endpoint "a:lo": lo is taken`},
		{"missing lab", "nodes: {a: {}}\n", `f.yaml:1: lab file: missing "lab: NAME"`},
		{"unknown owner", "lab: demo\nowner: nstest-no-such-user\nnodes: {a: {}}\n", `f.yaml:2: owner: unknown user "nstest-no-such-user"`},
		{"root owner", base + "  c: {owner: root}\n", `f.yaml:5: node c: owner: "root" is root`},
		{"uid 0 owner", base + "  c: {owner: \"0\"}\n", `f.yaml:5: node c: owner: "0" is root`},
		{"gid 0 owner", base + "  c:\n    owner: 4242:0\n", `f.yaml:6: node c: owner: "4242:0": the group must not be root (gid 0)`},
		{"root group owner", base + "  c: {owner: \"4242:root\"}\n", `f.yaml:5: node c: owner: "4242:root": the group must not be root`},
		{"empty owner", base + "  c: {owner: \"\"}\n", `f.yaml:5: node c: owner: want USER[:GROUP]`},
		{"bad owner", base + "  c: {owner: \"4242:\"}\n", `f.yaml:5: node c: owner: invalid user "4242:"`},
		{"addresses count", base + "links:\n  - {endpoints: [a:e, b:e], addresses: [10.0.0.1/24]}\n", "f.yaml:6: link a:e--b:e: addresses: want two entries"},
	} {
		_, err := lab.Parse("f.yaml", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// A parse error is one line.
func TestParseErrorOneLine(t *testing.T) {
	b, _ := os.ReadFile("testdata/demo.yaml")
	_, err := lab.Parse("d.yaml", append(b, "  - [r1:eth0, h2:eth9]\n"...))
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %q", err)
	}
}

// owner: at the top is every node's; a node's own overrides it.
func TestParseOwner(t *testing.T) {
	l, err := lab.Parse("o.yaml", []byte("lab: o\nowner: \"4242\"\nnodes:\n  a: {}\n  b: {owner: \"4243:4244\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := l.Node("a").Owner; o == nil || o.UID != 4242 || o.GID != 4242 || o.Spec != "4242" || o.Line != 2 {
		t.Errorf("a: owner %+v, want uid 4242 gid 4242 from line 2", o)
	}
	if o := l.Node("b").Owner; o == nil || o.UID != 4243 || o.GID != 4244 || o.Line != 5 {
		t.Errorf("b: owner %+v, want uid 4243 gid 4244 from line 5", o)
	}
	l, err = lab.Parse("o.yaml", []byte("lab: o\nnodes: {a: {}}\n"))
	if err != nil || l.Node("a").Owner != nil {
		t.Errorf("no owner: %+v, %v", l.Node("a").Owner, err)
	}
}
