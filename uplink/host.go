package uplink

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/setns/setns/netns"
)

// run runs a command inside host (network namespace only) and returns
// its output; a failure carries the first line it printed.
func run(host *netns.NS, name string, args ...string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := startIn(host, cmd); err != nil {
		return "", err
	}
	if err := cmd.Wait(); err != nil {
		msg := firstLine(errb.String())
		return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}

// firstLine is the first line of a command's error output that says
// something: pasta, with no syslog to write to, repeats that first.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !(strings.HasPrefix(l, "Failed to send ") && strings.HasSuffix(l, " to syslog")) {
			return l
		}
	}
	return ""
}

// startIn starts cmd inside host. In the process's own namespace it
// starts it as is: entering that one again needs privileges over it,
// which a rootless user, who does not own the host's namespace, lacks.
func startIn(host *netns.NS, cmd *exec.Cmd) error {
	if !initialUserNS() && isSelf(host) {
		return cmd.Start()
	}
	return host.Start(cmd, &netns.ExecOptions{Bare: true})
}

// initialUserNS reports whether this process is in the initial user
// namespace (not, for example, in a rootless keeper's), whose uid_map
// maps every uid to itself.
var initialUserNS = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
})

// isSelf reports whether ns is the network namespace of this process.
func isSelf(ns *netns.NS) bool {
	self, err := netns.OpenPID(os.Getpid())
	if err != nil {
		return false
	}
	defer self.Close()
	return self.Equal(ns)
}

// readSysctl reads a net sysctl (path form, net/...) of host.
func readSysctl(host *netns.NS, key string) (string, error) {
	var v []byte
	err := host.Do(func() error {
		var err error
		v, err = os.ReadFile("/proc/sys/" + key)
		return err
	})
	return strings.TrimSpace(string(v)), err
}

// iptables is one iptables flavour whose filter FORWARD chain drops.
type iptables struct {
	bin   string // iptables-nft, iptables-legacy, ip6tables-nft, ...
	chain string // DOCKER-USER or FORWARD
}

// binary finds the command for a flavour ("nft" or "legacy") of iptables
// or ip6tables: the suffixed name, or the plain one if it is that flavour.
func iptBinary(base, flavour string) (string, error) {
	if _, err := exec.LookPath(base + "-" + flavour); err == nil {
		return base + "-" + flavour, nil
	}
	if p, err := exec.LookPath(base); err == nil {
		out, _ := exec.Command(p, "-V").Output()
		if strings.Contains(string(out), map[string]string{"nft": "nf_tables", "legacy": "legacy"}[flavour]) {
			return base, nil
		}
	}
	return "", fmt.Errorf("the %s FORWARD chain drops, but %s-%s is not installed", base, base, flavour)
}

// firewall finds the drops at the forward hook that a connection must get
// past: iptables chains (nft or legacy flavour) get narrow accepts; any
// other table's drop is refused with an error naming it.
func firewall(host *netns.NS, hostIf string, ipv6 bool) ([]iptables, error) {
	drops, err := forwardDrops(host)
	if err != nil {
		return nil, err
	}
	var out []iptables
	for _, d := range drops {
		var base string
		switch {
		case d.family == nftables.TableFamilyIPv4 && d.table == "filter" && d.chain == "FORWARD":
			base = "iptables"
		case d.family == nftables.TableFamilyIPv6 && d.table == "filter" && d.chain == "FORWARD":
			if !ipv6 {
				continue
			}
			base = "ip6tables"
		default:
			return nil, fmt.Errorf("%w: %v drops forwarded packets and is not ours to edit; use --mode pasta, or accept iifname %q and oifname %q ct state established,related there",
				errRefuse, d, hostIf, hostIf)
		}
		bin, err := iptBinary(base, "nft")
		if err != nil {
			return nil, err
		}
		chain := "FORWARD"
		if chainExists(host, d.family, "filter", "DOCKER-USER") {
			chain = "DOCKER-USER"
		}
		out = append(out, iptables{bin, chain})
	}
	// iptables-legacy lives outside nftables: ask it, never guess from
	// which one is readable.
	for _, l := range []struct{ base, names string }{{"iptables", "ip_tables_names"}, {"ip6tables", "ip6_tables_names"}} {
		if l.base == "ip6tables" && !ipv6 {
			continue
		}
		var names []byte
		_ = host.Do(func() error {
			names, _ = os.ReadFile("/proc/thread-self/net/" + l.names)
			return nil
		})
		if !bytes.Contains(names, []byte("filter")) {
			continue
		}
		bin, err := iptBinary(l.base, "legacy")
		if err != nil {
			continue // the legacy filter table exists but cannot be read: nothing we can do
		}
		s, err := run(host, bin, "-w", "-t", "filter", "-S", "FORWARD")
		if err != nil || !legacyDrops(s) {
			continue
		}
		chain := "FORWARD"
		if _, err := run(host, bin, "-w", "-t", "filter", "-S", "DOCKER-USER"); err == nil {
			chain = "DOCKER-USER"
		}
		out = append(out, iptables{bin, chain})
	}
	return out, nil
}

// legacyDrops reads "iptables -S FORWARD": a DROP policy, or a rule that
// drops or rejects everything.
func legacyDrops(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "-P FORWARD DROP" || l == "-A FORWARD -j DROP" || strings.HasPrefix(l, "-A FORWARD -j REJECT") {
			return true
		}
	}
	return false
}

// ruleSpecs are the accepts a connection inserts into an iptables chain.
func ruleSpecs(hostIf, comment string, publish bool) [][]string {
	c := []string{"-m", "comment", "--comment", comment, "-j", "ACCEPT"}
	specs := [][]string{
		append([]string{"-i", hostIf}, c...),
		append([]string{"-o", hostIf, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, c...),
	}
	if publish {
		specs = append(specs, append([]string{"-o", hostIf, "-m", "conntrack", "--ctstate", "DNAT"}, c...))
	}
	return specs
}

// iptBinaries are the commands iptBinary can pick.
var iptBinaries = []string{"iptables", "iptables-nft", "iptables-legacy", "ip6tables", "ip6tables-nft", "ip6tables-legacy"}

// insertRule and deleteRule add and remove one journalled iptables rule.
func insertRule(host *netns.NS, st step) error {
	_, err := run(host, st.Bin, append([]string{"-w", "-t", "filter", "-I", st.Chain, "1"}, st.Args...)...)
	return err
}

func deleteRule(host *netns.NS, st step) error {
	// The journal is root's, but undo runs only what connect can write.
	if !slices.Contains(iptBinaries, st.Bin) || st.Chain != "FORWARD" && st.Chain != "DOCKER-USER" {
		return fmt.Errorf("journal: iptables step %s %s is not one connect makes", st.Bin, st.Chain)
	}
	// -C first: a rule already gone (never made, or removed by a firewall
	// reload) is not an error.
	if _, err := run(host, st.Bin, append([]string{"-w", "-t", "filter", "-C", st.Chain}, st.Args...)...); err != nil {
		return nil
	}
	_, err := run(host, st.Bin, append([]string{"-w", "-t", "filter", "-D", st.Chain}, st.Args...)...)
	return err
}

var errNoPasta = errors.New("pasta is not installed (Debian package passt)")
