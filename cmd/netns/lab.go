package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/setns/setns/internal/pty"
	"github.com/setns/setns/lab"
)

// This file holds "netns lab", not in ip netns: declarative topologies
// of namespaces, links, bridges, addresses, routes and sysctls from one
// file, a thin layer over package lab. Usage errors exit 255, failures
// 1; status exits 1 when the kernel has drifted from the file.

// labVerbs are lab's own verbs, matched by prefix in this order.
var labVerbs = []struct {
	names []string
	run   func(c *cmd, args []string) result
}{
	{[]string{"apply"}, (*cmd).labApply},
	{[]string{"destroy"}, (*cmd).labDestroy},
	{[]string{"status"}, (*cmd).labStatus},
	{[]string{"graph"}, (*cmd).labGraph},
}

// lab is "netns lab apply | destroy | status | graph ...".
func (c *cmd) lab(args []string) result {
	if len(args) == 0 {
		return c.fail(255, "lab: want apply, destroy, status or graph, try \"netns help\"")
	}
	for _, v := range labVerbs {
		for _, n := range v.names {
			if matches(args[0], n) {
				return v.run(c, args[1:])
			}
		}
	}
	return c.fail(255, "lab: unknown command %q, try \"netns help\"", args[0])
}

// labArgs are the words after a lab verb.
type labArgs struct {
	target  string // FILE or LAB
	json    bool
	dryRun  bool
	mermaid bool
}

