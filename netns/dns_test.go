package netns

import (
	"strings"
	"testing"
)

func TestOnlyLoopback(t *testing.T) {
	for _, tc := range []struct {
		conf string
		want bool
	}{
		{"nameserver 127.0.0.53\noptions edns0\n", true},
		{"nameserver 127.0.0.1\nnameserver ::1\n", true},
		{"# nameserver 10.0.0.1\nnameserver 127.0.1.1\n", true},
		{"nameserver 127.0.0.53\nnameserver 192.0.2.1\n", false},
		{"search example.org\n", false},
		{"", false},
	} {
		if got := onlyLoopback([]byte(tc.conf)); got != tc.want {
			t.Errorf("onlyLoopback(%q) = %v, want %v", tc.conf, got, tc.want)
		}
	}
}

func TestResolvConf(t *testing.T) {
	got, err := ResolvConf([]string{"192.0.2.1", "2001:db8::1"})
	if err != nil || !strings.HasSuffix(string(got), "nameserver 192.0.2.1\nnameserver 2001:db8::1\n") {
		t.Errorf("ResolvConf = %q, %v", got, err)
	}
	if _, err := ResolvConf([]string{"dns.example"}); err == nil {
		t.Error("ResolvConf accepted a host name")
	}
}

func TestSysctlPath(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"},
		{"net/ipv4/conf/eth0.1/forwarding", "/proc/sys/net/ipv4/conf/eth0.1/forwarding"},
		{"kernel.hostname", ""},
		{"net", ""},
		{"net/../kernel/x", ""},
		{"net..x", ""},
	} {
		got, err := sysctlPath(tc.key)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("sysctlPath(%q) = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
}

func TestSubmounts(t *testing.T) {
	info := []byte(`20 1 0:5 / / rw - ext4 /dev/vda rw
21 20 0:6 / /sys rw - sysfs sysfs rw
22 21 0:7 / /sys/fs/cgroup rw - tmpfs tmpfs rw
23 22 0:8 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw
24 21 0:9 / /sys/kernel/debug rw - debugfs debugfs rw
25 20 0:10 / /sysfoo rw - tmpfs tmpfs rw
26 21 0:11 / /sys/with\040space rw - tmpfs tmpfs rw
`)
	got := strings.Join(submounts(parseMountinfo(info), "/sys"), ",")
	if want := "/sys/fs/cgroup,/sys/kernel/debug,/sys/with space"; got != want {
		t.Errorf("submounts = %q, want %q", got, want)
	}
}
