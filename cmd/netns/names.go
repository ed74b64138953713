package main

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/setns/setns/internal/runas"
	"github.com/setns/setns/netns"
)

// This file holds the verbs that make, name and remove namespaces.

// add is "ip netns add NAME". Extra words are ignored, as by ip. Unlike
// ip, it brings the loopback device up, as setns does. "add --owner
// USER[:GROUP] NAME" delegates NAME to USER (netns.CreateOwned).
func (c *cmd) add(args []string) result {
	owner := ""
	if len(args) > 0 && (args[0] == "--owner" || strings.HasPrefix(args[0], "--owner=")) {
		if v, found := strings.CutPrefix(args[0], "--owner="); found {
			owner, args = v, args[1:]
		} else if len(args) > 1 {
			owner, args = args[1], args[2:]
		} else {
			return c.fail(1, "add: --owner needs USER[:GROUP]")
		}
		if owner == "" {
			return c.fail(1, "add: --owner needs USER[:GROUP]")
		}
	}
	if len(args) < 1 {
		return c.fail(1, "add: no namespace name given")
	}
	opts := &netns.CreateOptions{Warn: c.warn}
	var ns *netns.NS
	var err error
	if owner != "" {
		u, uerr := runas.Lookup(owner)
		if uerr != nil {
			return c.fail(1, "add %q: --owner: %v", args[0], uerr)
		}
		ns, err = netns.CreateOwned(args[0], u.Cred.UID, u.Cred.GID, opts)
	} else {
		ns, err = netns.Create(args[0], opts)
	}
	if err != nil {
		return c.fail(1, "%v", err)
	}
	ns.Close()
	return ok
}

// attach is "ip netns attach NAME PID". PID is read as ip reads it
// (get_s32: "0x1f" and " 12" work); 0 is refused.
func (c *cmd) attach(args []string) result {
	if len(args) < 2 {
		return c.fail(1, "attach: no namespace name and PID given")
	}
	pid, valid := getInteger(args[1])
	if !valid || pid == 0 {
		return c.fail(1, "attach: invalid PID %q", args[1])
	}
	ns, err := netns.Attach(args[0], pid)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	ns.Close()
	return ok
}

// set is "ip netns set NAME NETNSID": assign NAME an nsid in this
// namespace. Netlink errors give exit status 2, as in ip.
func (c *cmd) set(args []string) result {
	if len(args) < 1 {
		return c.fail(1, "set: no namespace name given")
	}
	if len(args) < 2 {
		return c.fail(1, "set: no nsid given")
	}
	name, id := args[0], -1
	if args[1] != "auto" {
		v, valid := getInteger(args[1])
		if !valid || v < 0 {
			return c.die(255, "set: invalid nsid %q (want auto or an integer >= 0)", args[1])
		}
		id = v
	}
	ns, err := netns.OpenPath(pathOf(name))
	if errors.Is(err, netns.ErrNotNamespace) {
		// ip hands any file to the kernel, which refuses it: status 2.
		return c.fail(2, "set %q: %v", name, cause(err))
	}
	if err != nil {
		return c.fail(1, "set %q: %v", name, cause(err))
	}
	defer ns.Close()
	conn, err := c.dial()
	if err == nil {
		err = conn.SetID(ns, id)
	}
	if err != nil {
		return c.fail(2, "set %q nsid %s: %s", name, args[1], nsidError(err))
	}
	return ok
}

// delete is "ip netns delete NAME"; with -all it deletes every name.
// Extra words are ignored, as by ip.
func (c *cmd) delete(args []string) result {
	if c.opt.all {
		return c.deleteAll()
	}
	if len(args) < 1 {
		return c.fail(1, "delete: no namespace name given")
	}
	c.disconnectFirst(args[0])
	if err := deleteName(args[0]); err != nil {
		return c.fail(1, "%v", err)
	}
	return ok
}

// deleteName deletes NAME and, once its network namespace is gone (or
// was already), the user namespace of a delegated NAME.
func deleteName(name string) error {
	err := netns.Delete(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		if rerr := netns.RemoveOwner(name); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// deleteAll deletes every name in directory order. Unlike ip, which stops
// at the first failure and still exits 0, it goes on with the others and
// exits 1 if any failed.
func (c *cmd) deleteAll() result {
	names, err := netns.List()
	if err != nil {
		return c.fail(1, "%v", err)
	}
	r := ok
	for _, n := range names {
		c.disconnectFirst(n)
		if err := deleteName(n); err != nil {
			r = c.fail(1, "%v", err)
		}
	}
	return r
}
