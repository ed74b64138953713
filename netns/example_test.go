package netns_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/exec"

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
