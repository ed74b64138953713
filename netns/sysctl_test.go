package netns_test

import (
	"os"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// TestSetSysctlOneLine: a value with a newline or a NUL is refused and
// nothing is written (the kernel would take its first line, or stop at
// the NUL, and report success).
func TestSetSysctlOneLine(t *testing.T) {
	nstest.RequireRoot(t)
	ns, _ := nstest.NewNamed(t)
	read := func() string {
		var v string
		ns.Do(func() error {
			b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
			v = strings.TrimSpace(string(b))
			return nil
		})
		return v
	}
	before := read()
	for _, v := range []string{"1\n0", "1\n", "1\x00"} {
		err := ns.SetSysctl("net.ipv4.ip_forward", v)
		if err == nil || !strings.Contains(err.Error(), "is not one line") {
			t.Errorf("SetSysctl(ip_forward, %q) = %v, want a one-line error", v, err)
		}
		if got := read(); got != before {
			t.Errorf("SetSysctl(ip_forward, %q) wrote %q", v, got)
		}
	}
	if err := ns.SetSysctl("net.ipv4.ip_forward\n", "1"); err == nil {
		t.Error("a key with a newline was accepted")
	}
	if err := ns.SetSysctl("net.ipv4.ip_forward", "1"); err != nil || read() != "1" {
		t.Errorf("SetSysctl(ip_forward, 1) = %v, reads %q", err, read())
	}
}
