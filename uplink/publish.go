package uplink

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Publish forwards HostPort of the host (of HostIP only, if set) to Port
// of the namespace.
type Publish struct {
	HostIP   netip.Addr `json:"host_ip,omitzero"`
	HostPort uint16     `json:"host_port"`
	Port     uint16     `json:"port"`
	Proto    string     `json:"proto"` // "tcp" or "udp"
}

// String is the form ParsePublish reads: [HOSTIP:]HOSTPORT:PORT[/udp].
func (p Publish) String() string {
	s := fmt.Sprintf("%d:%d", p.HostPort, p.Port)
	if p.HostIP.IsValid() {
		s = p.HostIP.String() + ":" + s
	}
	if p.Proto == "udp" {
		s += "/udp"
	}
	return s
}

func (p Publish) check() error {
	if p.HostPort == 0 || p.Port == 0 {
		return fmt.Errorf("publish %v: port 0", p)
	}
	if p.Proto != "tcp" && p.Proto != "udp" {
		return fmt.Errorf("publish %v: protocol %q, want tcp or udp", p, p.Proto)
	}
	if p.HostIP.IsValid() && (!p.HostIP.Is4() || p.HostIP.IsLoopback() || p.HostIP.IsUnspecified()) {
		return fmt.Errorf("publish %v: host address must be one of the host's own IPv4 addresses", p)
	}
	return nil
}

// ParsePublish reads [HOSTIP:]HOSTPORT:PORT[/tcp|/udp].
func ParsePublish(s string) (Publish, error) {
	p := Publish{Proto: "tcp"}
	body, proto, ok := strings.Cut(s, "/")
	if ok {
		if proto != "tcp" && proto != "udp" {
			return p, fmt.Errorf("publish %q: protocol %q, want tcp or udp", s, proto)
		}
		p.Proto = proto
	}
	parts := strings.Split(body, ":")
	if len(parts) == 3 {
		a, err := netip.ParseAddr(parts[0])
		if err != nil {
			return p, fmt.Errorf("publish %q: bad host address %q", s, parts[0])
		}
		p.HostIP = a
		parts = parts[1:]
	}
	if len(parts) != 2 {
		return p, fmt.Errorf("publish %q: want [HOSTIP:]HOSTPORT:PORT[/udp]", s)
	}
	for i, dst := range []*uint16{&p.HostPort, &p.Port} {
		n, err := strconv.ParseUint(parts[i], 10, 32)
		if err != nil || n == 0 || n > 65535 {
			return p, fmt.Errorf("publish %q: port %q out of range 1-65535", s, parts[i])
		}
		*dst = uint16(n)
	}
	if err := p.check(); err != nil {
		return p, err
	}
	return p, nil
}
