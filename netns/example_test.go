package netns_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// Open a namespace, creating it if need be, and list its interfaces from
// Go. Needs root, so the output is not checked.
func ExampleEnsure() {
	ns, created, err := netns.Ensure("blue", nil)
	if err != nil {
		log.Fatal(err) // e.g. create "blue": mount: operation not permitted
	}
	defer ns.Close()
	fmt.Println("created:", created)
	err = ns.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			fmt.Println(i.Name, i.Flags)
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleOpen() {
	ns, err := netns.Open("blue")
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Println("no namespace blue; create it with: ip netns add blue")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	fmt.Printf("blue is net:[%d]\n", ns.Inode())
}

// Run a program inside, in the environment "ip netns exec" gives, without
// replacing the current process.
func ExampleNS_Start() {
	ns, err := netns.Open("blue")
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	cmd := exec.Command("ip", "-br", "link")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := ns.Start(cmd, &netns.ExecOptions{FixLoopbackDNS: true}); err != nil {
		log.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		log.Fatal(err)
	}
}

func ExampleCreate() {
	ns, err := netns.Create("lab", &netns.CreateOptions{NoLoopback: true})
	if errors.Is(err, fs.ErrExist) {
		log.Fatal("lab exists already")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	if err := ns.SetSysctl("net.ipv4.ip_forward", "1"); err != nil {
		log.Fatal(err)
	}
}

func ExampleList() {
	names, err := netns.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range names {
		fmt.Println(n)
	}
}

// Hand the namespace to a netlink library: rtnetlink's connection is made
// inside the namespace whose fd is Config.NetNS, and stays there. No
// thread of the caller changes namespace. (TestExampleFd runs the same.)
func ExampleNS_Fd() {
	ns, err := netns.Open("blue")
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close() // keeps the fd open while Dial uses it
	conn, err := rtnetlink.Dial(&netlink.Config{NetNS: ns.Fd()})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	links, err := conn.Link.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range links {
		fmt.Println(l.Index, l.Attributes.Name)
	}
}

// TestExampleFd runs ExampleNS_Fd's code on a fresh namespace: rtnetlink
// must see only its lo, not the links of the test's own namespace.
func TestExampleFd(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	nstest.CheckThreadNS(t)
	ns, _ := nstest.NewNamed(t)
	links := func(cfg *netlink.Config) []string {
		t.Helper()
		conn, err := rtnetlink.Dial(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		msgs, err := conn.Link.List()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range msgs {
			names = append(names, l.Attributes.Name)
		}
		return names
	}
	if got := links(&netlink.Config{NetNS: ns.Fd()}); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("links in a fresh namespace: %q, want only lo", got)
	}
	if host := links(nil); slices.Equal(host, []string{"lo"}) {
		t.Log("the test's own namespace has only lo too, so a NetNS ignored would pass")
	}
}
