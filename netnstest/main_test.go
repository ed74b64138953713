package netnstest_test

import (
	"os"
	"testing"

	"github.com/setns/setns/netnstest"
)

// TestMain runs this package's tests in Main's sandbox, as root too, so
// that they never touch the machine's own run directory. The children
// that some tests run say what to be with childEnv.
func TestMain(m *testing.M) {
	if os.Getenv(netnstest.SandboxEnv) == "" {
		os.Setenv(netnstest.SandboxEnv, "1")
	}
	if os.Getenv("NETNS_TEST_REQUIRE_ROOT") == "1" { // make test: no skipping
		os.Setenv("NETNSTEST_REQUIRE", "1")
	}
	netnstest.Main(m)
}
