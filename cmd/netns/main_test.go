package main

import (
	"os"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

func TestMain(m *testing.M) {
	if v := os.Getenv("NETNS_TEST_TCP"); v != "" { // child: a TCP end for a test script
		nstest.TCP(v)
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
