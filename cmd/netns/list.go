package main

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"

	"github.com/setns/setns/netns"
)

// nameCache is ip's nsid-to-name map (netns_map_init in ip/ipnetns.c):
// built once per run from the first scan of the run directory, the first
// name in directory order winning for each id. list-id takes names from
// it and removes each one it prints; a miss falls back to a fresh scan.
// Keeping ip's state this way makes batches print what ip prints.
type nameCache struct {
	ready bool
	byID  map[int]string
}

func (nc *nameCache) add(id int, name string) {
	if _, taken := nc.byID[id]; id >= 0 && !taken {
		nc.byID[id] = name
	}
}

// scan reads the run directory once and the nsid of every entry, printing
// the kernel's complaints about entries that are not namespaces. exists
// is false when the directory cannot be read (ip then lists nothing).
func (c *cmd) scan() (ids []netns.NamedID, exists bool) {
	names, err := netns.List()
	if err != nil || names == nil {
		return nil, false
	}
	if len(names) == 0 {
		return []netns.NamedID{}, true
	}
	conn, err := c.dial()
	if err != nil {
		c.fail(1, "%v", err)
		ids = make([]netns.NamedID, len(names))
		for i, n := range names {
			ids[i] = netns.NamedID{Name: n, ID: -1, Err: err}
		}
		return ids, true
	}
	ids = conn.NamedIDs(names)
	for _, e := range ids {
		// ip says nothing about entries it cannot open, but prints the
		// kernel's refusal ("Peer netns reference is invalid") of files
		// that are not namespaces.
		var ke *netns.KernelError
		if errors.As(e.Err, &ke) {
			c.fail(0, "nsid of %q: %s", e.Name, kernelText(ke))
		}
	}
	return ids, true
}

// initNames fills the name cache if it is not yet, as ip does before
// list and list-id; the scan is kept for the verb.
func (c *cmd) initNames() {
	if c.names.ready {
		return
	}
	ids, exists := c.scan()
	if !exists {
		return // ip retries next time
	}
	c.scanned = ids
	c.names = nameCache{ready: true, byID: map[int]string{}}
	for _, e := range ids {
		c.names.add(e.ID, e.Name)
	}
}

// list is "ip netns list": each name in directory order, with its nsid.
// Nothing at all, not even "[]", when the run directory cannot be read.
// A delegated namespace (add --owner) gets an "owner" key (the uid) in
// JSON, and with "list --owners" an "owner: uid N (NAME)" in the text;
// plain "list" prints what ip prints.
func (c *cmd) list(args []string) result {
	owners := len(args) > 0 && args[0] == "--owners"
	ids, exists := c.scanned, c.scanned != nil
	if !exists {
		ids, exists = c.scan()
	}
	if !exists {
		return ok
	}
	if c.opt.json {
		j := c.jsonWriter()
		j.startArray()
		for _, e := range ids {
			j.startObject()
			j.stringField("name", e.Name)
			if e.ID >= 0 {
				j.intField("id", e.ID)
			}
			if o := ownerOf(e.Name); o != nil {
				j.intField("owner", int(o.UID))
			}
			j.endObject()
		}
		j.endArray()
		return ok
	}
	for _, e := range ids {
		c.out.WriteString(e.Name)
		if e.ID >= 0 {
			fmt.Fprintf(c.out, " (id: %d)", e.ID)
		}
		if o := ownerOf(e.Name); owners && o != nil {
			fmt.Fprintf(c.out, " (owner: %s)", describeUID(o.UID))
		}
		c.out.WriteByte('\n')
	}
	return ok
}

// ownerOf is the delegation of name when its user namespace owns its
// network namespace, else nil.
func ownerOf(name string) *netns.Owner {
	if o, err := netns.LookupOwner(name); err == nil && o != nil && o.Paired {
		return o
	}
	return nil
}

// describeUID names uid as "uid 1000 (alice)", or "uid 1000".
func describeUID(uid uint32) string {
	s := "uid " + strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}

func (c *cmd) jsonWriter() *jsonWriter {
	return &jsonWriter{w: c.out, pretty: c.opt.pretty}
}

// kernelText formats a kernel error as ip would show its explanation.
func kernelText(ke *netns.KernelError) string {
	if ke.Message == "" {
		return ke.Errno.Error()
	}
	return strings.TrimSuffix(ke.Message, ".") + " (" + ke.Errno.Error() + ")"
}

