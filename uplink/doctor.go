package uplink

import (
	"context"
	"fmt"

	"github.com/setns/setns/netns"
)

// Leftover is a connection whose journal outlived it: its namespace is
// gone (or is another namespace of the same name now), or the process that
// held a temporary connection died.
//
// It is also a lasting connection whose table is gone (an orphaned
// persist table does not survive "nft flush ruleset", which a firewall
// reload runs): then Fix makes the table again instead.
type Leftover struct {
	Name string `json:"name"`
	// Path is the journal.
	Path   string `json:"path"`
	HostIf string `json:"host_if,omitempty"`
	Table  string `json:"table,omitempty"`
	Reason string `json:"reason"`
	// Repair: the connection is alive but its table is gone; Fix makes
	// it again.
	Repair bool `json:"repair,omitempty"`
}

func (l Leftover) String() string {
	return fmt.Sprintf("uplink %q: %s; %s", l.Name, l.Reason, l.What())
}

// What says what Fix does about it.
func (l Leftover) What() string {
	if l.Repair {
		return "fix makes the table again"
	}
	return "journal lists " + l.what()
}

func (l Leftover) what() string {
	if l.HostIf == "" {
		return "a pasta process"
	}
	return fmt.Sprintf("veth %s, table inet %s, sysctls and firewall rules", l.HostIf, l.Table)
}

// Leftovers lists the connections of the host (Options.Host) that are
// leftovers: what "netns doctor" reports.
func Leftovers(o *Options) ([]Leftover, error) {
	var out []Leftover
	err := hostRecords(o, func(host *netns.NS, r *record) {
		if why := r.stale(); why != "" {
			out = append(out, Leftover{Name: r.Name, Path: r.path, HostIf: r.HostIf, Table: r.Table, Reason: why})
		} else if r.Done && r.tableMissing(host) {
			out = append(out, Leftover{Name: r.Name, Path: r.path, HostIf: r.HostIf, Table: r.Table, Repair: true,
				Reason: fmt.Sprintf("table inet %s is gone (flushed by a firewall reload?)", r.Table)})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stale says why r is a leftover, or "" if it is not.
func (r *record) stale() string {
	ns, err := netns.Open(r.Name)
	if err != nil {
		return "namespace gone"
	}
	defer ns.Close()
	if ns.Inode() != r.NSInode {
		return "namespace replaced by another of the same name"
	}
	if !r.Done && !processAlive(r.PID) {
		return fmt.Sprintf("connect by process %d, which died half-way", r.PID)
	}
	if r.Temporary && !processAlive(r.PID) {
		return fmt.Sprintf("temporary connection of process %d, which is gone", r.PID)
	}
	return ""
}

// Fix undoes a leftover's journal, if it is still a leftover (checked
// again under the lock).
func (l Leftover) Fix(ctx context.Context, o *Options) error {
	err := withJournal(o, l.Name, func(host *netns.NS, st *state, r *record) error {
		switch {
		case r.HostInode != host.Inode():
			return nil // another host's
		case r.stale() == "":
			return r.repairTable(host)
		}
		return st.undo(ctx, host, r)
	})
	if err != nil {
		return &Error{"fix", l.Name, err}
	}
	return nil
}
