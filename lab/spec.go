package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/setns/setns/internal/runas"
	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
	"go.yaml.in/yaml/v3"
)

// Lab is a parsed, validated lab file.
type Lab struct {
	Name   string  // the lab's name, "demo"
	Prefix string  // namespace name prefix, "demo-" by default
	File   string  // where it was read from, for messages
	Nodes  []*Node // in file order
	Links  []*Link // in file order

	nodes  map[string]*Node
	source []byte // the file as read, kept in the journal
}

// Node is one namespace of a lab.
type Node struct {
	Name string // node name; the namespace is Lab.Prefix + Name
	// Kind is "" for a plain node (host or router) or "bridge" for a
	// namespace holding the bridge br0, whose ports are its link ends.
	Kind string
	// Sysctls are written in the namespace before any link is made:
	// the built-in baseline (see Baseline), then the file's defaults,
	// then the node's own.
	Sysctls map[string]string
	Routes  []Route
	// Addrs are addresses by interface name: the node's own addresses
	// key (lo, br0, a link end) merged with its links' addresses.
	Addrs map[string][]netip.Prefix
	// Owner, when set, delegates the node's namespace to a user (see
	// Owner); from the node's "owner:" or the file's.
	Owner *Owner
	Line  int // where the node is declared
}

// Owner is the user a node's namespace is delegated to, as "netns add
// --owner" does (netns.CreateOwned): that user can enter the node with
// "setns LAB-NODE CMD" without sudo and configure it.
type Owner struct {
	Spec string // as the file gives it, USER[:GROUP]
	UID  uint32
	GID  uint32
	Line int
}

// Bridge is the name of the bridge of a kind: bridge node.
const Bridge = "br0"

// Endpoint is one end of a link, NODE:IF.
type Endpoint struct {
	Node   string
	Ifname string
}

func (e Endpoint) String() string { return e.Node + ":" + e.Ifname }

// Link is a veth pair between two nodes.
type Link struct {
	Ends  [2]Endpoint
	Addrs [2][]netip.Prefix
	MTU   uint32 // 0: the kernel's 1500
	Line  int
}

// Route is one route of a node: "DST [via GW] [dev IF] [metric N]",
// DST being a prefix, an address or "default".
type Route struct {
	Dst    netip.Prefix
	Via    netip.Addr // invalid when the route is direct
	Dev    string     // "" lets the kernel pick
	Metric uint32
	Line   int // where the file gives it; 0 for ParseRoute's
}

func (r Route) String() string {
	s := r.Dst.String()
	if r.Dst.Bits() == 0 {
		s = "default"
	}
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	if r.Metric != 0 {
		s += " metric " + strconv.FormatUint(uint64(r.Metric), 10)
	}
	return s
}

// Namespace is the name of node's namespace.
func (l *Lab) Namespace(node string) string { return l.Prefix + node }

// Node returns the node named name, or nil.
func (l *Lab) Node(name string) *Node { return l.nodes[name] }

// Baseline are the sysctls every node gets unless the file says
// otherwise. A new namespace copies the host's IPv4 settings (forwarding,
// rp_filter) but not its IPv6 ones, so a lab left to inherit would behave
// differently on a router or Docker host than on a laptop: these are
// always set. Apply reads a new node's values (over netlink, for keys
// RTM_GETNETCONF reports, as these) and writes every one that differs.
var Baseline = map[string]string{
	"net.ipv4.ip_forward":             "0",
	"net.ipv4.conf.all.rp_filter":     "0",
	"net.ipv4.conf.default.rp_filter": "0",
	"net.ipv6.conf.all.forwarding":    "0",
}

// IPv6Baseline are the sysctls set to 0 in every node of a lab with an
// IPv6 address, unless the file gives them: duplicate address detection
// off, in "all" and in "default" (which link ends copy when made), so
// that addresses, link-local ones included, are usable at once.
var IPv6Baseline = []string{"net.ipv6.conf.all.accept_dad", "net.ipv6.conf.default.accept_dad"}

