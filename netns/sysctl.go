package netns

import (
	"fmt"
	"os"
	"strings"
)

// SetSysctl writes value to the network sysctl key inside the namespace,
// like "ip netns exec NAME sysctl -w KEY=VALUE". Only keys under net. are
// accepted: those are the ones a network namespace has its own copy of.
// The key is dotted (net.ipv4.ip_forward) or a path (net/ipv4/ip_forward),
// as sysctl(8) accepts. The host's values are never touched. Needs
// CAP_SYS_ADMIN to enter and CAP_NET_ADMIN over the namespace to write.
// A value with a newline or a NUL byte is refused.
func (ns *NS) SetSysctl(key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return newError("sysctl", ns.String(), err)
	}
	if strings.ContainsAny(value, "\n\x00") {
		// The kernel would take the first line (or stop at the NUL) of a
		// value meant whole, and some tables read further lines as values.
		return newError("sysctl", ns.String(), fmt.Errorf("%s: value %q is not one line", key, value))
	}
	return ns.Do(func() error {
		// /proc/sys/net resolves to the opening thread's namespace.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(value)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return newError("sysctl", ns.String(), fmt.Errorf("%s: %w", key, unwrapPath(err)))
		}
		return nil
	})
}

// sysctlPath turns a net.* sysctl key into its file under /proc/sys.
func sysctlPath(key string) (string, error) {
	p := key
	if !strings.Contains(p, "/") {
		p = strings.ReplaceAll(p, ".", "/")
	}
	parts := strings.Split(p, "/")
	if len(parts) < 2 || parts[0] != "net" {
		return "", fmt.Errorf("sysctl %q: only net.* keys belong to a network namespace", key)
	}
	for _, c := range parts {
		if c == "" || strings.ContainsAny(c, "\n\x00") || c == "." || c == ".." {
			return "", fmt.Errorf("sysctl %q: invalid key", key)
		}
	}
	return "/proc/sys/" + p, nil
}
