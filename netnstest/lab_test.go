package netnstest_test

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/lab"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/netnstest"
)

// demoLab is a router between two hosts, each on its own link.
const demoLab = `lab: demo
nodes:
  r1:
    sysctls: {net.ipv4.ip_forward: "1"}
  h1:
    routes: ["default via 10.0.1.1"]
  h2:
    routes: ["default via 10.0.2.1"]
links:
  - endpoints: [r1:eth0, h1:eth0]
    addresses: [10.0.1.1/24, 10.0.1.2/24]
  - endpoints: [r1:eth1, h2:eth0]
    addresses: [10.0.2.1/24, 10.0.2.2/24]
`

// echoThrough has h1 connect to a server on h2 across the router and
// echo a line.
func echoThrough(t *testing.T, top *netnstest.Topology) {
	t.Helper()
	ln := netnstest.Listen(t, top.Node("h2"), "tcp", "10.0.2.2:0")
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Not io.Copy(c, c): see exchange.
		io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
	}()
	c := netnstest.Dial(t, top.Node("h1"), "tcp", ln.Addr().String())
	msg := "hello from h1 of " + top.Name()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo through r1: got %q, %v", got, err)
	}
	if a := c.LocalAddr().(*net.TCPAddr); a.IP.String() != "10.0.1.2" {
		t.Errorf("h1 dialled from %s, want 10.0.1.2", a)
	}
}

// TestLab: the three-node lab is built for the test under names of its
// own (the test's name in them), h1 reaches h2 over TCP through the
// router, and the cleanup destroys it.
func TestLab(t *testing.T) {
	var names []string
	t.Run("lab", func(t *testing.T) {
		top := netnstest.Lab(t, demoLab)
		if top.Name() == "demo" || !strings.HasPrefix(top.Name(), netnstest.Prefix) {
			t.Errorf("lab named %q, want a name of its own", top.Name())
		}
		for _, n := range []string{"r1", "h1", "h2"} {
			name := top.Node(n).Name()
			if !strings.HasPrefix(name, netnstest.Prefix) || !strings.HasSuffix(name, "-TestLab.lab-"+n) {
				t.Errorf("node %s is namespace %q, want %s...-TestLab.lab-%s", n, name, netnstest.Prefix, n)
			}
			names = append(names, name)
		}
		echoThrough(t, top)
	})
	for _, n := range names {
		if _, err := netns.Open(n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) after the test: %v, want it gone", n, err)
		}
	}
	if left := ours(t); len(left) != 0 {
		t.Errorf("namespaces left: %v", left)
	}
	if ents, _ := os.ReadDir(lab.StateDir); len(ents) != 0 {
		t.Errorf("lab journals left in %s: %v", lab.StateDir, ents)
	}
}

// TestLabParallel: parallel tests applying the same file get labs of
// their own, each working, and leave nothing.
func TestLabParallel(t *testing.T) {
	netnstest.New(t) // skips without privileges
	t.Run("group", func(t *testing.T) {
		for i := range 8 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				echoThrough(t, netnstest.Lab(t, demoLab))
			})
		}
	})
	var left []string
	for _, n := range ours(t) {
		if strings.Contains(n, "TestLabParallel.group") {
			left = append(left, n)
		}
	}
	if len(left) != 0 {
		t.Errorf("namespaces left: %v", left)
	}
}

// TestLabLongNames: a long test name is shortened so that the longest
// node's namespace name still fits in 255 bytes.
func TestLabLongNames(t *testing.T) {
	long := strings.Repeat("n", 100)
	t.Run(strings.Repeat("x", 300), func(t *testing.T) {
		top := netnstest.Lab(t, "lab: l\nnodes: {a: {}, "+long+": {}}\n")
		for _, n := range []string{"a", long} {
			if name := top.Node(n).Name(); len(name) > 255 || !strings.HasSuffix(name, "-"+n) {
				t.Errorf("node %s: namespace %q (%d bytes)", n, name, len(name))
			}
		}
	})
}

// labDirEnv passes the lab journal directory to a child (see TestChild):
// outside Main's sandbox it would use the machine's.
const labDirEnv = "NETNSTEST_TEST_LAB_DIR"

func init() {
	// A lab whose file does not parse, and one whose apply fails after
	// its namespaces exist (a sysctl value the kernel refuses).
	children["labfail"] = func(t *testing.T) {
		if dir := os.Getenv(labDirEnv); dir != "" {
			lab.StateDir = dir
		}
		t.Run("parse", func(t *testing.T) {
			netnstest.Lab(t, "lab: x\nnodes: {a: {}}\nlinks:\n  - [a:eth0, c:eth0]\n")
			t.Log("reached past Lab")
		})
		t.Run("apply", func(t *testing.T) {
			netnstest.Lab(t, strings.Replace(demoLab, `ip_forward: "1"`, `ip_forward: "abc"`, 1))
			t.Log("reached past Lab")
		})
	}
}

// TestLabFails: a lab file with a mistake fails the test with its line;
// a lab whose apply fails half-way fails the test and leaves nothing (no
// namespace, no journal).
func TestLabFails(t *testing.T) {
	netnstest.New(t) // skips without privileges, like the child would
	out, err := child(t, "labfail", labDirEnv+"="+lab.StateDir)
	if err == nil || strings.Count(out, "--- FAIL") != 3 || strings.Contains(out, "reached past") {
		t.Fatalf("child: %v, want its 2 subtests to fail in Lab:\n%s", err, out)
	}
	for _, want := range []string{
		`netnstest.Lab in TestChild/parse:4: link: endpoint "c:eth0": unknown node "c"`,
		`sysctl: net.ipv4.ip_forward=abc`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	if left := namesOf(t, childPID(t, out)); len(left) > 0 {
		t.Errorf("the child left %v", left)
	}
	if ents, _ := os.ReadDir(lab.StateDir); len(ents) != 0 {
		t.Errorf("lab journals left in %s: %v", lab.StateDir, ents)
	}
	if strings.Contains(out, "leaked") {
		t.Errorf("Main reported a leak:\n%s", out)
	}
}