// hasIPv6 reports whether any address or route of the lab is IPv6.
func (l *Lab) hasIPv6() bool {
	for _, n := range l.Nodes {
		for _, list := range n.Addrs {
			for _, a := range list {
				if a.Addr().Is6() {
					return true
				}
			}
		}
		for _, r := range n.Routes {
			if r.Dst.Addr().Is6() {
				return true
			}
		}
	}
	return false
}

// ParseError is a problem in a lab file, at a line: it prints as
// "FILE:LINE: problem".
type ParseError struct {
	File string
	Line int // 0 when the problem has no line (an empty file)
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ParseFile reads and parses the lab file at path.
func ParseFile(path string) (*Lab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return Parse(path, b)
}

// Parse reads a lab file (YAML, or JSON, which is YAML too) and checks
// all of it: unknown keys, unknown nodes, endpoints used twice, interface
// and namespace names, addresses, routes and sysctl keys. file names the
// input in errors, which are *ParseError. Parse writes nothing; it reads
// only the user database (/etc/passwd and /etc/group, then getent), to
// resolve "owner:" as "netns add --owner" does.
func Parse(file string, data []byte) (*Lab, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	p := &parser{file: file}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &ParseError{File: file, Msg: "empty lab file (want at least \"lab: NAME\" and \"nodes:\")"}
	}
	l, err := p.lab(doc.Content[0])
	if err != nil {
		return nil, err
	}
	l.source = data
	return l, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into a *ParseError with its line.
func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &ParseError{File: file, Line: n, Msg: "invalid YAML: " + m[2]}
	}
	return &ParseError{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

type parser struct{ file string }

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	return &ParseError{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// mapping walks a mapping node, calling f for each key in order, and
// refuses keys not in allowed (nil allows any) and keys given twice.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string, f func(k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			return nil
		}
		return p.errf(n, "%s: want a mapping", what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errf(k, "%s: keys must be plain strings", what)
		}
		if seen[k.Value] {
			return p.errf(k, "%s: key %q given twice", what, k.Value)
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			return p.errf(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if err := f(k, v); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// scalar returns the text of a scalar node.
func (p *parser) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", p.errf(n, "%s: want a string", what)
	}
	return n.Value, nil
}

// strings returns a sequence of scalars (or one scalar as a list of one).
func (p *parser) strings(n *yaml.Node, what string) ([]*yaml.Node, error) {
	switch {
	case isNull(n):
		return nil, nil
	case n.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}, nil
	case n.Kind != yaml.SequenceNode:
		return nil, p.errf(n, "%s: want a list of strings", what)
	}
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || isNull(c) {
			return nil, p.errf(c, "%s: want a string", what)
		}
	}
	return n.Content, nil
}

