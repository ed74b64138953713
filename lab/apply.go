package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// Options tune Apply, Execute and Destroy; nil means the defaults.
type Options struct {
	// Progress, if set, is called after each unit of work (a namespace
	// made or deleted, a link made, a node configured), never by two
	// goroutines at once.
	Progress func(Progress)
}

// Progress says how far an apply or destroy has got.
type Progress struct {
	Phase string // "namespaces", "links", "configure", "delete"
	Done  int    // units done, of Total
	Total int
}

// Result sums up an apply; it encodes to JSON as is.
type Result struct {
	Lab     string `json:"lab"`
	Changes int    `json:"changes"` // kernel objects created, changed or deleted
	Created int    `json:"created"`
	Changed int    `json:"changed"`
	Deleted int    `json:"deleted"`
	Steps   []Step `json:"steps"`
}

func newResult(l *Lab, steps []Step) *Result {
	r := &Result{Lab: l.Name, Changes: len(steps), Steps: steps}
	if r.Steps == nil {
		r.Steps = []Step{}
	}
	for _, s := range steps {
		switch s.Op {
		case "create":
			r.Created++
		case "change":
			r.Changed++
		case "delete":
			r.Deleted++
		}
	}
	return r
}

// Apply makes the kernel match l: MakePlan, then Execute. Re-applying an
// unchanged file makes no kernel write.
func Apply(ctx context.Context, l *Lab, o *Options) (*Result, error) {
	p, err := MakePlan(ctx, l)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Execute(ctx, o)
}

// progress reports units of work to Options.Progress.
type progress struct {
	mu    sync.Mutex
	f     func(Progress)
	done  int
	total int
}

