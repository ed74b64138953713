package netnstest_test

import (
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/setns/setns/netnstest"
)

// These examples need root, or a TestMain that calls Main; they have no
// Output comment, so go test compiles them without running them.

// A package's TestMain: sweeps what crashed runs left, fails the run on a
// leaked namespace, and without root runs the tests in a user namespace.
func ExampleMain() {
	var m *testing.M // TestMain's argument
	netnstest.Main(m)
}

// A fresh namespace for a test, deleted when it ends.
func ExampleNew() {
	t := &testing.T{} // a test's *testing.T
	ns := netnstest.New(t)
	fmt.Println(ns.Name()) // netnstest-4242-1-mypkg-TestSomething
}

// A namespace that forwards IPv4, as a router would.
func ExampleNewWith() {
	t := &testing.T{}
	r := netnstest.NewWith(t, &netnstest.Options{Sysctls: map[string]string{
		"net.ipv4.ip_forward": "1",
	}})
	_ = r
}

// Two namespaces joined by a veth pair, and their addresses.
func ExampleConnect() {
	t := &testing.T{}
	a, b := netnstest.New(t), netnstest.New(t)
	ea, eb := netnstest.Connect(t, a, b)
	fmt.Println(ea.Name, ea.Addr4, ea.Addr6) // eth0 198.18.0.0/31 fdc9:2b3a:7e57::/127
	fmt.Println(eb.Name, eb.Addr4, eb.Addr6) // eth0 198.18.0.1/31 fdc9:2b3a:7e57::1/127
}

// A server in one namespace, a client in another.
func ExampleListen() {
	t := &testing.T{}
	a, b := netnstest.New(t), netnstest.New(t)
	ea, _ := netnstest.Connect(t, a, b)
	ln := netnstest.Listen(t, a, "tcp", net.JoinHostPort(ea.Addr4.Addr().String(), "0"))
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "hello\n")
			c.Close()
		}
	}()
	c := netnstest.Dial(t, b, "tcp", ln.Addr().String())
	msg, _ := io.ReadAll(c)
	fmt.Printf("%s", msg)
}

// A UDP socket inside a namespace.
func ExampleListenPacket() {
	t := &testing.T{}
	ns := netnstest.New(t)
	pc := netnstest.ListenPacket(t, ns, "udp", "127.0.0.1:0")
	fmt.Println(pc.LocalAddr())
}

// A client connection made from inside a namespace.
func ExampleDial() {
	t := &testing.T{}
	ns := netnstest.New(t)
	ln := netnstest.Listen(t, ns, "tcp", "[::1]:0")
	c := netnstest.Dial(t, ns, "tcp", ln.Addr().String())
	fmt.Println(c.LocalAddr(), "->", c.RemoteAddr())
}

// A program run inside a namespace, as "ip netns exec" runs it.
func ExampleCommand() {
	t := &testing.T{}
	ns := netnstest.New(t)
	out, err := netnstest.Command(t, ns, "ip", "-br", "link").Output()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s", out) // lo UNKNOWN 00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>
}

// A daemon that runs until the test ends.
func ExampleCmd_Start() {
	t := &testing.T{}
	ns := netnstest.New(t)
	cmd := netnstest.Command(t, ns, "sleep", "infinity")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// ... test against it; it is killed at cleanup
}

// Reachability over a link, without a ping binary.
func ExamplePing() {
	t := &testing.T{}
	a, b := netnstest.New(t), netnstest.New(t)
	ea, eb := netnstest.Connect(t, a, b)
	netnstest.Ping(t, a, eb.Addr4.Addr())
	netnstest.Ping(t, b, ea.Addr6.Addr())
}

// A router between two hosts, built from a lab file for this test only:
// h1 reaches h2 through r1.
func ExampleLab() {
	t := &testing.T{}
	lab := netnstest.Lab(t, `
lab: demo
nodes:
  r1: {sysctls: {net.ipv4.ip_forward: "1"}}
  h1: {routes: ["default via 10.0.1.1"]}
  h2: {routes: ["default via 10.0.2.1"]}
links:
  - endpoints: [r1:eth0, h1:eth0]
    addresses: [10.0.1.1/24, 10.0.1.2/24]
  - endpoints: [r1:eth1, h2:eth0]
    addresses: [10.0.2.1/24, 10.0.2.2/24]
`)
	ln := netnstest.Listen(t, lab.Node("h2"), "tcp", "10.0.2.2:0")
	c := netnstest.Dial(t, lab.Node("h1"), "tcp", ln.Addr().String())
	fmt.Println(c.LocalAddr(), "->", c.RemoteAddr()) // 10.0.1.2:41234 -> 10.0.2.2:37001
	fmt.Println(lab.Node("r1").Name())               // netnstest-4242-1-mypkg-TestRouting-r1
}