// nameRE is what a lab or node name may hold: it goes into namespace
// names, interface aliases ("setns:lab=NAME node=NODE") and DOT files.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func (p *parser) lab(root *yaml.Node) (*Lab, error) {
	l := &Lab{File: p.file, nodes: map[string]*Node{}}
	var nodesN, linksN, defaultsN, nameN, prefixN, ownerN *yaml.Node
	err := p.mapping(root, "lab file", []string{"lab", "prefix", "owner", "defaults", "nodes", "links"}, func(k, v *yaml.Node) error {
		switch k.Value {
		case "owner":
			ownerN = v
		case "lab":
			nameN = v
		case "prefix":
			prefixN = v
		case "defaults":
			defaultsN = v
		case "nodes":
			nodesN = v
		case "links":
			linksN = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "lab file: want a mapping with lab, nodes and links")
	}
	if nameN == nil {
		return nil, p.errf(root, "lab file: missing \"lab: NAME\"")
	}
	if l.Name, err = p.scalar(nameN, "lab"); err != nil {
		return nil, err
	}
	if !nameRE.MatchString(l.Name) || len(l.Name) > 64 {
		return nil, p.errf(nameN, "invalid lab name %q: want letters, digits, \"_\", \".\" and \"-\", at most 64 bytes", l.Name)
	}
	l.Prefix = l.Name + "-"
	if prefixN != nil {
		if isNull(prefixN) {
			l.Prefix = ""
		} else if l.Prefix, err = p.scalar(prefixN, "prefix"); err != nil {
			return nil, err
		}
		if strings.ContainsAny(l.Prefix, "/\x00 \t\n") {
			return nil, p.errf(prefixN, "invalid prefix %q: no \"/\", NUL or white space", l.Prefix)
		}
	}
	var owner *Owner
	if ownerN != nil {
		if owner, err = p.owner(ownerN, "owner"); err != nil {
			return nil, err
		}
	}
	defaults := map[string]string{}
	for k, v := range Baseline {
		defaults[k] = v
	}
	if defaultsN != nil {
		err := p.mapping(defaultsN, "defaults", []string{"sysctls"}, func(k, v *yaml.Node) error {
			return p.sysctls(v, defaults)
		})
		if err != nil {
			return nil, err
		}
	}
	if nodesN == nil || isNull(nodesN) || nodesN.Kind == yaml.MappingNode && len(nodesN.Content) == 0 {
		return nil, p.errf(root, "lab file: no nodes")
	}
	err = p.mapping(nodesN, "nodes", nil, func(k, v *yaml.Node) error {
		n, err := p.node(l, k, v, defaults, owner)
		if err != nil {
			return err
		}
		l.Nodes = append(l.Nodes, n)
		l.nodes[n.Name] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	if linksN != nil && !isNull(linksN) {
		if linksN.Kind != yaml.SequenceNode {
			return nil, p.errf(linksN, "links: want a list")
		}
		used := map[Endpoint]int{}
		for _, ln := range linksN.Content {
			lk, err := p.link(l, ln, used)
			if err != nil {
				return nil, err
			}
			l.Links = append(l.Links, lk)
		}
	}
	// Link addresses join the node's addresses of the same interface.
	for _, lk := range l.Links {
		for i, e := range lk.Ends {
			n := l.nodes[e.Node]
			for _, a := range lk.Addrs[i] {
				if containsPrefix(n.Addrs[e.Ifname], a) {
					return nil, p.errf(&yaml.Node{Line: lk.Line}, "link %s: address %s given twice for %s", lk.name(), a, e)
				}
				n.Addrs[e.Ifname] = append(n.Addrs[e.Ifname], a)
			}
		}
	}
	// With IPv6 in the lab, DAD is off in every node (unless the file
	// says otherwise): a tentative link-local address cannot send the
	// neighbour solicitations a router needs, which held forwarded
	// traffic back for about two seconds after an apply.
	if l.hasIPv6() {
		for _, n := range l.Nodes {
			for _, k := range IPv6Baseline {
				if _, set := n.Sysctls[k]; !set {
					n.Sysctls[k] = "0"
				}
			}
		}
	}
	// Every interface named by an address or route must exist.
	ifs := l.interfaces()
	for _, n := range l.Nodes {
		for ifname := range n.Addrs {
			if !ifs[Endpoint{n.Name, ifname}] {
				return nil, p.errf(&yaml.Node{Line: n.Line}, "node %s: addresses for %q, which is not an interface of the node (lo, %s or a link end)", n.Name, ifname, Bridge)
			}
		}
		for _, r := range n.Routes {
			at := &yaml.Node{Line: r.Line}
			if r.Dev != "" && !ifs[Endpoint{n.Name, r.Dev}] {
				return nil, p.errf(at, "node %s: route %q: no interface %q in the node", n.Name, r, r.Dev)
			}
			// The kernel refuses a gateway it cannot reach directly: find
			// that out now, not half-way through an apply.
			if r.Via.IsValid() && !r.Via.IsLinkLocalUnicast() && !reachable(n, r) {
				return nil, p.errf(at, "node %s: route %q: gateway %s is in no subnet of the node's addresses", n.Name, r, r.Via)
			}
		}
	}
	return l, nil
}

// reachable reports whether r's gateway is inside a prefix of one of
// n's addresses (on r's device, when it names one).
func reachable(n *Node, r Route) bool {
	for ifname, list := range n.Addrs {
		if r.Dev != "" && ifname != r.Dev {
			continue
		}
		for _, a := range list {
			if a.Masked().Contains(r.Via) {
				return true
			}
		}
	}
	return false
}

func containsPrefix(list []netip.Prefix, p netip.Prefix) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// interfaces are every interface a lab's nodes have: lo, br0 in
// bridges, and link ends.
func (l *Lab) interfaces() map[Endpoint]bool {
	m := map[Endpoint]bool{}
	for _, n := range l.Nodes {
		m[Endpoint{n.Name, "lo"}] = true
		if n.Kind == KindBridge {
			m[Endpoint{n.Name, Bridge}] = true
		}
	}
	for _, lk := range l.Links {
		m[lk.Ends[0]], m[lk.Ends[1]] = true, true
	}
	return m
}

// KindBridge is the kind of a node holding the bridge br0.
const KindBridge = "bridge"

func (p *parser) node(l *Lab, k, v *yaml.Node, defaults map[string]string, owner *Owner) (*Node, error) {
	n := &Node{Name: k.Value, Line: k.Line, Addrs: map[string][]netip.Prefix{}, Sysctls: map[string]string{}, Owner: owner}
	if !nameRE.MatchString(n.Name) {
		return nil, p.errf(k, "invalid node name %q: want letters, digits, \"_\", \".\" and \"-\"", n.Name)
	}
	if err := netns.ValidName(l.Namespace(n.Name)); err != nil {
		return nil, p.errf(k, "node %s: namespace name %q: %v", n.Name, l.Namespace(n.Name), err)
	}
	for key, val := range defaults {
		n.Sysctls[key] = val
	}
	what := "node " + n.Name
	err := p.mapping(v, what, []string{"kind", "owner", "sysctls", "routes", "addresses"}, func(k, v *yaml.Node) error {
		switch k.Value {
		case "owner":
			o, err := p.owner(v, what+": owner")
			n.Owner = o
			return err
		case "kind":
			s, err := p.scalar(v, what+": kind")
			if err != nil {
				return err
			}
			switch s {
			case "", "host", "router":
			case KindBridge:
				n.Kind = KindBridge
			default:
				return p.errf(v, "%s: unknown kind %q (want host, router or bridge)", what, s)
			}
		case "sysctls":
			return p.sysctls(v, n.Sysctls)
		case "routes":
			list, err := p.strings(v, what+": routes")
			if err != nil {
				return err
			}
			for _, rn := range list {
				r, err := ParseRoute(rn.Value)
				if err != nil {
					return p.errf(rn, "%s: %v", what, err)
				}
				for _, o := range n.Routes {
					if o.Dst == r.Dst && o.Metric == r.Metric {
						return p.errf(rn, "%s: route to %s given twice", what, r.Dst)
					}
				}
				r.Line = rn.Line
				n.Routes = append(n.Routes, r)
			}
		case "addresses":
			return p.mapping(v, what+": addresses", nil, func(k, v *yaml.Node) error {
				if err := link.ValidName(k.Value); err != nil {
					return p.errf(k, "%s: %v", what, err)
				}
				list, err := p.strings(v, what+": addresses")
				if err != nil {
					return err
				}
				for _, an := range list {
					a, err := parsePrefix(an.Value)
					if err != nil {
						return p.errf(an, "%s: %v", what, err)
					}
					if containsPrefix(n.Addrs[k.Value], a) {
						return p.errf(an, "%s: address %s given twice", what, a)
					}
					n.Addrs[k.Value] = append(n.Addrs[k.Value], a)
				}
				return nil
			})
		}
		return nil
	})
	return n, err
}

// owner resolves "owner: USER[:GROUP]" as "netns add --owner" does
// (reading the user database, no kernel write). Root is refused as the
// owner and as its group, as netns.CreateOwned refuses them: the owner
// holds every capability in the node's user namespace and can take on
// its group on the host.
func (p *parser) owner(v *yaml.Node, what string) (*Owner, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, p.errf(v, "%s: want USER[:GROUP]", what)
	}
	u, err := runas.Lookup(s)
	if err != nil {
		return nil, p.errf(v, "%s: %v", what, err)
	}
	if u.Cred.UID == 0 {
		return nil, p.errf(v, "%s: %q is root: a node is delegated to an unprivileged user", what, s)
	}
	if u.Cred.GID == 0 {
		return nil, p.errf(v, "%s: %q: the group must not be root (gid 0)", what, s)
	}
	return &Owner{Spec: s, UID: u.Cred.UID, GID: u.Cred.GID, Line: v.Line}, nil
}

// sysctls reads a mapping of net.* keys to scalar values into into.
func (p *parser) sysctls(v *yaml.Node, into map[string]string) error {
	return p.mapping(v, "sysctls", nil, func(k, v *yaml.Node) error {
		key := strings.ReplaceAll(k.Value, "/", ".")
		parts := strings.Split(key, ".")
		if len(parts) < 2 || parts[0] != "net" || contains(parts, "") || contains(parts, "..") {
			return p.errf(k, "sysctl %q: only net.* keys belong to a network namespace", k.Value)
		}
		if v.Kind != yaml.ScalarNode || isNull(v) || strings.ContainsAny(v.Value, "\n\x00") {
			return p.errf(v, "sysctl %s: want a one-line value", k.Value)
		}
		into[key] = v.Value
		return nil
	})
}

func (p *parser) link(l *Lab, n *yaml.Node, used map[Endpoint]int) (*Link, error) {
	lk := &Link{Line: n.Line}
	var endsN, addrsN *yaml.Node
	switch n.Kind {
	case yaml.SequenceNode: // brief form [a:eth0, b:eth0]
		endsN = n
	case yaml.MappingNode:
		err := p.mapping(n, "link", []string{"endpoints", "addresses", "mtu"}, func(k, v *yaml.Node) error {
			switch k.Value {
			case "endpoints":
				endsN = v
			case "addresses":
				addrsN = v
			case "mtu":
				s, err := p.scalar(v, "link: mtu")
				if err != nil {
					return err
				}
				mtu, err := strconv.ParseUint(s, 10, 32)
				if err != nil || mtu < 68 || mtu > 65535 {
					return p.errf(v, "link: invalid mtu %q: want 68 to 65535", s)
				}
				lk.MTU = uint32(mtu)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, p.errf(n, "link: want {endpoints: [NODE:IF, NODE:IF], ...} or [NODE:IF, NODE:IF]")
	}
	if endsN == nil {
		return nil, p.errf(n, "link: missing endpoints")
	}
	list, err := p.strings(endsN, "link: endpoints")
	if err != nil {
		return nil, err
	}
	if len(list) != 2 {
		return nil, p.errf(endsN, "link: want two endpoints NODE:IF, got %d", len(list))
	}
	for i, en := range list {
		node, ifname, ok := strings.Cut(en.Value, ":")
		if !ok {
			return nil, p.errf(en, "link: endpoint %q: want NODE:IF", en.Value)
		}
		if l.nodes[node] == nil {
			return nil, p.errf(en, "link: endpoint %q: unknown node %q", en.Value, node)
		}
		if err := link.ValidName(ifname); err != nil {
			return nil, p.errf(en, "link: endpoint %q: %v", en.Value, err)
		}
		e := Endpoint{node, ifname}
		if ifname == "lo" || ifname == Bridge && l.nodes[node].Kind == KindBridge {
			return nil, p.errf(en, "link: endpoint %q: %s is taken by the node itself", en.Value, ifname)
		}
		if line, dup := used[e]; dup {
			return nil, p.errf(en, "link: endpoint %q used twice (first at line %d)", en.Value, line)
		}
		used[e] = en.Line
		lk.Ends[i] = e
	}
	if addrsN != nil && !isNull(addrsN) {
		if addrsN.Kind != yaml.SequenceNode || len(addrsN.Content) != 2 {
			return nil, p.errf(addrsN, "link %s: addresses: want two entries, one per endpoint (\"\" or [] for none)", lk.name())
		}
		for i, an := range addrsN.Content {
			items := []*yaml.Node{an}
			if an.Kind == yaml.SequenceNode {
				items = an.Content
			}
			for _, it := range items {
				if isNull(it) || it.Kind == yaml.ScalarNode && it.Value == "" {
					continue
				}
				if it.Kind != yaml.ScalarNode {
					return nil, p.errf(it, "link %s: addresses: want ADDRESS/LEN", lk.name())
				}
				a, err := parsePrefix(it.Value)
				if err != nil {
					return nil, p.errf(it, "link %s: %v", lk.name(), err)
				}
				lk.Addrs[i] = append(lk.Addrs[i], a)
			}
		}
	}
	return lk, nil
}

func (lk *Link) name() string { return lk.Ends[0].String() + "--" + lk.Ends[1].String() }

// parsePrefix reads ADDRESS/LEN, refusing a bare address.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if _, aerr := netip.ParseAddr(s); aerr == nil {
			return netip.Prefix{}, fmt.Errorf("address %q is not a prefix: want ADDRESS/LEN", s)
		}
		return netip.Prefix{}, fmt.Errorf("invalid address %q: want ADDRESS/LEN", s)
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()), nil
}

// ParseRoute reads "DST [via GW] [dev IF] [metric N]" where DST is
// "default", a prefix or an address (a host route).
func ParseRoute(s string) (Route, error) {
	var r Route
	f := strings.Fields(s)
	if len(f) == 0 {
		return r, errors.New("empty route")
	}
	bad := func(why string) (Route, error) { return Route{}, fmt.Errorf("route %q: %s", s, why) }
	dst := f[0]
	for i := 1; i < len(f); i += 2 {
		if i+1 >= len(f) {
			return bad(fmt.Sprintf("%q needs a value", f[i]))
		}
		v := f[i+1]
		switch f[i] {
		case "via":
			a, err := netip.ParseAddr(v)
			if err != nil {
				return bad(fmt.Sprintf("invalid gateway %q", v))
			}
			r.Via = a.Unmap()
		case "dev":
			if err := link.ValidName(v); err != nil {
				return bad(err.Error())
			}
			r.Dev = v
		case "metric":
			m, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad(fmt.Sprintf("invalid metric %q", v))
			}
			r.Metric = uint32(m)
		default:
			return bad(fmt.Sprintf("unknown word %q (want via, dev, metric)", f[i]))
		}
	}
	switch {
	case dst == "default":
		if !r.Via.IsValid() && r.Dev == "" {
			return bad("default needs via or dev")
		}
		if r.Via.Is6() {
			r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	case strings.Contains(dst, "/"):
		p, err := netip.ParsePrefix(dst)
		if err != nil {
			return bad(fmt.Sprintf("invalid destination %q", dst))
		}
		r.Dst = p.Masked()
		if r.Dst != p {
			return bad(fmt.Sprintf("destination %s has host bits set (want %s)", p, r.Dst))
		}
	default:
		a, err := netip.ParseAddr(dst)
		if err != nil {
			return bad(fmt.Sprintf("invalid destination %q: want default, a prefix or an address", dst))
		}
		r.Dst = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
	}
	if !r.Via.IsValid() && r.Dev == "" {
		return bad("want via GW or dev IF")
	}
	if r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4() {
		return bad("gateway and destination are of different families")
	}
	return r, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
