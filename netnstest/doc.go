// Package netnstest gives Go tests throwaway network namespaces, as easy
// as httptest and t.TempDir, with root or without:
//
//	func TestMain(m *testing.M) { netnstest.Main(m) } // optional as root
//
//	func TestEcho(t *testing.T) {
//		t.Parallel()
//		a, b := netnstest.New(t), netnstest.New(t)  // lo up, deleted at cleanup
//		ea, _ := netnstest.Connect(t, a, b)          // veth, 198.18.x.y/31 and fdc9:…/127
//		ln := netnstest.Listen(t, a, "tcp", net.JoinHostPort(ea.Addr4.Addr().String(), "0"))
//		c := netnstest.Dial(t, b, "tcp", ln.Addr().String())
//		netnstest.Ping(t, b, ea.Addr6.Addr())        // no ping binary needed
//		out, err := netnstest.Command(t, a, "ip", "-br", "addr").Output()
//		...
//	}
//
// Lab builds a whole topology of routers and hosts from a lab file (see
// package lab) for one test, under names of its own:
//
//	lab := netnstest.Lab(t, labYAML)   // destroyed at cleanup
//	c := netnstest.Dial(t, lab.Node("h1"), "tcp", "10.0.2.2:80")
//
// # Cleanup and names
//
// Everything a helper makes is undone by t.Cleanup, registered before
// anything can fail, so a test that stops half-way (t.FailNow, a failed
// helper) leaves no namespace, mount, descriptor or process behind. A
// namespace is named Prefix + "PID-SEQ-PKG-TEST", unique across parallel
// tests and packages, with the test's name where "ip netns list" shows
// it. With NETNSTEST_KEEP=1 the namespaces of failed tests are kept, and
// the log says how to enter them ("sudo ip netns exec NAME bash").
//
// # Without root
//
// Main lets "go test ./..." run without root: where unprivileged user
// namespaces work, it re-executes the test binary in a private user,
// mount and network namespace with a run directory of its own (what
// "unshare -rmn go test" does by hand). Elsewhere tests that call New skip
// with one line saying why; NETNSTEST_REQUIRE=1 makes them fail instead,
// for CI. Main also removes what crashed earlier runs of the package left,
// and fails a run whose tests leaked a namespace. NETNSTEST_SANDBOX=1
// puts a run as root in a sandbox too (a private mount namespace), out of
// the machine's "ip netns list".
//
// # Threads
//
// No thread of the test process is ever left in another namespace, and
// the calling goroutine's thread is never moved: sockets are made by a
// goroutine locked to a private thread inside the namespace
// ((*netns.NS).Do), links are made from the namespaces' descriptors, and
// commands are forked from a private thread ((*netns.NS).Start). Helpers
// take testing.TB, call t.Helper, and work in benchmarks.
package netnstest
