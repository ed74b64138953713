package netnstest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/setns/setns/lab"
	"github.com/setns/setns/netns"
	"go.yaml.in/yaml/v3"
)

// Topology is a lab that Lab built for one test.
type Topology struct {
	t     testing.TB
	lab   *lab.Lab
	nodes map[string]*netns.NS
}

// Lab builds the lab that spec, a lab file (YAML or JSON, see package
// lab), describes, for this test only, and destroys it when t and its
// subtests end:
//
//	lab := netnstest.Lab(t, `
//	lab: demo
//	nodes:
//	  r1: {sysctls: {net.ipv4.ip_forward: "1"}}
//	  h1: {routes: ["default via 10.0.1.1"]}
//	  h2: {routes: ["default via 10.0.2.1"]}
//	links:
//	  - endpoints: [r1:eth0, h1:eth0]
//	    addresses: [10.0.1.1/24, 10.0.1.2/24]
//	  - endpoints: [r1:eth1, h2:eth0]
//	    addresses: [10.0.2.1/24, 10.0.2.2/24]
//	`)
//	ln := netnstest.Listen(t, lab.Node("h2"), "tcp", "10.0.2.2:0")
//	c := netnstest.Dial(t, lab.Node("h1"), "tcp", ln.Addr().String())
//
// The file's lab name and prefix are replaced, so that parallel tests
// with the same file do not collide: the lab is named
// "netnstest-PID-SEQ-PKG" and its namespaces, as New's,
// Prefix + "PID-SEQ-PKG-TEST-NODE" (the test name shortened to keep
// names within 255 bytes); Main sweeps and counts them like New's. A file
// that does not parse fails t with the problem and its line.
//
// The cleanup (lab.Destroy, which deletes only namespaces carrying the
// lab's marker) is registered before the lab is applied, so an apply that
// fails half-way, or a test that stops, leaves nothing. With
// NETNSTEST_KEEP=1 the lab of a failed test is kept instead, and the log
// says how to enter and destroy it. Lab needs what New needs (root, or
// Main's sandbox) and skips or fails t as New does.
func Lab(t testing.TB, spec string) *Topology {
	t.Helper()
	requirePrivilege(t)
	l, err := lab.Parse(labFile(t), []byte(spec))
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	longest := 0
	for _, n := range l.Nodes {
		longest = max(longest, len(n.Name))
	}
	name, prefix := labNames(t, longest)
	text, err := renameLab([]byte(spec), name, prefix)
	if err == nil {
		l, err = lab.Parse(labFile(t), text)
	}
	if err != nil {
		t.Fatalf("netnstest: lab as %s: %v", name, err)
	}
	top := &Topology{t: t, lab: l, nodes: map[string]*netns.NS{}}
	t.Cleanup(top.destroy)
	if _, err := lab.Apply(t.Context(), l, nil); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			lacks(t, fmt.Sprintf("netnstest: cannot build a lab: %v", err))
		}
		t.Fatalf("netnstest: %v", err)
	}
	for _, n := range l.Nodes {
		ns, err := netns.Open(l.Namespace(n.Name))
		if err != nil {
			t.Fatalf("netnstest: lab %s: %v", name, err)
		}
		holdLive(ns)
		top.nodes[n.Name] = ns
	}
	return top
}

// Node returns the namespace of node name; a name the file lacks fails
// the test. The handle stays open until the test ends.
func (top *Topology) Node(name string) *netns.NS {
	top.t.Helper()
	ns, ok := top.nodes[name]
	if !ok {
		top.t.Fatalf("netnstest: lab %s has no node %q", top.lab.Name, name)
	}
	return ns
}

// Name is the lab's name, as "netns lab status NAME" takes it.
func (top *Topology) Name() string { return top.lab.Name }

// Spec is the lab file as applied, with the lab's own name and prefix.
func (top *Topology) Spec() *lab.Lab { return top.lab }

// destroy is Lab's cleanup.
func (top *Topology) destroy() {
	defer func() {
		for _, ns := range top.nodes {
			ns.Close()
		}
	}()
	l := top.lab
	if top.t.Failed() && os.Getenv("NETNSTEST_KEEP") == "1" {
		for _, n := range l.Nodes {
			kept.Store(l.Namespace(n.Name), struct{}{})
		}
		first := l.Namespace(l.Nodes[0].Name)
		top.t.Logf("netnstest: kept lab %s of failed test %s (namespaces %s*); enter a node with: sudo ip netns exec %s bash; remove it with: sudo netns lab destroy %s%s",
			l.Name, top.t.Name(), l.Prefix, first, l.Name, keepNote())
		return
	}
	if _, err := lab.Destroy(context.Background(), l.Name, nil); err != nil {
		top.t.Errorf("netnstest: cleanup: %v", err)
	}
}

// labFile names a test's lab file in parse errors.
func labFile(t testing.TB) string { return "netnstest.Lab in " + t.Name() }

// labNames makes a lab name and a namespace prefix for t, unique as New's
// names are, the prefix short enough for a node name of longest bytes.
func labNames(t testing.TB, longest int) (name, prefix string) {
	head := fmt.Sprintf("%s%d-%d-%s", Prefix, os.Getpid(), seq.Add(1), pkgTag())
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune("+=,@", r) {
			return '_' // clean keeps them; a lab name may not have them
		}
		return r
	}, head)
	if len(name) > 64 { // what a lab name may have
		name = strings.TrimRight(name[:64], "-")
	}
	test := clean(t.Name())
	if room := maxName - longest - len(head) - 2; len(test) > room {
		test = test[:max(room, 0)]
	}
	return name, head + "-" + test + "-"
}

// renameLab returns the lab file text with "lab" and "prefix" set.
func renameLab(text []byte, name, prefix string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a mapping") // Parse would have said
	}
	root := doc.Content[0]
	set := func(key, value string) {
		v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == key {
				root.Content[i+1] = v
				return
			}
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	set("lab", name)
	set("prefix", prefix)
	return yaml.Marshal(&doc)
}
