package main

import (
	"errors"
	"strconv"

	"github.com/setns/setns/netns"
)

// This file holds the verbs that relate namespaces and processes.

// identify is "ip netns identify [PID]": the name of PID's namespace (of
// netns itself without PID). When several names refer to it, ip prints
// the last in directory order, and so does this; none gives an empty line.
func (c *cmd) identify(args []string) result {
	if len(args) > 1 {
		return c.fail(1, "identify: extra arguments")
	}
	pid := "self"
	if len(args) == 1 {
		if !isPID(args[0]) {
			return c.fail(1, "identify: %q is not a PID", args[0])
		}
		pid = args[0]
	}
	ns, err := netns.OpenPath("/proc/" + pid + "/ns/net")
	if err != nil {
		return c.fail(1, "identify %s: %v", pid, cause(err))
	}
	defer ns.Close()
	names, err := netns.Identify(ns)
	if err != nil {
		return c.fail(1, "identify %s: %v", pid, err)
	}
	if len(names) > 0 {
		c.out.WriteString(names[len(names)-1])
	}
	c.out.WriteByte('\n')
	return ok
}

// pids is "ip netns pids NAME": the processes in NAME, one per line.
func (c *cmd) pids(args []string) result {
	if len(args) < 1 {
		return c.fail(1, "pids: no namespace name given")
	}
	if len(args) > 1 {
		return c.fail(1, "pids: extra arguments")
	}
	ns, err := netns.OpenPath(pathOf(args[0]))
	if errors.Is(err, netns.ErrNotNamespace) {
		return ok // no process can be in it; ip finds none either
	}
	if err != nil {
		return c.fail(1, "pids %q: %v", args[0], cause(err))
	}
	defer ns.Close()
	pids, err := netns.PIDs(ns)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	for _, p := range pids {
		c.out.WriteString(strconv.Itoa(p))
		c.out.WriteByte('\n')
	}
	return ok
}

// monitor is "ip netns monitor": "add NAME" and "delete NAME" lines as
// names come and go, each flushed at once. Unlike ip, a name is reported
// added only once it is a usable namespace (see netns.Watcher).
func (c *cmd) monitor([]string) result {
	w, err := netns.Watch()
	if err != nil {
		return c.fail(1, "monitor: %v", cause(err))
	}
	defer w.Close()
	for {
		ev, err := w.Next()
		if err != nil {
			return c.fail(1, "monitor: %v", cause(err))
		}
		c.out.WriteString(ev.String())
		c.out.WriteByte('\n')
		if err := c.out.Flush(); err != nil {
			return c.fail(1, "monitor: %v", err)
		}
	}
}
