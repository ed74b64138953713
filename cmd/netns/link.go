package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// This file holds "netns link", not in ip netns: veth pairs between
// namespaces, a thin layer over package link. An endpoint is NS:IF; the
// namespace netns runs in (the host, or the -n namespace) is ".", which
// cannot name a namespace. Usage errors exit 255, failures 1.

// linkVerbs are link's own verbs, matched by prefix in this order ("l"
// is list, "s" show, "a" add, "d" delete).
var linkVerbs = []struct {
	names []string
	run   func(c *cmd, args []string) result
}{
	{[]string{"list", "show", "lst"}, (*cmd).linkList},
	{[]string{"add"}, (*cmd).linkAdd},
	{[]string{"delete"}, (*cmd).linkDel},
}

// link is "netns link [list | add | delete] ...".
func (c *cmd) link(args []string) result {
	if len(args) == 0 {
		return c.linkList(nil)
	}
	for _, v := range linkVerbs {
		for _, n := range v.names {
			if matches(args[0], n) {
				return v.run(c, args[1:])
			}
		}
	}
	return c.fail(255, "link: unknown command %q, try \"netns help\"", args[0])
}

// linkAdd is "netns link add NS1:IF1 NS2:IF2 [--addr CIDR]...": the first
// --addr is NS1's end's, the second NS2's.
func (c *cmd) linkAdd(args []string) result {
	ends, err := parseLinkAdd(args)
	if err != nil {
		return c.fail(255, "link add: %v", err)
	}
	for i := range ends {
		if ends[i].NS == nil && ends[i].nsName != link.Host {
			if ends[i].NS, err = openEnd(ends[i].nsName); err != nil {
				return c.fail(1, "link add %q: %v", args[ends[i].arg], err)
			}
			defer ends[i].NS.Close()
		}
	}
	if err := link.AddVeth(context.Background(), ends[0].End, ends[1].End, nil); err != nil {
		return c.fail(1, "%v", err)
	}
	return ok
}

// linkEnd is an endpoint of "link add" as parsed, before its namespace
// is opened.
type linkEnd struct {
	link.End
	nsName string // link.Host for this namespace
	arg    int    // index of the NS:IF word in the arguments
}

// parseLinkAdd reads "NS1:IF1 NS2:IF2 [--addr CIDR]..." (--addr=CIDR
// too, anywhere), checking every name and address; it opens nothing.
func parseLinkAdd(args []string) ([2]linkEnd, error) {
	var ends [2]linkEnd
	n, naddr := 0, 0
	for i := 0; i < len(args); i++ {
		w := args[i]
		val, isAddr := strings.CutPrefix(w, "--addr=")
		switch {
		case isAddr:
		case w == "--addr":
			if i+1 >= len(args) {
				return ends, errors.New("--addr needs a value (ADDRESS/LEN)")
			}
			i++
			val = args[i]
		case strings.HasPrefix(w, "-"):
			return ends, fmt.Errorf("unknown option %q", w)
		case n == 2:
			return ends, fmt.Errorf("want two endpoints NS1:IF1 NS2:IF2, got a third, %q", w)
		default:
			nsName, ifname, err := link.SplitEndpoint(w)
			if err != nil {
				return ends, err
			}
			ends[n].nsName, ends[n].Name, ends[n].arg = nsName, ifname, i
			n++
			continue
		}
		p, err := netip.ParsePrefix(val)
		if err != nil {
			return ends, fmt.Errorf("invalid --addr %q: want ADDRESS/LEN", val)
		}
		if naddr == 2 {
			return ends, errors.New("--addr given more than twice (NS1's end, then NS2's)")
		}
		ends[naddr].Addrs = []netip.Prefix{p}
		naddr++
	}
	if n != 2 {
		return ends, fmt.Errorf("want two endpoints NS1:IF1 NS2:IF2, got %d", n)
	}
	return ends, nil
}

// openEnd opens the namespace of an endpoint. It must exist: link add
// joins namespaces, it does not make them.
func openEnd(name string) (*netns.NS, error) {
	ns, err := netns.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no namespace %q (make it with \"netns add %s\")", name, name)
	}
	if err != nil {
		return nil, cause(err)
	}
	return ns, nil
}

