package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"text/tabwriter"

	"github.com/setns/setns/internal/rootless"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

// This file holds "netns connect", "disconnect" and "connections", not in
// ip netns: a namespace's uplink to the namespace netns runs in (the
// host, or the -n namespace) and through it to the internet, a thin layer
// over package uplink. Usage errors exit 255, failures 1.

// connect is "netns connect NAME [--subnet CIDR] [--pool CIDR] [--ipv6]
// [--publish [HOSTIP:]HOSTPORT:PORT[/udp]]... [--mode nat|pasta]".
func (c *cmd) connect(args []string) result {
	name, o, err := parseConnect(args)
	if err != nil {
		return c.fail(255, "connect: %v", err)
	}
	ns, err := netns.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return c.fail(1, "connect %q: no such namespace", name)
	}
	if err != nil {
		return c.fail(1, "connect %q: %v", name, cause(err))
	}
	defer ns.Close()
	if dir := rootless.StateDir(); dir != "" {
		// Rootless: pasta, run here (the host's network namespace, the
		// keeper's user namespace), as the user; NAT would change the
		// host's firewall and links, which only root may.
		if o.Mode == uplink.NAT {
			return c.fail(1, "connect %q: nat mode needs root on the host (rootless mode connects with --mode pasta, the default)", name)
		}
		o.Mode, o.StateDir = uplink.Pasta, dir+"/uplink"
	}
	u, err := uplink.Connect(context.Background(), ns, o)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	fmt.Fprintln(c.out, u.String())
	return ok
}

// parseConnect reads connect's arguments (--opt VALUE or --opt=VALUE,
// anywhere), checking every value; it opens nothing.
func parseConnect(args []string) (string, *uplink.Options, error) {
	o := &uplink.Options{}
	name := ""
	for i := 0; i < len(args); i++ {
		w := args[i]
		opt, val, hasVal := strings.Cut(w, "=")
		if !strings.HasPrefix(w, "-") {
			if name != "" {
				return "", nil, fmt.Errorf("want one namespace name, got %q and %q", name, w)
			}
			name = w
			continue
		}
		if opt == "--ipv6" {
			if hasVal {
				return "", nil, errors.New("--ipv6 takes no value")
			}
			o.IPv6 = true
			continue
		}
		switch opt {
		case "--subnet", "--pool", "--publish", "--mode":
		default:
			return "", nil, fmt.Errorf("unknown option %q", w)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("%s needs a value", opt)
			}
			i++
			val = args[i]
		}
		switch opt {
		case "--subnet", "--pool":
			p, err := netip.ParsePrefix(val)
			if err != nil {
				return "", nil, fmt.Errorf("invalid %s %q: want ADDRESS/LEN", opt, val)
			}
			if opt == "--subnet" {
				o.Subnet = p
			} else {
				o.Pool = p
			}
		case "--publish":
			p, err := uplink.ParsePublish(val)
			if err != nil {
				return "", nil, err
			}
			o.Publish = append(o.Publish, p)
		case "--mode":
			m, err := uplink.ParseMode(val)
			if err != nil {
				return "", nil, err
			}
			o.Mode = m
		}
	}
	if name == "" {
		return "", nil, errors.New("no namespace name given")
	}
	if err := netns.ValidName(name); err != nil {
		return "", nil, err
	}
	if err := uplink.CheckOptions(o); err != nil {
		return "", nil, err
	}
	return name, o, nil
}

// disconnect is "netns disconnect NAME | --all".
func (c *cmd) disconnect(args []string) result {
	if len(args) != 1 {
		return c.fail(255, "disconnect: want one namespace name or --all")
	}
	names := []string{args[0]}
	if args[0] == "--all" || c.opt.all {
		us, err := uplink.List(uplinkOptions())
		if err != nil {
			return c.fail(1, "disconnect: %v", err)
		}
		names = names[:0]
		for _, u := range us {
			names = append(names, u.Name)
		}
	} else if strings.HasPrefix(args[0], "-") {
		return c.fail(255, "disconnect: unknown option %q", args[0])
	}
	r := ok
	for _, n := range names {
		if err := uplink.Disconnect(context.Background(), n, uplinkOptions()); err != nil {
			r = c.fail(1, "%v", err)
		}
	}
	return r
}

// connections is "netns connections [-j]".
func (c *cmd) connections(args []string) result {
	jsonOut := c.opt.json
	for _, w := range args {
		if w != "-j" && w != "-json" && w != "--json" {
			return c.fail(255, "connections: unknown argument %q", w)
		}
		jsonOut = true
	}
	us, err := uplink.List(uplinkOptions())
	if err != nil {
		return c.fail(1, "connections: %v", err)
	}
	if jsonOut {
		return c.printJSON(us)
	}
	if len(us) == 0 {
		return ok
	}
	tw := tabwriter.NewWriter(c.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODE\tADDRESS\tHOST-ADDRESS\tHOST-IF\tOUT\tPUBLISH")
	for _, u := range us {
		pub := make([]string, len(u.Publish))
		for i, p := range u.Publish {
			pub[i] = p.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Mode, addrs(u.NSAddr, u.NSAddr6), addrs(u.HostAddr, u.HostAddr6),
			dash(u.HostIf), dash(strings.Join(u.OutIfs, ",")), dash(strings.Join(pub, ",")))
	}
	tw.Flush()
	return ok
}

// uplinkOptions is where the uplink journals are: the host's
// uplink.DefaultStateDir, or in rootless mode the user's own directory.
func uplinkOptions() *uplink.Options {
	dir := uplink.DefaultStateDir
	if d := rootless.StateDir(); d != "" {
		dir = d + "/uplink"
	}
	return &uplink.Options{StateDir: dir}
}

func addrs(ps ...netip.Prefix) string {
	var s []string
	for _, p := range ps {
		if p.IsValid() {
			s = append(s, p.String())
		}
	}
	return dash(strings.Join(s, ","))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// disconnectFirst undoes NAME's uplink, if it has one, before the
// namespace is deleted; a failure is reported and the delete goes on
// (netns doctor finds what is left).
func (c *cmd) disconnectFirst(name string) {
	if !uplink.Connected(name, uplinkOptions()) {
		return
	}
	if err := uplink.Disconnect(context.Background(), name, uplinkOptions()); err != nil {
		c.warn(err)
	}
}

// doctorUplinks is doctor's part for uplinks: the journals of connections
// whose namespace is gone or whose setns --uplink died, undone with fix.
// Each row is path, kind, detail and action, as doctor prints findings.
func (c *cmd) doctorUplinks(fix bool) (rows [][4]string, left int) {
	ls, err := uplink.Leftovers(uplinkOptions())
	if err != nil {
		return [][4]string{{uplinkOptions().StateDir, "uplink", err.Error(), "left alone: cannot read the journals"}}, 1
	}
	for _, l := range ls {
		action, done := "would undo it (--fix)", "undone"
		if l.Repair {
			action, done = "would make the table again (--fix)", "table made again"
		}
		if fix {
			if err := l.Fix(context.Background(), uplinkOptions()); err != nil {
				action = "failed: " + err.Error()
				left++
			} else {
				action = done
			}
		} else {
			left++
		}
		rows = append(rows, [4]string{l.Path, "uplink", fmt.Sprintf("%q: %s; %s", l.Name, l.Reason, l.What()), action})
	}
	return rows, left
}
