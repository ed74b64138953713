package main

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
)

func TestMain(m *testing.M) {
	if v := os.Getenv("NETNS_TEST_TCP"); v != "" { // child: a TCP end for a test script
		tcp(v)
		return
	}
	if os.Getenv("NETNS_RUN_MAIN") == "1" { // child: behave as the real command
		main()
		return
	}
	nstest.Main(m)
}

// self is this test binary, which runs as netns with NETNS_RUN_MAIN=1.
var self, _ = os.Executable()

// tcp is a TCP end for test scripts, with no tool beyond this binary:
// "serve:ADDR" answers every connection with the peer's address, as seen
// there, and exits after two minutes or when its standard input closes;
// "dial:ADDR" prints what the server at ADDR says, or the error.
func tcp(v string) {
	switch v[:min(len(v), 5)] {
	case "serve":
		ln, err := net.Listen("tcp", v[6:])
		if err != nil {
			fmt.Println(err)
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
	case "dial:":
		c, err := net.DialTimeout("tcp", v[5:], 3*time.Second)
		if err != nil {
			fmt.Println("dial failed")
			os.Exit(1)
		}
		b := make([]byte, 64)
		n, _ := c.Read(b)
		fmt.Print(string(b[:n]))
	}
}