func (pr *progress) step(phase string) {
	if pr.f == nil {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.done++
	pr.f(Progress{Phase: phase, Done: pr.done, Total: pr.total})
}

// Execute carries the plan out, in phases: namespaces the lab no longer
// has are deleted, then stale links, addresses and routes in kept nodes;
// new namespaces are made (in parallel) and marked, and their sysctls
// written before any link exists (a device copies its namespace's
// conf/default); bridges; then every link through one rtnetlink socket
// (the kernel serialises link creation anyway), both ends born in their
// namespaces; last, per namespace, link ends come up and join bridges,
// addresses and routes are added. A plan without steps writes nothing.
// On an error Execute stops; applying again converges.
func (p *Plan) Execute(ctx context.Context, o *Options) (*Result, error) {
	l := p.Lab
	res := newResult(l, p.Steps)
	if len(p.Steps) == 0 {
		// Nothing to write to the kernel; keep the record current (a
		// lost or older one) so that status and graph by name work.
		if j, err := readJournal(l.Name); err != nil || j.Source != string(l.source) || len(j.Pending) > 0 {
			if err := p.record(); err != nil {
				return nil, fmt.Errorf("lab %s: write journal: %w", l.Name, err)
			}
		}
		return res, nil
	}
	if p.ownerDrift != "" {
		// Changing an owner means a new user namespace, so a new network
		// namespace: the node's links, addresses and whatever its owner
		// set up or runs in it would go. That is for the user to decide.
		return nil, errors.New(p.ownerDrift)
	}
	pr := &progress{}
	if o != nil {
		pr.f = o.Progress
	}
	var creates []*nodeWork
	var deletes, config []*nodeWork
	for _, w := range p.work {
		if w.create {
			creates = append(creates, w)
		}
		if len(w.delLinks)+len(w.delAddrs)+len(w.delRoutes) > 0 {
			deletes = append(deletes, w)
		}
		if w.create || w.mark || len(w.sysctls) > 0 || w.bridge || len(w.late)+len(w.sets)+len(w.addAddrs)+len(w.routes)+len(w.delAddrs) > 0 {
			config = append(config, w)
		}
	}
	pr.total = len(p.removed) + len(deletes) + len(creates) + len(p.links) + len(config)
	fail := func(err error) (*Result, error) { return nil, fmt.Errorf("lab %s: %w", l.Name, err) }

	old, _ := readJournal(l.Name)
	j := &journal{Lab: l.Name, Prefix: l.Prefix}
	if old != nil {
		j.File, j.Source = old.File, old.Source
		j.Pending = append(j.Pending, old.Pending...)
	}
	if len(creates) > 0 {
		for _, w := range creates {
			j.Pending = append(j.Pending, w.name)
		}
		if err := j.write(); err != nil {
			return fail(fmt.Errorf("write journal: %w", err))
		}
	}

	// Namespaces the file no longer has.
	err := parallel(ctx, len(p.removed), func(i int) error {
		if _, err := deleteOwned(p.removed[i]); err != nil {
			return err
		}
		pr.step("delete")
		return nil
	})
	if err != nil {
		return fail(err)
	}
	// Stale routes, addresses and links in kept nodes.
	err = parallel(ctx, len(deletes), func(i int) error {
		w := deletes[i]
		s, err := dial(ctx, w.ns())
		if err != nil {
			return fmt.Errorf("node %s: %w", w.node.Name, err)
		}
		defer s.Close()
		for _, r := range w.delRoutes {
			if err := s.delRoute(r); err != nil && !isNotExist(err) {
				return fmt.Errorf("node %s: delete route %s: %w", w.node.Name, r.dst, err)
			}
		}
		for _, a := range w.delAddrs {
			if err := s.delAddr(a.index, a.p); err != nil && !isNotExist(err) {
				return fmt.Errorf("node %s: delete address %s: %w", w.node.Name, a.p, err)
			}
		}
		for _, ix := range w.delLinks {
			if err := s.delLink(ix); err != nil && !isNotExist(err) {
				return fmt.Errorf("node %s: delete link %d: %w", w.node.Name, ix, err)
			}
		}
		pr.step("delete")
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if err := p.createNamespaces(ctx, creates, pr); err != nil {
		return fail(err)
	}
	// Mark new namespaces, write sysctls, make bridges.
	err = parallel(ctx, len(config), func(i int) error { return p.prepare(ctx, config[i]) })
	if err != nil {
		return fail(err)
	}
	if err := p.createLinks(ctx, pr); err != nil {
		return fail(err)
	}
	err = parallel(ctx, len(config), func(i int) error {
		if err := p.configure(ctx, config[i]); err != nil {
			return err
		}
		pr.step("configure")
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if err := p.record(); err != nil {
		return fail(fmt.Errorf("write journal: %w", err))
	}
	if len(p.extra) > 0 {
		res = newResult(l, append(slices.Clip(p.Steps), p.extra...))
	}
	return res, nil
}

// record writes the journal of an applied lab: its file, nothing pending.
func (p *Plan) record() error {
	l := p.Lab
	j := &journal{Lab: l.Name, Prefix: l.Prefix, File: l.File, Source: string(l.source)}
	if abs, err := filepath.Abs(l.File); err == nil {
		j.File = abs
	}
	return j.write()
}

// createNamespaces makes the new nodes' namespaces: names reserved in
// file order, namespaces made on GOMAXPROCS threads (the costly part,
// which scales across CPUs). A placeholder left by an interrupted apply
// is recovered by netns.Ensure. Nodes with an owner are then made one
// by one with netns.CreateOwned.
func (p *Plan) createNamespaces(ctx context.Context, creates []*nodeWork, pr *progress) error {
	res := make([]*netns.Reservation, len(creates))
	defer func() {
		for _, r := range res {
			if r != nil {
				r.Release()
			}
		}
	}()
	var owned []*nodeWork
	for i, w := range creates {
		if w.node.Owner != nil {
			owned = append(owned, w)
			continue
		}
		if w.state != nil && w.state.placeholder {
			continue
		}
		r, err := netns.Reserve(w.name)
		if err != nil {
			return fmt.Errorf("node %s: %w", w.node.Name, err)
		}
		res[i] = r
	}
	var mu sync.Mutex
	keep := func(w *nodeWork, ns *netns.NS) {
		st := &nodeState{name: w.name, ns: ns, byName: map[string]*device{}}
		mu.Lock()
		w.state = st
		p.closers = append(p.closers, st)
		mu.Unlock()
		pr.step("namespaces")
	}
	err := parallel(ctx, len(creates), func(i int) error {
		w := creates[i]
		if w.node.Owner != nil {
			return nil
		}
		var ns *netns.NS
		var err error
		if r := res[i]; r != nil {
			res[i] = nil
			ns, err = r.Create(&netns.CreateOptions{NoLoopback: true})
		} else {
			ns, _, err = netns.Ensure(w.name, &netns.CreateOptions{NoLoopback: true})
		}
		if err != nil {
			return fmt.Errorf("node %s: %w", w.node.Name, err)
		}
		keep(w, ns)
		return nil
	})
	if err != nil {
		return err
	}
	// Delegated nodes one at a time: each starts a holder process as its
	// owner (netns.CreateOwned), and they are few.
	for _, w := range owned {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.state != nil && w.state.placeholder {
			// Left by an apply killed half-way; CreateOwned makes the
			// name anew.
			if err := netns.Delete(w.name); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("node %s: %w", w.node.Name, err)
			}
		}
		o := w.node.Owner
		ns, err := netns.CreateOwned(w.name, o.UID, o.GID, &netns.CreateOptions{NoLoopback: true})
		if err != nil {
			return fmt.Errorf("node %s: owner %s: %w", w.node.Name, o.Spec, err)
		}
		keep(w, ns)
	}
	return nil
}

// prepare marks a node's namespace (lo's ifalias, lo up), writes its
// sysctls and makes its bridge: what must precede its links.
func (p *Plan) prepare(ctx context.Context, w *nodeWork) error {
	l := p.Lab
	if !w.mark && len(w.sysctls) == 0 && !w.bridge {
		return nil
	}
	what := func(err error, op string) error { return fmt.Errorf("node %s: %s: %w", w.node.Name, op, err) }
	s, err := w.conn(ctx)
	if err != nil {
		return what(err, "open netlink")
	}
	if w.mark {
		m := nodeMarker(l.Name, w.node.Name)
		if err := s.setLink(loopbackIndex, linkSet{alias: &m, up: true}); err != nil {
			return what(err, "mark lo")
		}
	}
	kv := w.sysctls
	if w.create && len(kv) > 0 {
		// A new namespace copies some values (IPv4's from the host) and
		// has kernel defaults for others: write those that differ,
		// reading them over netlink where it can (cheap), else all.
		keys := make([]string, len(kv))
		for i, x := range kv {
			keys[i] = x[0]
		}
		have := map[string]string{}
		if _, err := s.readNetconf(keys, nil, have); err != nil {
			return what(err, "read netconf")
		}
		kv = nil
		for _, x := range w.sysctls {
			if v, ok := have[x[0]]; !ok || v != normalize(x[1]) {
				kv = append(kv, x)
			}
		}
	}
	if len(kv) > 0 {
		if err := writeSysctls(w.ns(), kv); err != nil {
			return what(err, "sysctl")
		}
	}
	if w.bridge {
		if err := s.addBridge(Bridge, mac(w.name, Bridge), Group(l.Name)); err != nil {
			return what(err, "create "+Bridge)
		}
		a := bridgeAlias(l.Name)
		if err := s.setLink(0, linkSet{name: Bridge, alias: &a, up: true}); err != nil {
			return what(err, "mark "+Bridge)
		}
	}
	return nil
}

// writeSysctls writes keys inside ns from one thread that enters it
// (files under /proc/sys/net resolve against the opener's namespace).
func writeSysctls(ns *netns.NS, kv [][2]string) error {
	return ns.Do(func() error {
		for _, x := range kv {
			f, err := os.OpenFile(sysctlFile(x[0]), os.O_WRONLY, 0)
			if err == nil {
				writes.Add(1)
				_, err = f.WriteString(x[1])
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return fmt.Errorf("%s=%s: %w", x[0], x[1], err)
			}
		}
		return nil
	})
}

// createLinks makes every new veth with a link.Batch: one socket,
// requests pipelined, both ends born in their namespaces with the lab's
// group as their mark until configure sets their ifalias. Link creation
// holds the kernel's RTNL lock, so one writer is as fast as several.
func (p *Plan) createLinks(ctx context.Context, pr *progress) error {
	if len(p.links) == 0 {
		return nil
	}
	var b link.Batch
	o := &link.Options{Group: Group(p.Lab.Name)}
	for _, lk := range p.links {
		var ends [2]link.End
		for i, e := range lk.Ends {
			w := p.byNode[e.Node]
			ends[i] = link.End{NS: w.ns(), Name: e.Ifname, MAC: mac(w.name, e.Ifname)}
		}
		lo := *o
		lo.MTU = lk.MTU
		b.Veth(ends[0], ends[1], &lo)
	}
	writes.Add(int64(len(p.links)))
	err := b.Create(ctx, func(int) { pr.step("links") })
	var be *link.BatchError
	if errors.As(err, &be) {
		lk := p.links[be.Index]
		return fmt.Errorf("%s:%d: link %s: %w", p.Lab.File, lk.Line, lk.name(), be.Err.Err)
	}
	return err
}

// configure brings a node's link ends up (into br0 on a bridge node),
// writes per-interface sysctls, adds addresses, then routes.
func (p *Plan) configure(ctx context.Context, w *nodeWork) error {
	if len(w.late)+len(w.sets)+len(w.addAddrs)+len(w.routes)+len(w.delAddrs) == 0 {
		return nil
	}
	what := func(err error, op string) error { return fmt.Errorf("node %s: %s: %w", w.node.Name, op, err) }
	s, err := w.conn(ctx)
	if err != nil {
		return what(err, "open netlink")
	}
	defer w.closeConn()
	devs, err := s.links()
	if err != nil {
		return what(err, "list links")
	}
	index := map[string]int32{}
	for _, d := range devs {
		index[d.name] = d.index
	}
	if len(w.late) > 0 {
		if err := writeSysctls(w.ns(), w.late); err != nil {
			return what(err, "sysctl")
		}
	}
	for _, e := range w.sets {
		set := e.set
		if set.master < 0 {
			set.master = index[Bridge]
		}
		ix, ok := index[e.ifname]
		if !ok {
			return what(fmt.Errorf("no such interface"), "set "+e.ifname)
		}
		if err := s.setLink(ix, set); err != nil {
			return what(err, "set "+e.ifname)
		}
	}
	for _, a := range w.addAddrs {
		ix, ok := index[a.ifname]
		if !ok {
			return what(fmt.Errorf("no such interface"), "add address "+a.p.String()+" dev "+a.ifname)
		}
		if err := s.addAddr(ix, a.p); err != nil {
			return what(err, "add address "+a.p.String()+" dev "+a.ifname)
		}
	}
	for _, r := range w.routes {
		kr := kroute{dst: r.Dst, via: r.Via, metric: r.Metric}
		if r.Dev != "" {
			kr.oif = index[r.Dev]
		}
		if err := s.addRoute(kr); err != nil {
			return what(err, "add route "+r.String())
		}
	}
	if len(w.delAddrs) > 0 {
		// Deleting an interface's last address flushes the routes
		// through it: put back those of the file that went.
		have, err := s.routes()
		if err != nil {
			return what(err, "list routes")
		}
		names := map[int32]string{}
		for name, ix := range index {
			names[ix] = name
		}
		for _, want := range w.node.Routes {
			found := false
			for _, r := range have {
				found = found || routeMatches(want, r, names)
			}
			if found {
				continue
			}
			kr := kroute{dst: want.Dst, via: want.Via, metric: want.Metric, oif: index[want.Dev]}
			if err := s.addRoute(kr); err != nil {
				return what(err, "add route "+want.String())
			}
			p.mu.Lock()
			p.extra = append(p.extra, Step{Op: "create", Kind: "route", Node: w.node.Name, Object: want.String(), Reason: "flushed with an address"})
			p.mu.Unlock()
		}
	}
	return nil
}
