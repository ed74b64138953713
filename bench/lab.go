package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/setns/setns/lab"
)

// The lab comparisons: a chain of c.labNodes nodes (node i linked to node
// i+1, a /31 per link, one route per node, lo up everywhere), written by
// lab.Chain, applied from nothing, re-applied unchanged and destroyed.
// The shell side of the apply is the quickest shell equivalent: one "ip
// -batch" for the namespaces and the links (both ends created in their
// namespaces), then one "ip -n NODE -batch" per node for lo and the links
// up, the addresses and the route.
const (
	labName   = "benchchain"
	labFile   = "/run/bench-chain.yaml"
	shellFile = "/run/bench-chain.ip"
)

func labComparisons(c *config) []comparison {
	pairs := netnsPairs(c, c.labPairs)
	apply := []string{c.netns, "lab", "apply", labFile}
	list := []comparison{
		{
			key: "lab-apply", title: fmt.Sprintf("`netns lab apply`, %d-node chain from nothing, vs `ip -batch` + one `ip -n NODE -batch` per node", c.labNodes),
			goal: 0.40, absGoal: 1500 * time.Millisecond, pairs: pairs,
			ours: side{prep: labPrep(c, false), steps: run1(apply...)},
			theirs: side{prep: labPrep(c, false), steps: func(int) [][]string {
				steps := [][]string{{"ip", "-batch", shellFile}}
				for i := 1; i <= c.labNodes; i++ {
					steps = append(steps, []string{"ip", "-n", fmt.Sprintf("%s-n%d", labName, i), "-batch", fmt.Sprintf("%s.n%d", shellFile, i)})
				}
				return steps
			}},
		},
		{
			key: "lab-reapply", title: fmt.Sprintf("`netns lab apply` again, %d-node chain unchanged (0 changes)", c.labNodes),
			absGoal: 200 * time.Millisecond, pairs: pairs,
			ours: side{prep: labPrep(c, true), steps: run1(apply...)},
		},
		{
			key: "lab-destroy", title: fmt.Sprintf("`netns lab destroy`, %d-node chain, vs `ip -all netns delete`", c.labNodes),
			absGoal: time.Second, pairs: pairs,
			ours:   side{prep: labPrep(c, true), steps: run1(c.netns, "lab", "destroy", labName)},
			theirs: side{prep: labPrep(c, true), steps: run1("ip", "-all", "netns", "delete")},
		},
	}
	if c.labNodes != 1000 { // the goals are for 1000 nodes
		for i := range list {
			list[i].goal, list[i].absGoal = 0, 0
		}
	}
	return list
}

// labPrep writes the lab file and the shell's batch files, then leaves
// the lab applied (present) or no namespace at all.
func labPrep(c *config, present bool) func(int) error {
	return func(int) error {
		if err := writeLabFiles(c.labNodes); err != nil {
			return err
		}
		if !present {
			if err := population(1); err != nil {
				return err
			}
			// Deleted namespaces holding veths keep the kernel busy
			// (under RTNL) well after the 0.4 ms each population waits:
			// let that finish before the next measurement.
			time.Sleep(1500 * time.Millisecond)
			return os.RemoveAll(lab.StateDir)
		}
		l, err := lab.ParseFile(labFile)
		if err != nil {
			return err
		}
		if _, err = lab.Apply(context.Background(), l, nil); err == nil {
			return nil
		}
		// The shell side's namespaces, unmarked, are in the way.
		if err := population(1); err != nil {
			return err
		}
		_, err = lab.Apply(context.Background(), l, nil)
		return err
	}
}

var labFilesWritten bool

// writeLabFiles writes the chain's lab file and its shell equivalent,
// once.
func writeLabFiles(n int) error {
	if labFilesWritten {
		return nil
	}
	text := lab.Chain(labName, n)
	if err := os.WriteFile(labFile, []byte(text), 0o644); err != nil {
		return err
	}
	l, err := lab.Parse(labFile, []byte(text))
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, node := range l.Nodes {
		fmt.Fprintf(&b, "netns add %s\n", l.Namespace(node.Name))
	}
	for _, lk := range l.Links {
		a, z := lk.Ends[0], lk.Ends[1]
		fmt.Fprintf(&b, "link add name %s netns %s type veth peer name %s netns %s\n", a.Ifname, l.Namespace(a.Node), z.Ifname, l.Namespace(z.Node))
	}
	if err := os.WriteFile(shellFile, []byte(b.String()), 0o644); err != nil {
		return err
	}
	for _, node := range l.Nodes {
		var nb strings.Builder
		nb.WriteString("link set lo up\n")
		for _, ifname := range sortedKeys(node.Addrs) {
			fmt.Fprintf(&nb, "link set %s up\n", ifname)
			for _, p := range node.Addrs[ifname] {
				fmt.Fprintf(&nb, "addr add %s dev %s\n", p, ifname)
			}
		}
		for _, r := range node.Routes {
			fmt.Fprintf(&nb, "route add %s\n", r)
		}
		if err := os.WriteFile(fmt.Sprintf("%s.%s", shellFile, node.Name), []byte(nb.String()), 0o644); err != nil {
			return err
		}
	}
	labFilesWritten = true
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
