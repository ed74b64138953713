package netnstest

import (
	"os"
	"sync/atomic"
	"testing"
)

// requireEnv makes tests that cannot get a namespace fail instead of
// skip, so that CI cannot pass by skipping.
const requireEnv = "NETNSTEST_REQUIRE"

// noSandbox is why Main could not give a non-root process a sandbox, or
// "" when it did not try (root, or no Main).
var noSandbox atomic.Pointer[string]

// requirePrivilege skips (or fails, see lacks) t unless this process can
// create namespaces: it is root, or runs in Main's sandbox, where it is
// root of its own user namespace.
func requirePrivilege(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if why := noSandbox.Load(); why != nil {
		lacks(t, "netnstest: needs root or unprivileged user namespaces, and "+*why)
	}
	lacks(t, "netnstest: needs root; or call netnstest.Main from TestMain to run in a user namespace without root")
}

// lacks skips t for reason, or fails it under NETNSTEST_REQUIRE=1.
func lacks(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s (and %s=1 forbids skipping)", reason, requireEnv)
	}
	t.Skip(reason)
}

// keepNote is what a kept namespace's message adds in the sandbox, where
// nothing outlives the test binary.
func keepNote() string {
	if InSandbox() {
		return " (but this run is in Main's private sandbox, which ends with the test binary: run as root to keep namespaces after it)"
	}
	return ""
}
