package link

import (
	"errors"
	"fmt"
	"strings"

	"github.com/setns/setns/netns"
)

// MaxNameLen is the longest interface name the kernel takes (IFNAMSIZ-1).
const MaxNameLen = 15

// Host is the namespace part of an endpoint (".:veth0") that names the
// namespace the caller runs in. It can never be a namespace's name, as
// ip(8) refuses "." for one.
const Host = "."

// ErrInvalidName is wrapped by the errors of ValidName and SplitEndpoint.
var ErrInvalidName = errors.New("invalid interface name")

// ValidName reports why name cannot name a network interface, or nil. The
// rule is the kernel's (dev_valid_name): 1 to 15 bytes, no "/", ":" or
// white space, not "." or "..". A NUL byte is refused too. Errors wrap
// ErrInvalidName.
func ValidName(name string) error {
	why := ""
	switch {
	case name == "":
		why = "empty"
	case len(name) > MaxNameLen:
		why = fmt.Sprintf("%d bytes, longer than %d", len(name), MaxNameLen)
	case name == "." || name == "..":
		why = `"." and ".." are reserved`
	case strings.ContainsAny(name, "/:\x00"):
		why = `contains "/", ":" or a NUL byte`
	case hasSpace(name):
		why = "contains white space"
	default:
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidName, name, why)
}

// hasSpace reports whether s holds a byte the kernel's isspace() takes
// for white space: tab to carriage return, space, and 0xa0 (its ctype
// table is Latin-1).
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0:
			return true
		}
	}
	return false
}

// SplitEndpoint splits "NS:IF" into the namespace and interface names and
// checks both: NS must be a valid namespace name (netns.ValidName) or Host
// ("."), IF a valid interface name. Since an interface name cannot hold a
// ":", the last one separates the two, so a namespace named "a:b" works
// ("a:b:eth0").
func SplitEndpoint(s string) (ns, ifname string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("endpoint %q: want NS:IF (%s:IF for this namespace)", s, Host)
	}
	ns, ifname = s[:i], s[i+1:]
	if ns != Host {
		if err := netns.ValidName(ns); err != nil {
			return "", "", fmt.Errorf("endpoint %q: %w", s, err)
		}
	}
	if err := ValidName(ifname); err != nil {
		return "", "", fmt.Errorf("endpoint %q: %w", s, err)
	}
	return ns, ifname, nil
}
