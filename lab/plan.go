package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/setns/setns/netns"
)

// Step is one kernel object a plan creates, changes or deletes.
type Step struct {
	Op     string `json:"op"`   // "create", "change" or "delete"
	Kind   string `json:"kind"` // "node", "sysctl", "bridge", "link", "address" or "route"
	Node   string `json:"node"`
	Object string `json:"object,omitempty"` // "eth0", "10.0.1.1/24 dev eth0", ...
	Reason string `json:"reason,omitempty"`
}

func (s Step) String() string {
	t := s.Op + " " + s.Kind + " " + s.Node
	if s.Object != "" {
		t += " " + s.Object
	}
	if s.Reason != "" {
		t += " (" + s.Reason + ")"
	}
	return t
}

// Plan is what Apply would do to make the kernel match a lab: the
// difference between the file and what the lab owns in the kernel.
type Plan struct {
	Lab   *Lab
	Steps []Step // empty when the kernel matches

	work    []*nodeWork // per node of the file, in file order
	byNode  map[string]*nodeWork
	removed []*nodeState // namespaces the lab owns that the file no longer has
	links   []*Link      // links to create
	closers []*nodeState

	ifs   map[string]map[string]bool // node: its interfaces but lo
	ends  map[Endpoint]bool          // every link end of the file
	made  map[string][]string        // node: its ends of links to create
	mu    sync.Mutex
	extra []Step // done by Execute beyond the plan: routes the kernel flushed
	// ownerDrift is Execute's refusal when an existing node's owner is
	// not the file's (the first such node), or ""
	ownerDrift string
}

// Changes is the number of kernel objects the plan creates, changes or
// deletes.
func (p *Plan) Changes() int { return len(p.Steps) }

// Close releases the namespaces the plan holds open.
func (p *Plan) Close() {
	for _, w := range p.work {
		w.closeConn()
	}
	for _, s := range p.closers {
		s.close()
	}
	p.closers = nil
}

type ifAddr struct {
	ifname string
	p      netip.Prefix
}

type endSet struct {
	ifname string
	set    linkSet
}

// nodeWork is what the plan does in one node's namespace.
type nodeWork struct {
	node   *Node
	name   string // namespace
	state  *nodeState
	create bool // make the namespace
	mark   bool // set lo's marker
	// phase before creation: deletions in an existing node
	delLinks  []int32
	delAddrs  []address
	delRoutes []kroute
	// phase after namespaces exist, before links
	sysctls [][2]string
	bridge  bool
	// phase after links
	late     [][2]string // per-interface sysctls
	sets     []endSet
	addAddrs []ifAddr
	routes   []Route

	sock *sock // open from prepare to configure
}

// conn returns the node's socket, opening it on first use; prepare and
// configure share it.
func (w *nodeWork) conn(ctx context.Context) (*sock, error) {
	if w.sock == nil {
		s, err := dial(ctx, w.ns())
		if err != nil {
			return nil, err
		}
		w.sock = s
	}
	return w.sock, nil
}

func (w *nodeWork) closeConn() {
	if w.sock != nil {
		w.sock.Close()
		w.sock = nil
	}
}

func (w *nodeWork) ns() *netns.NS {
	if w.state == nil {
		return nil
	}
	return w.state.ns
}

