package lab

import (
	"context"
	"net/netip"
)

// Status is what the kernel holds of a lab, and how it differs from the
// file; it encodes to JSON as is.
type Status struct {
	Lab   string       `json:"lab"`
	Nodes []NodeStatus `json:"nodes"`
	Links []LinkStatus `json:"links"`
	// Drift lists what an apply would change; empty when the kernel
	// matches the file.
	Drift []Step `json:"drift"`
}

// NodeStatus is one node as found.
type NodeStatus struct {
	Name      string                    `json:"name"`
	Namespace string                    `json:"namespace"`
	Kind      string                    `json:"kind,omitempty"`
	Exists    bool                      `json:"exists"` // the namespace exists and is the lab's
	Addrs     map[string][]netip.Prefix `json:"addresses,omitempty"`
}

// LinkStatus is one link of the file as found.
type LinkStatus struct {
	Endpoints [2]string `json:"endpoints"`
	Exists    bool      `json:"exists"` // both ends, paired and marked
	Up        bool      `json:"up"`     // both ends up
}

// GetStatus compares l with the kernel without changing anything.
func GetStatus(ctx context.Context, l *Lab) (*Status, error) {
	p, err := MakePlan(ctx, l)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	st := &Status{Lab: l.Name, Drift: p.Steps, Nodes: []NodeStatus{}, Links: []LinkStatus{}}
	if st.Drift == nil {
		st.Drift = []Step{}
	}
	created := map[*Link]bool{}
	for _, lk := range p.links {
		created[lk] = true
	}
	for _, w := range p.work {
		ns := NodeStatus{Name: w.node.Name, Namespace: w.name, Kind: w.node.Kind, Exists: !w.create}
		if !w.create {
			names := map[int32]string{}
			for _, d := range w.state.devs {
				names[d.index] = d.name
			}
			for _, a := range w.state.addrs {
				if a.proto != Proto {
					continue
				}
				if ns.Addrs == nil {
					ns.Addrs = map[string][]netip.Prefix{}
				}
				ns.Addrs[names[a.index]] = append(ns.Addrs[names[a.index]], a.p)
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	for _, lk := range l.Links {
		ls := LinkStatus{Endpoints: [2]string{lk.Ends[0].String(), lk.Ends[1].String()}, Exists: !created[lk]}
		if ls.Exists {
			ls.Up = true
			for _, e := range lk.Ends {
				if d := p.byNode[e.Node].state.byName[e.Ifname]; d == nil || !d.up {
					ls.Up = false
				}
			}
		}
		st.Links = append(st.Links, ls)
	}
	return st, nil
}