// linkDel is "netns link del NS:IF".
func (c *cmd) linkDel(args []string) result {
	if len(args) != 1 {
		return c.fail(255, "link del: want one endpoint NS:IF")
	}
	nsName, ifname, err := link.SplitEndpoint(args[0])
	if err != nil {
		return c.fail(255, "link del: %v", err)
	}
	var ns *netns.NS
	if nsName != link.Host {
		if ns, err = openEnd(nsName); err != nil {
			return c.fail(1, "link del %q: %v", args[0], err)
		}
		defer ns.Close()
	}
	if err := link.Delete(context.Background(), ns, ifname); err != nil {
		return c.fail(1, "%v", err)
	}
	return ok
}

// linkList is "netns link list [NS] [-j]": the links setns made in NS,
// or in this namespace and every named one, each with its peer.
func (c *cmd) linkList(args []string) result {
	jsonOut, which := c.opt.json, ""
	for _, w := range args {
		switch {
		case w == "-j" || w == "-json" || w == "--json":
			jsonOut = true
		case strings.HasPrefix(w, "-"):
			return c.fail(255, "link list: unknown option %q", w)
		case which != "":
			return c.fail(255, "link list: want at most one namespace")
		default:
			which = w
		}
	}
	spaces, here, closeAll, err := c.linkSpaces()
	defer closeAll()
	if err != nil {
		return c.fail(1, "link list: %v", err)
	}
	listed := spaces
	if which != "" {
		listed = nil
		for i, ns := range spaces {
			if which == link.Host && i == here || ns != nil && ns.Name() == which {
				listed = append(listed, ns)
			}
		}
		if len(listed) == 0 {
			if err := netns.ValidName(which); err != nil && which != link.Host {
				return c.fail(255, "link list: %v", err)
			}
			return c.fail(1, "link list: no namespace %q", which)
		}
	}
	links, err := link.List(context.Background(), listed, &link.ListOptions{Peers: spaces})
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if jsonOut {
		if links == nil {
			links = []link.Link{} // [], not null
		}
		return c.printJSON(links)
	}
	for _, l := range links {
		c.printLink(l)
	}
	return ok
}

// linkSpaces opens this namespace (nil) and every named one; names that
// cannot be opened (placeholders, junk: see doctor) are left out, and so
// is this namespace when it has a name (under -n), to be listed once.
// here is the index of this namespace in spaces.
func (c *cmd) linkSpaces() (spaces []*netns.NS, here int, closeAll func(), err error) {
	spaces = []*netns.NS{nil}
	self, err := netns.OpenPID(os.Getpid())
	if err == nil {
		defer self.Close()
	}
	closeAll = func() {
		for _, ns := range spaces {
			if ns != nil {
				ns.Close()
			}
		}
	}
	names, err := netns.List()
	if err != nil {
		return spaces, 0, closeAll, err
	}
	for _, n := range names {
		if ns, err := netns.Open(n); err == nil {
			if spaces[0] == nil && ns.Equal(self) {
				spaces = spaces[1:]
				here = len(spaces)
			}
			spaces = append(spaces, ns)
		}
	}
	return spaces, here, closeAll, nil
}

// printLink prints one end as
//
//	NS:IF <-> PEERNS:PEERIF up|down MAC [ADDR/LEN]...
//
// with "?:ifN" for a peer in no named namespace.
func (c *cmd) printLink(l link.Link) {
	peer := l.Peer.NS + ":" + l.Peer.Name
	if l.Peer.NS == "" {
		peer = fmt.Sprintf("?:if%d", l.Peer.Index)
	}
	state := "down"
	if l.Up {
		state = "up"
	}
	fmt.Fprintf(c.out, "%s:%s <-> %s %s %s", l.NS, l.Name, peer, state, l.MAC)
	for _, a := range l.Addrs {
		fmt.Fprintf(c.out, " %s", a)
	}
	fmt.Fprintln(c.out)
}

// printJSON prints v as JSON, indented with -p.
func (c *cmd) printJSON(v any) result {
	var b []byte
	var err error
	if c.opt.pretty {
		b, err = json.MarshalIndent(v, "", "    ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return c.fail(1, "%v", err)
	}
	c.out.Write(append(b, '\n'))
	return ok
}