// MakePlan compares l with the kernel: it reads every namespace the lab
// may own (its nodes' names, and any other namespace whose lo carries the
// lab's marker or that an interrupted apply left) and returns the steps
// that make the kernel match the file. It writes nothing. An object the
// file needs whose name is taken by something the lab does not own (a
// namespace made by "ip netns add", an interface made by hand) is an
// error: Apply never touches it. The plan holds the namespaces open until
// Close.
func MakePlan(ctx context.Context, l *Lab) (*Plan, error) {
	p := &Plan{Lab: l, byNode: map[string]*nodeWork{}, ifs: map[string]map[string]bool{}, ends: map[Endpoint]bool{}}
	for _, n := range l.Nodes {
		p.ifs[n.Name] = map[string]bool{}
		if n.Kind == KindBridge {
			p.ifs[n.Name][Bridge] = true
		}
	}
	for _, lk := range l.Links {
		for _, e := range lk.Ends {
			p.ifs[e.Node][e.Ifname] = true
			p.ends[e] = true
		}
	}
	if err := p.checkSysctls(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	j, _ := readJournal(l.Name)
	pending := map[string]bool{}
	if j != nil {
		for _, n := range j.Pending {
			pending[n] = true
		}
	}
	// Read every node's namespace, in parallel.
	states := make([]*nodeState, len(l.Nodes))
	err := parallelN(ctx, readers(), len(l.Nodes), func(i int) error {
		n := l.Nodes[i]
		st, err := observe(ctx, l.Namespace(n.Name), nodeKeys(n))
		states[i] = st
		return err
	})
	for _, st := range states {
		if st != nil {
			p.closers = append(p.closers, st)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", l.Name, err)
	}
	for i, n := range l.Nodes {
		w := &nodeWork{node: n, name: l.Namespace(n.Name), state: states[i]}
		p.work = append(p.work, w)
		p.byNode[n.Name] = w
		st := w.state
		switch {
		case st == nil:
			w.create = true
		case st.placeholder:
			if !pending[w.name] {
				return nil, fmt.Errorf("lab %s: node %s: %s%s exists and is not a namespace (see \"netns doctor\")", l.Name, n.Name, netns.RunDir+"/", w.name)
			}
			w.create = true // left by an apply killed half-way: Ensure recovers it
		default:
			lab, node, owned := labOf(st.marker)
			switch {
			case owned && (lab != l.Name || node != n.Name):
				return nil, fmt.Errorf("lab %s: node %s: namespace %q belongs to lab %s node %s", l.Name, n.Name, w.name, lab, node)
			case !owned && st.marker == "" && pending[w.name] && len(st.devs) == 1:
				// Made by an apply killed before it marked it.
				w.mark = true
				if err := st.read(ctx, nodeKeys(n)); err != nil {
					return nil, err
				}
			case !owned:
				return nil, fmt.Errorf("lab %s: node %s: namespace %q exists and is not the lab's (made by something else; delete it or rename the node)", l.Name, n.Name, w.name)
			}
			if err := p.diffOwner(w); err != nil {
				return nil, err
			}
		}
	}
	if err := p.findRemoved(ctx, pending); err != nil {
		return nil, err
	}
	for _, w := range p.work {
		if err := p.diffNode(w); err != nil {
			return nil, err
		}
	}
	if err := p.diffLinks(); err != nil {
		return nil, err
	}
	p.made = map[string][]string{}
	for _, lk := range p.links {
		for _, e := range lk.Ends {
			p.made[e.Node] = append(p.made[e.Node], e.Ifname)
		}
	}
	for _, w := range p.work {
		p.diffAddrsRoutes(w)
	}
	ok = true
	return p, nil
}

// diffOwner compares the delegation of an existing node with the file's
// owner (by uid: the kernel keeps no owner group for a user namespace).
// A difference is drift, which status shows; Execute refuses it (see
// ownerDrift) rather than recreate the node.
func (p *Plan) diffOwner(w *nodeWork) error {
	o, err := netns.LookupOwner(w.name)
	if err != nil {
		return fmt.Errorf("lab %s: node %s: %w", p.Lab.Name, w.node.Name, err)
	}
	have := "not delegated"
	if o != nil && o.Paired {
		have = "owned by uid " + strconv.FormatUint(uint64(o.UID), 10)
	}
	want := "not delegated"
	if w.node.Owner != nil {
		want = "owned by uid " + strconv.FormatUint(uint64(w.node.Owner.UID), 10)
	}
	if have != want {
		p.Steps = append(p.Steps, Step{Op: "change", Kind: "owner", Node: w.node.Name, Object: w.name, Reason: "is " + have + ", the file wants it " + want})
		if p.ownerDrift == "" {
			p.ownerDrift = fmt.Sprintf("lab %s: node %s: namespace %q is %s, the file wants it %s: apply does not recreate a node to change its owner (delete it with \"netns delete %s\", or destroy the lab, and apply again)", p.Lab.Name, w.node.Name, w.name, have, want, w.name)
		}
	}
	return nil
}

// nodeKeys are the sysctl keys of n to read.
func nodeKeys(n *Node) []string {
	return sortedKeys(n.Sysctls)
}

// checkSysctls refuses keys this kernel does not have, before any write.
func (p *Plan) checkSysctls() error {
	l := p.Lab
	seen := map[string]bool{}
	for _, n := range l.Nodes {
		own := p.ifs[n.Name]
		for k := range n.Sysctls {
			path := k
			if i := keyIface(k, own); i != "" {
				path = strings.Replace(k, "."+i+".", ".default.", 1)
			}
			if seen[path] {
				continue
			}
			seen[path] = true
			if _, err := os.Stat(sysctlFile(path)); err != nil {
				return fmt.Errorf("%s:%d: node %s: sysctl %s: no such key in this kernel", l.File, n.Line, n.Name, k)
			}
		}
	}
	return nil
}

// findRemoved finds the namespaces the lab owns that the file no longer
// has: every name in the run directory whose lo marker names the lab
// (and placeholders an interrupted apply left).
func (p *Plan) findRemoved(ctx context.Context, pending map[string]bool) error {
	l := p.Lab
	names, err := netns.List()
	if err != nil {
		return err
	}
	var cand []string
	for _, name := range names {
		if !strings.HasPrefix(name, l.Prefix) && !pending[name] {
			continue
		}
		if n := strings.TrimPrefix(name, l.Prefix); l.nodes[n] != nil && strings.HasPrefix(name, l.Prefix) {
			continue
		}
		cand = append(cand, name)
	}
	found := make([]*nodeState, len(cand))
	err = parallelN(ctx, readers(), len(cand), func(i int) error {
		st, err := ownedBy(ctx, cand[i], l.Name, pending[cand[i]])
		found[i] = st
		return err
	})
	for _, st := range found {
		if st != nil {
			p.closers = append(p.closers, st)
			p.removed = append(p.removed, st)
			_, node, _ := labOf(st.marker)
			if node == "" {
				node = st.name
			}
			p.Steps = append(p.Steps, Step{Op: "delete", Kind: "node", Node: node, Reason: "not in the file"})
		}
	}
	return err
}

// ownedBy opens namespace name and returns it when lab owns it: its lo
// marker names the lab, or, for a name an interrupted apply left
// (pending), it is unmarked and empty, or a placeholder.
func ownedBy(ctx context.Context, name, lab string, pending bool) (*nodeState, error) {
	ns, err := netns.Open(name)
	switch {
	case err == nil:
	case errors.Is(err, netns.ErrNotNamespace) && pending:
		return &nodeState{name: name, placeholder: true}, nil
	default:
		return nil, nil // gone, or not a namespace: not ours
	}
	st := &nodeState{name: name, ns: ns}
	s, err := dial(ctx, ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("read namespace %q: %w", name, err)
	}
	defer s.Close()
	lo, err := s.linkByIndex(loopbackIndex)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("read namespace %q: %w", name, err)
	}
	st.marker = lo.alias
	if l, _, ok := labOf(st.marker); ok && l == lab {
		return st, nil
	}
	if pending && st.marker == "" {
		// Made by an apply killed before it marked it: ours if empty.
		if devs, err := s.links(); err == nil && len(devs) == 1 {
			return st, nil
		}
	}
	ns.Close()
	return nil, nil
}

// diffNode plans a node's namespace, sysctls and bridge.
func (p *Plan) diffNode(w *nodeWork) error {
	l, n := p.Lab, w.node
	ifs := p.nodeIfs(n.Name)
	if w.create {
		p.Steps = append(p.Steps, Step{Op: "create", Kind: "node", Node: n.Name, Object: w.name})
		w.mark = true
		for _, k := range sortedKeys(n.Sysctls) {
			if keyIface(k, ifs) == "" {
				w.sysctls = append(w.sysctls, [2]string{k, n.Sysctls[k]})
			}
		}
		w.bridge = n.Kind == KindBridge
		if w.bridge {
			p.Steps = append(p.Steps, Step{Op: "create", Kind: "bridge", Node: n.Name, Object: Bridge})
		}
		return nil
	}
	st := w.state
	if w.mark {
		p.Steps = append(p.Steps, Step{Op: "change", Kind: "node", Node: n.Name, Object: w.name, Reason: "mark namespace left unmarked by an interrupted apply"})
	}
	for _, k := range sortedKeys(n.Sysctls) {
		if keyIface(k, ifs) != "" {
			continue // written with its interface
		}
		v := n.Sysctls[k]
		if got, ok := st.sysctls[k]; !ok || got != normalize(v) {
			w.sysctls = append(w.sysctls, [2]string{k, v})
			p.Steps = append(p.Steps, Step{Op: "change", Kind: "sysctl", Node: n.Name, Object: k + "=" + v, Reason: "is " + quoteOr(got, ok)})
		}
	}
	br := st.byName[Bridge]
	owned := br != nil && br.kind == "bridge" && (br.alias == bridgeAlias(l.Name) || br.group == Group(l.Name))
	switch {
	case n.Kind == KindBridge && br == nil:
		w.bridge = true
		p.Steps = append(p.Steps, Step{Op: "create", Kind: "bridge", Node: n.Name, Object: Bridge})
	case n.Kind == KindBridge && !owned:
		return fmt.Errorf("lab %s: node %s: %s exists in %q and is not the lab's", l.Name, n.Name, Bridge, w.name)
	case n.Kind == KindBridge && (!br.up || br.alias != bridgeAlias(l.Name)):
		alias := bridgeAlias(l.Name)
		w.sets = append(w.sets, endSet{Bridge, linkSet{alias: &alias, up: true}})
		p.Steps = append(p.Steps, Step{Op: "change", Kind: "bridge", Node: n.Name, Object: Bridge, Reason: "down or unmarked"})
	case n.Kind != KindBridge && owned:
		w.delLinks = append(w.delLinks, br.index)
		p.Steps = append(p.Steps, Step{Op: "delete", Kind: "bridge", Node: n.Name, Object: Bridge, Reason: "node is no longer a bridge"})
	}
	return nil
}

func quoteOr(v string, ok bool) string {
	if !ok {
		return "unreadable"
	}
	return fmt.Sprintf("%q", v)
}

// nodeIfs are the interfaces of node other than lo: link ends and br0.
func (p *Plan) nodeIfs(node string) map[string]bool { return p.ifs[node] }

// diffLinks plans the veths: a link is kept when both ends exist, are
// each other's peers and carry the lab's marks; an end in the way that
// the lab owns is deleted and the link made again; one it does not own
// is an error.
func (p *Plan) diffLinks() error {
	l := p.Lab
	g := Group(l.Name)
	keep := map[Endpoint]bool{}
	for _, lk := range l.Links {
		wa, wb := p.byNode[lk.Ends[0].Node], p.byNode[lk.Ends[1].Node]
		var da, db *device
		if !wa.create {
			da = wa.state.byName[lk.Ends[0].Ifname]
		}
		if !wb.create {
			db = wb.state.byName[lk.Ends[1].Ifname]
		}
		aliasA, aliasB := linkAlias(l.Name, lk.Ends[1]), linkAlias(l.Name, lk.Ends[0])
		paired := da != nil && db != nil && da.kind == "veth" && db.kind == "veth" &&
			da.peer == db.index && db.peer == da.index &&
			(da.group == g || ownedAlias(l.Name, da.alias)) && (db.group == g || ownedAlias(l.Name, db.alias)) &&
			(da.alias == aliasA || db.alias == aliasB)
		if paired {
			keep[lk.Ends[0]], keep[lk.Ends[1]] = true, true
			var why []string
			for i, x := range []struct {
				w     *nodeWork
				d     *device
				alias string
			}{{wa, da, aliasA}, {wb, db, aliasB}} {
				set := linkSet{up: true}
				changed := false
				if x.d.alias != x.alias {
					set.alias, changed = &x.alias, true
					why = append(why, lk.Ends[i].String()+" unmarked")
				}
				if want := mtuOf(lk); x.d.mtu != want {
					set.mtu, changed = want, true
					why = append(why, fmt.Sprintf("%s mtu %d", lk.Ends[i], x.d.mtu))
				}
				if !x.d.up {
					changed = true
					why = append(why, lk.Ends[i].String()+" down")
				}
				if x.w.node.Kind == KindBridge {
					br := x.w.state.byName[Bridge]
					if br == nil || x.d.master != br.index {
						set.master, changed = -1, true // resolved once br0 exists
						why = append(why, lk.Ends[i].String()+" not in "+Bridge)
					}
				}
				if changed {
					x.w.sets = append(x.w.sets, endSet{lk.Ends[i].Ifname, set})
				}
			}
			if len(why) > 0 {
				p.Steps = append(p.Steps, Step{Op: "change", Kind: "link", Node: lk.Ends[0].Node, Object: lk.name(), Reason: strings.Join(why, ", ")})
			}
			continue
		}
		for i, d := range []*device{da, db} {
			if d == nil {
				continue
			}
			if d.kind != "veth" || d.group != g && !ownedAlias(l.Name, d.alias) {
				return fmt.Errorf("%s:%d: link %s: interface %s exists and is not the lab's (%s)", l.File, lk.Line, lk.name(), lk.Ends[i], describe(d))
			}
		}
		p.links = append(p.links, lk)
		p.Steps = append(p.Steps, Step{Op: "create", Kind: "link", Node: lk.Ends[0].Node, Object: lk.name()})
		for i, w := range []*nodeWork{wa, wb} {
			alias := linkAlias(l.Name, lk.Ends[1-i])
			set := linkSet{alias: &alias, up: true}
			if w.node.Kind == KindBridge {
				set.master = -1
			}
			w.sets = append(w.sets, endSet{lk.Ends[i].Ifname, set})
		}
	}
	// Owned devices no link of the file keeps are deleted (with their
	// peers). Those in the way of a link are among them.
	gone := map[Endpoint]*device{}
	for _, w := range p.work {
		if w.create {
			continue
		}
		for i := range w.state.devs {
			d := &w.state.devs[i]
			e := Endpoint{w.node.Name, d.name}
			if keep[e] || d.kind != "veth" || d.group != g && !ownedAlias(l.Name, d.alias) {
				continue
			}
			gone[e] = d
			if peer, ok := strings.CutPrefix(d.alias, peerPrefix(l.Name)); ok {
				pn, pi, _ := strings.Cut(peer, ":")
				if pd := gone[Endpoint{pn, pi}]; pd != nil && pd.peer == d.index && d.peer == pd.index {
					continue // goes with its peer, deleted already
				}
			}
			w.delLinks = append(w.delLinks, d.index)
			if !p.wanted(e) {
				p.Steps = append(p.Steps, Step{Op: "delete", Kind: "link", Node: e.Node, Object: e.Ifname, Reason: "not in the file"})
			}
		}
	}
	return nil
}

func describe(d *device) string {
	kind := d.kind
	if kind == "" {
		kind = "no kind"
	}
	return fmt.Sprintf("%s, ifalias %q", kind, d.alias)
}

// wanted reports whether e is an end of a link of the file.
func (p *Plan) wanted(e Endpoint) bool { return p.ends[e] }

func mtuOf(lk *Link) uint32 {
	if lk.MTU == 0 {
		return defaultMTU
	}
	return lk.MTU
}

// diffAddrsRoutes plans a node's addresses and routes, and its
// per-interface sysctls.
func (p *Plan) diffAddrsRoutes(w *nodeWork) {
	n := w.node
	ifs := p.nodeIfs(n.Name)
	fresh := map[string]bool{} // interfaces (re)made by the plan
	if w.create {
		for i := range ifs {
			fresh[i] = true
		}
	} else {
		deleted := map[int32]bool{}
		for _, ix := range w.delLinks {
			deleted[ix] = true
		}
		for i := range ifs {
			d := w.state.byName[i]
			if d == nil || deleted[d.index] {
				fresh[i] = true
			}
		}
		// Devices deleted in another node may take their peer here.
		for _, i := range p.made[n.Name] {
			fresh[i] = true
		}
	}
	for _, k := range sortedKeys(n.Sysctls) {
		i := keyIface(k, ifs)
		if i == "" {
			continue
		}
		v := n.Sysctls[k]
		got := ""
		if !fresh[i] && w.state != nil {
			got = w.state.sysctls[k]
		}
		if fresh[i] || got != normalize(v) {
			w.late = append(w.late, [2]string{k, v})
			if !w.create {
				p.Steps = append(p.Steps, Step{Op: "change", Kind: "sysctl", Node: n.Name, Object: k + "=" + v})
			}
		}
	}
	// Addresses.
	index := func(ifname string) int32 {
		if ifname == "lo" {
			return loopbackIndex
		}
		if w.state == nil || fresh[ifname] {
			return 0
		}
		if d := w.state.byName[ifname]; d != nil {
			return d.index
		}
		return 0
	}
	have := map[int32][]address{}
	if w.state != nil && !w.create {
		for _, a := range w.state.addrs {
			have[a.index] = append(have[a.index], a)
		}
	}
	for _, ifname := range sortedKeys(n.Addrs) {
		ix := index(ifname)
		for _, a := range n.Addrs[ifname] {
			present := false
			for _, h := range have[ix] {
				if ix != 0 && h.p == a {
					present = true
				}
			}
			if !present {
				w.addAddrs = append(w.addAddrs, ifAddr{ifname, a})
				p.Steps = append(p.Steps, Step{Op: "create", Kind: "address", Node: n.Name, Object: a.String() + " dev " + ifname})
			}
		}
	}
	if w.state != nil && !w.create {
		names := map[int32]string{}
		for _, d := range w.state.devs {
			names[d.index] = d.name
		}
		deleted := map[int32]bool{}
		for _, ix := range w.delLinks {
			deleted[ix] = true
		}
		for _, a := range w.state.addrs {
			if a.proto != Proto || deleted[a.index] || fresh[names[a.index]] {
				continue
			}
			if !containsPrefix(n.Addrs[names[a.index]], a.p) {
				w.delAddrs = append(w.delAddrs, a)
				p.Steps = append(p.Steps, Step{Op: "delete", Kind: "address", Node: n.Name, Object: a.p.String() + " dev " + names[a.index], Reason: "not in the file"})
			}
		}
		// Routes.
		matched := make([]bool, len(n.Routes))
		for _, r := range w.state.routes {
			if deleted[r.oif] || fresh[names[r.oif]] {
				continue // goes with its device
			}
			found := false
			for i, want := range n.Routes {
				if !matched[i] && routeMatches(want, r, names) {
					matched[i], found = true, true
					break
				}
			}
			if !found {
				w.delRoutes = append(w.delRoutes, r)
				p.Steps = append(p.Steps, Step{Op: "delete", Kind: "route", Node: n.Name, Object: krouteString(r, names), Reason: "not in the file"})
			}
		}
		for i, want := range n.Routes {
			if !matched[i] {
				w.routes = append(w.routes, want)
				p.Steps = append(p.Steps, Step{Op: "create", Kind: "route", Node: n.Name, Object: want.String()})
			}
		}
		return
	}
	for _, r := range n.Routes {
		w.routes = append(w.routes, r)
		p.Steps = append(p.Steps, Step{Op: "create", Kind: "route", Node: n.Name, Object: r.String()})
	}
}

func metricOf(dst netip.Prefix, m uint32) uint32 {
	if m == 0 && dst.Addr().Is6() {
		return ipv6MetricBase
	}
	return m
}

func routeMatches(want Route, r kroute, names map[int32]string) bool {
	return want.Dst == r.dst && want.Via == r.via && metricOf(want.Dst, want.Metric) == metricOf(r.dst, r.metric) &&
		(want.Dev == "" || names[r.oif] == want.Dev)
}

func krouteString(r kroute, names map[int32]string) string {
	return Route{Dst: r.dst, Via: r.via, Dev: names[r.oif], Metric: r.metric}.String()
}