// listIDArgs parses "[target-nsid N] [nsid M]" as ip does: keywords
// compared whole, values as get_integer, each keyword once.
func listIDArgs(args []string) (target, nsid int, err error) {
	target, nsid = -1, -1
	for i := 0; i < len(args); i++ {
		key := args[i]
		var dst *int
		switch key {
		case "target-nsid":
			dst = &target
		case "nsid":
			dst = &nsid
		default:
			return 0, 0, errHelpUsage
		}
		if *dst >= 0 {
			return 0, 0, &errUsage{fmt.Sprintf("duplicate %q", key)}
		}
		if i++; i == len(args) {
			return 0, 0, &errUsage{fmt.Sprintf("%q needs a value", key)}
		}
		v, ok := getInteger(args[i])
		if !ok {
			return 0, 0, &errUsage{fmt.Sprintf("invalid %q value %q", key, args[i])}
		}
		if v < 0 {
			return 0, 0, &errUsage{fmt.Sprintf("%q value %q should be >= 0", key, args[i])}
		}
		*dst = v
	}
	return target, nsid, nil
}

// listID is "ip netns list-id": the nsids this namespace has assigned,
// from a dump, or the one nsid M; with target-nsid N, as seen from the
// namespace whose nsid is N. Unlike ip, it checks its arguments before
// reading the run directory, so a bad one is refused without first a
// line for each entry that is not a namespace.
func (c *cmd) listID(args []string) result {
	target, nsid, err := listIDArgs(args)
	switch {
	case errors.Is(err, errHelpUsage):
		return c.help(nil)
	case err != nil:
		return c.die(255, "list-id: %v", err)
	}
	c.initNames()
	conn, err := c.dial()
	if err != nil {
		return c.die(1, "%v", err)
	}
	var entries []netns.IDEntry
	if nsid >= 0 {
		e, err := conn.LookupID(nsid, target)
		if err != nil {
			return c.fail(2, "list-id nsid %d: %s", nsid, nsidError(err))
		}
		entries = []netns.IDEntry{e}
	} else if entries, err = conn.IDs(target); err != nil {
		if c.opt.json { // ip has opened the array already
			j := c.jsonWriter()
			j.startArray()
			j.endArray()
		}
		return c.die(1, "list-id: %s", nsidError(err))
	}
	c.printIDs(entries)
	return ok
}

// nsidError formats an nsid error, with the kernel's explanation.
func nsidError(err error) string {
	var ke *netns.KernelError
	if errors.As(err, &ke) {
		return kernelText(ke)
	}
	return cause(err).Error()
}

// printIDs prints entries as ip's print_nsid does, names from the cache.
func (c *cmd) printIDs(entries []netns.IDEntry) {
	var j *jsonWriter
	if c.opt.json {
		j = c.jsonWriter()
		j.startArray()
	}
	for _, e := range entries {
		name, found := c.nameOf(e)
		if j != nil {
			j.startObject()
			if e.ID >= 0 {
				j.intField("nsid", e.ID)
			}
			if e.HasCurrent && e.Current >= 0 {
				j.intField("current-nsid", e.Current)
			}
			if found {
				j.stringField("name", name)
			}
			j.endObject()
			continue
		}
		c.out.WriteString(idText("nsid", e.ID))
		if e.HasCurrent {
			c.out.WriteString(idText("current-nsid", e.Current))
		}
		if found {
			fmt.Fprintf(c.out, "(iproute2 netns name: %s)", name)
		}
		c.out.WriteByte('\n')
	}
	if j != nil {
		j.endArray()
	}
}

// idText is "KEY N " or "KEY unassigned ", trailing space included.
func idText(key string, id int) string {
	if id < 0 {
		return key + " unassigned "
	}
	return fmt.Sprintf("%s %d ", key, id)
}

// nameOf finds the name ip prints for e: the cached name of its current
// id (or of its id when there is no current one), which is then dropped
// from the cache; else the first name in a fresh scan whose nsid is e.ID,
// which is then cached.
func (c *cmd) nameOf(e netns.IDEntry) (string, bool) {
	key := e.ID
	if e.HasCurrent {
		key = e.Current
	}
	if name, found := c.names.byID[key]; found && key >= 0 {
		delete(c.names.byID, key)
		return name, true
	}
	if e.ID < 0 {
		return "", false
	}
	if c.scanned == nil {
		c.scanned, _ = c.scan()
	}
	for _, s := range c.scanned {
		if s.ID == e.ID {
			if c.names.byID == nil {
				c.names.byID = map[int]string{}
			}
			c.names.add(e.ID, s.Name)
			return s.Name, true
		}
	}
	return "", false
}
