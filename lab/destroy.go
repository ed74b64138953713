package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/setns/setns/netns"
)

// Destroy removes everything lab owns by deleting its namespaces (the
// devices in them go with them, which is far quicker than deleting veths
// one by one), and its journal. A namespace is the lab's only when its lo
// carries the lab's marker (or an interrupted apply's journal names it
// and it is empty): a namespace "LAB-x" made by "ip netns add" is left
// alone. Every name in the run directory is looked at, so a lab is
// destroyed even when its file and journal are lost. Destroying a lab
// that has nothing left is not an error (Changes 0).
//
// The marker is read through a handle of the namespace the name refers
// to, and the name is then deleted only while it still refers to that
// namespace (netns.DeleteIf): a name deleted and made again by someone
// else in between is left alone, and is no step of the result.
func Destroy(ctx context.Context, lab string, o *Options) (*Result, error) {
	if !nameRE.MatchString(lab) {
		return nil, fmt.Errorf("lab %q: invalid lab name", lab)
	}
	owned, err := findOwned(ctx, lab)
	defer func() {
		for _, st := range owned {
			st.close()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", lab, err)
	}
	pr := &progress{total: len(owned)}
	if o != nil {
		pr.f = o.Progress
	}
	steps := make([]Step, len(owned))
	err = parallel(ctx, len(owned), func(i int) error {
		st := owned[i]
		_, node, _ := labOf(st.marker)
		if node == "" {
			node = st.name
		}
		done, err := deleteOwned(st)
		if err != nil {
			return err
		}
		if done {
			steps[i] = Step{Op: "delete", Kind: "node", Node: node, Object: st.name}
		}
		pr.step("delete")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", lab, err)
	}
	steps = slices.DeleteFunc(steps, func(s Step) bool { return s.Op == "" })
	if err := removeJournal(lab); err != nil {
		return nil, fmt.Errorf("lab %s: remove journal: %w", lab, err)
	}
	return newResult(&Lab{Name: lab}, steps), nil
}

// testHook, when set by a test, is called with "delete" and the name
// between the ownership check of a namespace and its deletion, so that a
// test can make the name anew there. It is nil in normal use.
var testHook func(step, name string)

// deleteOwned deletes the name of st, a namespace found to be the lab's,
// only while it still refers to that namespace; done is false when it
// does not any more (deleted, or deleted and made again, by another).
// A placeholder (no namespace, see ownedBy) has no handle to compare
// with: its name is deleted as it is, and one made anew by a process that
// does not lock (ip) in the microseconds since it was looked at would go
// with it.
func deleteOwned(st *nodeState) (done bool, err error) {
	if testHook != nil {
		testHook("delete", st.name)
	}
	// A delegated node's user namespace (netns.UserNSDir/NAME) goes
	// with it, when it is the one that owns the namespace deleted.
	var paired bool
	if st.ns == nil {
		err = netns.Delete(st.name)
	} else {
		o, _ := netns.LookupOwner(st.name)
		paired = o != nil && o.Paired
		err = netns.DeleteIf(st.name, st.ns)
	}
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, netns.ErrNotSame) {
		return false, nil
	}
	if err == nil && paired {
		err = netns.RemoveOwner(st.name)
	}
	return err == nil, err
}

// findOwned returns the namespaces lab owns, open.
func findOwned(ctx context.Context, lab string) ([]*nodeState, error) {
	pending := map[string]bool{}
	if j, err := readJournal(lab); err == nil {
		for _, n := range j.Pending {
			pending[n] = true
		}
	}
	names, err := netns.List()
	if err != nil {
		return nil, err
	}
	found := make([]*nodeState, len(names))
	err = parallelN(ctx, readers(), len(names), func(i int) error {
		st, err := ownedBy(ctx, names[i], lab, pending[names[i]])
		found[i] = st
		return err
	})
	var owned []*nodeState
	for _, st := range found {
		if st != nil {
			owned = append(owned, st)
		}
	}
	return owned, err
}
