package netns

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

const (
	hostResolvConf = "/etc/resolv.conf"
	// resolvedUpstream is systemd-resolved's list of the real upstream
	// servers, next to the stub file that names only 127.0.0.53.
	resolvedUpstream = "/run/systemd/resolve/resolv.conf"
)

// ResolvConf returns the text of a resolv.conf naming servers, in order.
// Each must be an IP address.
func ResolvConf(servers []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# written by setns for this command only\n")
	for _, s := range servers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("DNS server %q is not an IP address", s)
		}
		fmt.Fprintf(&b, "nameserver %s\n", a.WithZone(""))
	}
	return b.Bytes(), nil
}

// nameservers returns the addresses of the nameserver lines of a resolv.conf.
func nameservers(data []byte) []netip.Addr {
	var out []netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// onlyLoopback reports whether a resolv.conf names servers and all of them
// are loopback addresses (127.0.0.53 of systemd-resolved, 127.0.0.1 of
// dnsmasq, ::1): those listen in the host's namespace and cannot answer
// from inside another one.
func onlyLoopback(data []byte) bool {
	ns := nameservers(data)
	for _, a := range ns {
		if !a.IsLoopback() {
			return false
		}
	}
	return len(ns) > 0
}

// fixDNS runs inside the command's mount namespace after the /etc/netns
// binds. If the command would see only loopback resolvers, it binds
// systemd-resolved's upstream list over /etc/resolv.conf when there is
// one, and otherwise warns, naming ns by its name or, when it has none
// (opened by path or pid), by its file, which has no /etc/netns entry.
func fixDNS(ns *NS, opts *ExecOptions) error {
	if ns.name != "" {
		if _, err := os.Lstat(EtcDir + "/" + ns.name + "/resolv.conf"); err == nil {
			return nil // the namespace has its own
		}
	}
	data, err := os.ReadFile(hostResolvConf)
	if err != nil || !onlyLoopback(data) {
		return nil
	}
	if up, err := os.ReadFile(resolvedUpstream); err == nil && len(nameservers(up)) > 0 && !onlyLoopback(up) {
		return attachFile(resolvedUpstream, hostResolvConf)
	}
	where, fix := ns.path, "use --dns"
	if ns.name != "" {
		where, fix = ns.name, "put a resolv.conf in "+EtcDir+"/"+ns.name+"/ or use --dns"
	}
	opts.warn(fmt.Errorf("%s names only loopback resolvers (%v), which cannot answer inside %q; %s",
		hostResolvConf, nameservers(data)[0], where, fix))
	return nil
}

// errNoMountNS is returned for options that need the command's own mount
// namespace when ExecOptions.Bare is set.
var errNoMountNS = errors.New("DNS options need a mount namespace and cannot be combined with Bare")