// parseLabArgs reads "[TARGET] [flags]": flags may come anywhere; those
// not in allowed are refused.
func parseLabArgs(verb string, args []string, allowed ...string) (labArgs, error) {
	var a labArgs
	for _, w := range args {
		flag := w
		if strings.HasPrefix(w, "--") {
			flag = w[1:]
		}
		switch {
		case (flag == "-j" || flag == "-json") && contains(allowed, "-j"):
			a.json = true
		case flag == "-dry-run" && contains(allowed, "--dry-run"):
			a.dryRun = true
		case flag == "-mermaid" && contains(allowed, "--mermaid"):
			a.mermaid = true
		case strings.HasPrefix(w, "-") && w != "-":
			return a, fmt.Errorf("lab %s: unknown option %q", verb, w)
		case a.target != "":
			return a, fmt.Errorf("lab %s: want one FILE or LAB, got %q too", verb, w)
		default:
			a.target = w
		}
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isFile tells a lab file from a lab name: a name has no "/" and no
// dot-extension, and is not an existing file.
func isFile(target string) bool {
	if strings.ContainsRune(target, '/') || target == "-" {
		return true
	}
	switch filepath.Ext(target) {
	case ".yaml", ".yml", ".json":
		return true
	}
	fi, err := os.Stat(target)
	return err == nil && fi.Mode().IsRegular()
}

// loadLab parses a lab file ("-": stdin) or, for a lab name, the file
// last applied as the journal records it.
func (c *cmd) loadLab(target string) (*lab.Lab, error) {
	if target == "-" {
		b, err := io.ReadAll(c.stdin)
		if err != nil {
			return nil, err
		}
		return lab.Parse("<stdin>", b)
	}
	if isFile(target) {
		return lab.ParseFile(target)
	}
	l, err := lab.Recorded(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lab %s: no record of it (no file %q either); give its file", target, target)
	}
	return l, err
}

// context is cancelled by SIGINT or SIGTERM: an apply stops between
// steps, and applying again converges.
func (c *cmd) context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// labApply is "netns lab apply FILE [--dry-run] [-j]".
func (c *cmd) labApply(args []string) result {
	a, err := parseLabArgs("apply", args, "-j", "--dry-run")
	if err != nil {
		return c.fail(255, "%v", err)
	}
	if a.target == "" {
		return c.fail(255, "lab apply: want a lab FILE")
	}
	a.json = a.json || c.opt.json
	l, err := c.loadLabFile(a.target)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	ctx, cancel := c.context()
	defer cancel()
	pg := c.progress(l.Name, "apply", a.json)
	p, err := lab.MakePlan(ctx, l)
	if err != nil {
		pg.stop()
		return c.fail(1, "%v", err)
	}
	defer p.Close()
	if a.dryRun {
		pg.stop()
		res := &lab.Result{Lab: l.Name, Changes: p.Changes(), Steps: p.Steps}
		if res.Steps == nil {
			res.Steps = []lab.Step{}
		}
		if a.json {
			return c.printJSON(struct {
				*lab.Result
				DryRun bool `json:"dry_run"`
			}{res, true})
		}
		for _, s := range p.Steps {
			fmt.Fprintln(c.out, s)
		}
		fmt.Fprintf(c.out, "lab %s: %d changes (dry run: nothing done)\n", l.Name, p.Changes())
		return ok
	}
	res, err := p.Execute(ctx, &lab.Options{Progress: pg.update})
	pg.stop()
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if a.json {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.out, "lab %s: %d changes (%d created, %d changed, %d deleted)\n", l.Name, res.Changes, res.Created, res.Changed, res.Deleted)
	return ok
}

// loadLabFile is loadLab for verbs that need a file.
func (c *cmd) loadLabFile(target string) (*lab.Lab, error) {
	if !isFile(target) {
		if _, err := os.Stat(target); err != nil {
			return nil, fmt.Errorf("lab apply: %w", err)
		}
	}
	return c.loadLab(target)
}

// labDestroy is "netns lab destroy FILE|LAB [-j]".
func (c *cmd) labDestroy(args []string) result {
	a, err := parseLabArgs("destroy", args, "-j")
	if err != nil {
		return c.fail(255, "%v", err)
	}
	if a.target == "" {
		return c.fail(255, "lab destroy: want a lab FILE or LAB name")
	}
	a.json = a.json || c.opt.json
	name := a.target
	if isFile(a.target) {
		l, err := c.loadLab(a.target)
		if err != nil {
			return c.fail(1, "%v", err)
		}
		name = l.Name
	}
	ctx, cancel := c.context()
	defer cancel()
	pg := c.progress(name, "destroy", a.json)
	res, err := lab.Destroy(ctx, name, &lab.Options{Progress: pg.update})
	pg.stop()
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if a.json {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.out, "lab %s: %d namespaces deleted\n", name, res.Changes)
	return ok
}

// labStatus is "netns lab status [FILE|LAB] [-j]": without one, every lab
// with a record. It exits 1 when the kernel differs from the file.
func (c *cmd) labStatus(args []string) result {
	a, err := parseLabArgs("status", args, "-j")
	if err != nil {
		return c.fail(255, "%v", err)
	}
	a.json = a.json || c.opt.json
	var labs []*lab.Lab
	if a.target != "" {
		l, err := c.loadLab(a.target)
		if err != nil {
			return c.fail(1, "%v", err)
		}
		labs = append(labs, l)
	} else {
		names, _ := filepath.Glob(filepath.Join(lab.StateDir, "*.json"))
		sort.Strings(names)
		for _, n := range names {
			l, err := lab.Recorded(strings.TrimSuffix(filepath.Base(n), ".json"))
			if err != nil {
				c.warn(err)
				continue
			}
			labs = append(labs, l)
		}
	}
	ctx, cancel := c.context()
	defer cancel()
	code := 0
	var all []*lab.Status
	for _, l := range labs {
		st, err := lab.GetStatus(ctx, l)
		if err != nil {
			return c.fail(1, "%v", err)
		}
		if len(st.Drift) > 0 {
			code = 1
		}
		all = append(all, st)
	}
	if a.json {
		var r result
		if a.target != "" {
			r = c.printJSON(all[0])
		} else {
			if all == nil {
				all = []*lab.Status{}
			}
			r = c.printJSON(all)
		}
		if r.code == 0 {
			r.code = code
		}
		return r
	}
	for _, st := range all {
		c.printStatus(st)
	}
	return result{code: code}
}

// printStatus prints a lab's nodes, links and drift:
//
//	lab demo: drifted (2 changes to apply)
//	node r1 demo-r1 ok eth0=10.0.1.1/24 ...
//	link r1:eth0 -- h1:eth0 up
//	drift: create route h1 default via 10.0.1.1
func (c *cmd) printStatus(st *lab.Status) {
	state := "matches its file"
	if len(st.Drift) > 0 {
		state = fmt.Sprintf("drifted (%d changes to apply)", len(st.Drift))
	}
	fmt.Fprintf(c.out, "lab %s: %s\n", st.Lab, state)
	for _, n := range st.Nodes {
		exists := "missing"
		if n.Exists {
			exists = "ok"
		}
		fmt.Fprintf(c.out, "node %s %s %s", n.Name, n.Namespace, exists)
		ifs := make([]string, 0, len(n.Addrs))
		for i := range n.Addrs {
			ifs = append(ifs, i)
		}
		sort.Strings(ifs)
		for _, i := range ifs {
			for _, p := range n.Addrs[i] {
				fmt.Fprintf(c.out, " %s=%s", i, p)
			}
		}
		fmt.Fprintln(c.out)
	}
	for _, l := range st.Links {
		state := "missing"
		switch {
		case l.Exists && l.Up:
			state = "up"
		case l.Exists:
			state = "down"
		}
		fmt.Fprintf(c.out, "link %s -- %s %s\n", l.Endpoints[0], l.Endpoints[1], state)
	}
	for _, s := range st.Drift {
		fmt.Fprintf(c.out, "drift: %s\n", s)
	}
}

// labGraph is "netns lab graph FILE|LAB [--mermaid]".
func (c *cmd) labGraph(args []string) result {
	a, err := parseLabArgs("graph", args, "--mermaid")
	if err != nil {
		return c.fail(255, "%v", err)
	}
	if a.target == "" {
		return c.fail(255, "lab graph: want a lab FILE or LAB name")
	}
	l, err := c.loadLab(a.target)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if err := lab.Graph(c.out, l, a.mermaid); err != nil {
		return c.fail(1, "%v", err)
	}
	return ok
}

// progressLine draws "netns: lab NAME: PHASE DONE/TOTAL" on stderr,
// rewritten in place, once an operation has run for half a second; only
// on a terminal and never with -j. Calling it clears the line.
type progressLine struct {
	mu      sync.Mutex
	last    lab.Progress
	drawn   bool
	closed  bool
	done    chan struct{}
	stopped sync.Once
	f       *os.File
	label   string
}

// progress starts the indicator and returns the function that stops it,
// with an update method to feed lab.Options.Progress.
func (c *cmd) progress(name, verb string, quiet bool) *progressStop {
	f, isFile := c.stderr.(*os.File)
	if quiet || !isFile || !pty.IsTerminal(f) {
		return &progressStop{}
	}
	c.out.Flush()
	p := &progressLine{done: make(chan struct{}), f: f, label: "netns: lab " + name + ": " + verb}
	go p.run()
	return &progressStop{p: p}
}

// progressStop stops a progress line; its zero value does nothing.
type progressStop struct{ p *progressLine }

func (s *progressStop) update(pr lab.Progress) {
	if s.p != nil {
		s.p.mu.Lock()
		s.p.last = pr
		s.p.mu.Unlock()
	}
}

func (p *progressLine) run() {
	select {
	case <-p.done:
		return
	case <-time.After(500 * time.Millisecond):
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		pr := p.last
		line := p.label
		if pr.Total > 0 {
			line += fmt.Sprintf(": %s %d/%d", pr.Phase, pr.Done, pr.Total)
		}
		fmt.Fprintf(p.f, "\r\033[K%s", line)
		p.drawn = true
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// stop ends the indicator and clears its line.
func (s *progressStop) stop() {
	if s.p == nil {
		return
	}
	s.p.stopped.Do(func() {
		close(s.p.done)
		s.p.mu.Lock()
		defer s.p.mu.Unlock()
		s.p.closed = true
		if s.p.drawn {
			fmt.Fprint(s.p.f, "\r\033[K")
		}
	})
}
