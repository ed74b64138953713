package nstest

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// TCP is a TCP end for test scripts, with no tool beyond the test binary,
// whose TestMain calls it when NETNS_TEST_TCP is set: "serve:ADDR"
// answers every connection with the peer's address, as seen there, and
// exits when its standard input closes (or after two minutes);
// "dial:ADDR" prints what the server at ADDR says, or "dial failed" and
// exits 1.
func TCP(v string) {
	switch {
	case strings.HasPrefix(v, "serve:"):
		ln, err := net.Listen("tcp", v[len("serve:"):])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() { _, _ = os.Stdin.Read(make([]byte, 1)); os.Exit(0) }()
		time.AfterFunc(2*time.Minute, func() { os.Exit(0) })
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(1)
			}
			h, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			fmt.Fprintln(c, h)
			c.Close()
		}
	case strings.HasPrefix(v, "dial:"):
		c, err := net.DialTimeout("tcp", v[len("dial:"):], 3*time.Second)
		if err != nil {
			fmt.Println("dial failed")
			os.Exit(1)
		}
		b := make([]byte, 64)
		n, _ := c.Read(b)
		fmt.Print(string(b[:n]))
	}
	os.Exit(0)
}
