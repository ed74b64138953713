package uplink

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"sort"
	"sync"

	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// hostNS opens the namespace playing the host: o.Host, or the process's.
func hostNS(o *Options) (*netns.NS, func(), error) {
	if o != nil && o.Host != nil {
		return o.Host, func() {}, nil
	}
	h, err := netns.OpenPID(os.Getpid())
	if err != nil {
		return nil, nil, err
	}
	return h, func() { h.Close() }, nil
}

// Connect connects the named namespace ns to the host (Options.Host) and
// returns the connection. Connecting a namespace that is already
// connected changes nothing and returns the existing connection. On
// failure everything done is undone. With o.Temporary, the caller must
// Close the Uplink (a process that dies instead leaves its table to the
// kernel and the rest to Diagnose/Fix). Errors are *Error. Needs
// CAP_NET_ADMIN and CAP_SYS_ADMIN.
func Connect(ctx context.Context, ns *netns.NS, o *Options) (*Uplink, error) {
	if ns == nil || ns.Name() == "" {
		return nil, &Error{"connect", fmt.Sprint(ns), errors.New("only a named namespace can be connected")}
	}
	name := ns.Name()
	fail := func(err error) (*Uplink, error) { return nil, &Error{"connect", name, err} }
	if err := o.check(); err != nil {
		return fail(err)
	}
	host, closeHost, err := hostNS(o)
	if err != nil {
		return fail(err)
	}
	defer closeHost()
	if ns.Equal(host) {
		return fail(errors.New("the namespace is the host's own"))
	}
	st, err := lockState(o.stateDir())
	if err != nil {
		return fail(err)
	}
	defer st.unlock()

	if r, err := st.load(name); err == nil {
		switch {
		case r.HostInode != host.Inode():
			return fail(fmt.Errorf("already connected from another namespace (inode %d)", r.HostInode))
		case r.Done && r.NSInode == ns.Inode() && r.live(host):
			// A no-op, unless the table is gone: an orphaned persist
			// table does not survive "nft flush ruleset" (a firewall
			// reload), so it is made again.
			if err := r.repairTable(host); err != nil {
				return fail(err)
			}
			u := r.Uplink
			return &u, nil
		}
		// A leftover of an earlier namespace of this name, a dead
		// temporary connection, or a connect that died half-way (under
		// the lock, a journal not done is one whose process is gone):
		// take it back first.
		if err := st.undo(ctx, host, r); err != nil {
			return fail(fmt.Errorf("clean up the earlier connection: %w", err))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}

	mode := NAT
	var publish []Publish
	temporary := false
	if o != nil {
		mode, _ = ParseMode(string(o.Mode))
		publish, temporary = o.Publish, o.Temporary
	}
	r := &record{
		Uplink:    Uplink{Name: name, Mode: mode, Publish: publish, OutIfs: []string{}},
		NSInode:   ns.Inode(),
		HostInode: host.Inode(),
		Temporary: temporary,
		PID:       os.Getpid(),
	}
	if r.Publish == nil {
		r.Publish = []Publish{}
	}
	var k *keeper
	if mode == Pasta {
		err = st.connectPasta(ctx, host, ns, r)
	} else {
		k, err = st.connectNAT(ctx, host, ns, r, o)
	}
	if err != nil {
		if r.path != "" {
			if uerr := st.undo(ctx, host, r); uerr != nil {
				err = fmt.Errorf("%w (and undoing: %v)", err, uerr)
			}
		}
		return fail(err)
	}
	r.Done = true
	if err := st.save(r); err != nil {
		k.close()
		if uerr := st.undo(ctx, host, r); uerr != nil {
			err = fmt.Errorf("%w (and undoing: %v)", err, uerr)
		}
		return fail(err)
	}
	u := r.Uplink
	u.keep = k
	if temporary {
		u.closer = &closer{o: o, name: name}
	}
	return &u, nil
}

// closer disconnects a temporary connection.
type closer struct {
	o    *Options
	name string
}

// Close ends a temporary connection (Options.Temporary): its table goes
// with its socket, then Disconnect undoes the rest. For any other
// connection it does nothing. It is safe to call more than once.
func (u *Uplink) Close() error {
	u.keep.close()
	u.keep = nil
	if u.closer == nil {
		return nil
	}
	c := u.closer
	u.closer = nil
	return Disconnect(context.Background(), c.name, c.o)
}

// live reports whether the connection r describes is in place: for NAT,
// its host end exists (and, if temporary, its process lives); for pasta,
// its process lives.
func (r *record) live(host *netns.NS) bool {
	if r.Temporary && !processAlive(r.PID) {
		return false
	}
	if r.Mode == Pasta {
		for _, s := range r.Steps {
			if s.Kind == stepPasta {
				return pastaAlive(s)
			}
		}
		return false
	}
	c, err := dialRoute(host)
	if err != nil {
		return false
	}
	defer c.Close()
	ls, err := c.Link.List()
	if err != nil {
		return false
	}
	for _, l := range ls {
		if l.Attributes != nil && l.Attributes.Name == r.HostIf {
			return true
		}
	}
	return false
}

// tableMissing reports whether a lasting NAT connection's table is gone.
func (r *record) tableMissing(host *netns.NS) bool {
	if r.Mode != NAT || r.Temporary || r.Table == "" {
		return false
	}
	ok, err := tableExists(host, r.Table)
	return err == nil && !ok
}

// repairTable makes a lasting connection's table again if it is gone.
func (r *record) repairTable(host *netns.NS) error {
	if !r.tableMissing(host) {
		return nil
	}
	_, err := createTable(host, r)
	return err
}

func (st *state) connectNAT(ctx context.Context, host, ns *netns.NS, r *record, o *Options) (*keeper, error) {
	r.HostIf, r.NSIf, r.Table = HostIfName(r.Name), NSIf, TableName(r.Name)
	rc, err := dialRoute(host)
	if err != nil {
		return nil, err
	}
	dsts, outIfs, err := hostRoutes(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	r.OutIfs = outIfs
	if r.OutIfs == nil {
		r.OutIfs = []string{}
	}
	others, err := st.all()
	if err != nil {
		return nil, err
	}
	taken := slices.Clone(dsts)
	for _, x := range others {
		if x.Subnet.IsValid() {
			taken = append(taken, x.Subnet)
		}
	}
	if o != nil && o.Subnet.IsValid() {
		for _, d := range dsts {
			if d.Overlaps(o.Subnet) {
				return nil, fmt.Errorf("subnet %v overlaps the host's route to %v", o.Subnet, d)
			}
		}
		for _, x := range others {
			if x.Subnet.IsValid() && x.Subnet.Overlaps(o.Subnet) {
				return nil, fmt.Errorf("subnet %v overlaps %v of the connection of %q", o.Subnet, x.Subnet, x.Name)
			}
		}
		r.Subnet = o.Subnet
	} else if r.Subnet, err = allocate(o.pool(), taken); err != nil {
		return nil, err
	}
	r.HostAddr, r.NSAddr = firstTwo(r.Subnet)
	ipv6 := o != nil && o.IPv6
	if ipv6 {
		if _, err := readSysctl(host, "net/ipv6/conf/all/force_forwarding"); err != nil {
			return nil, errors.New("--ipv6 needs the force_forwarding sysctl (Linux 6.17 or later): without it IPv6 forwarding is global and stops Router Advertisements")
		}
		r.Subnet6 = ula(r.Subnet)
		a := r.Subnet6.Addr().Next()
		r.HostAddr6, r.NSAddr6 = netip.PrefixFrom(a, 64), netip.PrefixFrom(a.Next(), 64)
	}
	// Refuse a firewall we cannot get past before changing anything.
	fw, err := firewall(host, r.HostIf, ipv6)
	if err != nil {
		return nil, err
	}
	// The journal, now, reserves the subnet.
	if err := st.save(r); err != nil {
		return nil, err
	}

	if err := st.log(r, step{Kind: stepVeth}); err != nil {
		return nil, err
	}
	hostEnd := link.End{NS: host, Name: r.HostIf, Addrs: []netip.Prefix{r.HostAddr}}
	nsEnd := link.End{NS: ns, Name: NSIf, Addrs: []netip.Prefix{r.NSAddr}}
	if ipv6 {
		hostEnd.Addrs = append(hostEnd.Addrs, r.HostAddr6)
		nsEnd.Addrs = append(nsEnd.Addrs, r.NSAddr6)
	}
	if err := link.AddVeth(ctx, hostEnd, nsEnd, &link.Options{Alias: alias(r.Name), NoDAD: true}); err != nil {
		return nil, err
	}
	testHook(stepVeth)
	nc, err := dialRoute(ns)
	if err != nil {
		return nil, err
	}
	err = addDefault(nc, r.HostAddr.Addr(), NSIf)
	if err == nil && ipv6 {
		err = addDefault(nc, r.HostAddr6.Addr(), NSIf)
	}
	nc.Close()
	if err != nil {
		return nil, fmt.Errorf("default route: %w", err)
	}
	// The host end is ours: its sysctls go with it.
	if err := host.SetSysctl("net/ipv4/conf/"+r.HostIf+"/forwarding", "1"); err != nil {
		return nil, err
	}
	if ipv6 {
		if err := host.SetSysctl("net/ipv6/conf/"+r.HostIf+"/force_forwarding", "1"); err != nil {
			return nil, err
		}
	}

	if err := st.log(r, step{Kind: stepTable, Key: r.Table}); err != nil {
		return nil, err
	}
	k, err := createTable(host, r)
	if err != nil {
		return nil, err
	}
	testHook(stepTable)
	ok := false
	defer func() {
		if !ok {
			k.close()
		}
	}()
	for _, f := range fw {
		for _, spec := range ruleSpecs(r.HostIf, Comment(r.Name), len(r.Publish) > 0) {
			s := step{Kind: stepIptables, Bin: f.bin, Chain: f.chain, Args: spec}
			if err := st.log(r, s); err != nil {
				return nil, err
			}
			if err := insertRule(host, s); err != nil {
				return nil, err
			}
			testHook(stepIptables)
		}
	}
	for _, out := range r.OutIfs {
		if err := st.sysctlUp(host, r, "net/ipv4/conf/"+out+"/forwarding"); err != nil {
			return nil, err
		}
		if ipv6 {
			if err := st.sysctlUp(host, r, "net/ipv6/conf/"+out+"/force_forwarding"); err != nil {
				return nil, err
			}
		}
	}
	ok = true
	return k, nil
}

// alias is the ifalias of both ends: the ownership marker.
func alias(name string) string {
	a := "setns:uplink=" + name
	if len(a) > 255 {
		a = "setns:uplink=" + HostIfName(name)
	}
	return a
}

// ula is the IPv6 /64 of a connection: from a /48 in fd00::/8 derived from
// the machine id (RFC 4193's pseudo-random global ID), with the IPv4
// subnet's number as subnet ID, so it is as free as the IPv4 one.
func ula(v4 netip.Prefix) netip.Prefix {
	id, _ := os.ReadFile("/etc/machine-id")
	sum := sha256.Sum256(append([]byte("setns-uplink-ula\x00"), id...))
	var b [16]byte
	b[0] = 0xfd
	copy(b[1:6], sum[:5])
	a4 := v4.Addr().As4()
	n := (uint32(a4[2])<<8 | uint32(a4[3])) >> 2
	b[6], b[7] = byte(n>>8), byte(n)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// sysctlUp sets a shared host sysctl to 1, journalling the value found.
// The journal holding the value found is the first connection that
// needed the key; later ones only count.
func (st *state) sysctlUp(host *netns.NS, r *record, key string) error {
	old, err := readSysctl(host, key)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	s := step{Kind: stepSysctl, Key: key, Set: "1"}
	if st.holder(r, key) == nil {
		s.Old = old
	}
	if err := st.log(r, s); err != nil {
		return err
	}
	if old != "1" {
		if err := host.SetSysctl(key, "1"); err != nil {
			return err
		}
	}
	testHook(stepSysctl)
	return nil
}

// testHook runs after each journalled change; tests kill the process
// there to check that doctor undoes a connect that died half-way.
var testHook = func(kind string) {}

// holder finds another connection on the same host whose journal has a
// step for key, preferring the one holding the value found.
func (st *state) holder(r *record, key string) *record {
	all, _ := st.all()
	var any *record
	for _, x := range all {
		if x.HostInode != r.HostInode || x.path == r.path || x.Name == r.Name {
			continue
		}
		for _, s := range x.Steps {
			if s.Kind == stepSysctl && s.Key == key {
				if s.Old != "" {
					return x
				}
				any = x
			}
		}
	}
	return any
}

// sysctlDown undoes a sysctl step: if another connection still counts on
// the key, the value found passes to it; else it is written back.
func (st *state) sysctlDown(host *netns.NS, r *record, s step) error {
	if s.Old == "" {
		return nil // someone else holds the value found
	}
	if x := st.holder(r, s.Key); x != nil {
		for i := range x.Steps {
			if x.Steps[i].Kind == stepSysctl && x.Steps[i].Key == s.Key {
				x.Steps[i].Old = s.Old
				return st.save(x)
			}
		}
	}
	cur, err := readSysctl(host, s.Key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // the interface is gone
		}
		return err
	}
	if cur == s.Old {
		return nil
	}
	return host.SetSysctl(s.Key, s.Old)
}

// undo takes back every step of r, last first, then the conntrack
// entries of its addresses, then the journal. Steps already undone (a
// veth gone with its namespace, a table removed by the kernel) are fine.
//
// The veth and the table each wait for an RCU grace period in the kernel
// (about 15 ms apiece), so they go last and at the same time; the
// conntrack entries are flushed once the veth is gone and no new one can
// come (the dump walks the kernel's whole table, about 10 ms, so it is
// skipped when the host tracks nothing).
func (st *state) undo(ctx context.Context, host *netns.NS, r *record) error {
	var errs []error
	var slow []int // indexes of the veth and table steps
	for i := len(r.Steps) - 1; i >= 0; i-- {
		s := r.Steps[i]
		var err error
		switch s.Kind {
		case stepVeth, stepTable:
			slow = append(slow, i)
			continue
		case stepIptables:
			err = deleteRule(host, s)
		case stepSysctl:
			err = st.sysctlDown(host, r, s)
		case stepPasta:
			err = stopPasta(s)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Steps[i].Kind = "" // done
	}
	var wg sync.WaitGroup
	slowErrs := make([]error, len(slow)+1)
	for j, i := range slow {
		s := r.Steps[i]
		do := func() {
			var err error
			if s.Kind == stepVeth {
				if err = link.Delete(ctx, host, r.HostIf); errors.Is(err, fs.ErrNotExist) {
					err = nil
				}
			} else {
				err = destroyTable(host, s.Key)
			}
			if err == nil {
				r.Steps[i].Kind = ""
			}
			slowErrs[j] = err
		}
		if s.Kind == stepVeth {
			do() // here: the conntrack flush waits for it
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); do() }()
	}
	if r.Mode == NAT {
		var addrs []netip.Addr
		for _, p := range []netip.Prefix{r.NSAddr, r.HostAddr, r.NSAddr6, r.HostAddr6} {
			if p.IsValid() {
				addrs = append(addrs, p.Addr())
			}
		}
		_, slowErrs[len(slow)] = flushConntrack(host, addrs)
	}
	wg.Wait()
	for _, err := range slowErrs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	r.Steps = slices.DeleteFunc(r.Steps, func(s step) bool { return s.Kind == "" })
	if len(errs) > 0 {
		_ = st.save(r)
		return errors.Join(errs...)
	}
	return st.remove(r)
}

// Disconnect undoes NAME's connection: exactly what its journal lists.
// A namespace that is not connected is not an error (Disconnect is
// idempotent). Errors are *Error.
func Disconnect(ctx context.Context, name string, o *Options) error {
	err := withJournal(o, name, func(host *netns.NS, st *state, r *record) error {
		if r.HostInode != host.Inode() {
			return fmt.Errorf("connected from another namespace (inode %d)", r.HostInode)
		}
		return st.undo(ctx, host, r)
	})
	if err != nil {
		return &Error{"disconnect", name, err}
	}
	return nil
}

// withJournal runs f on NAME's journal with the host namespace open and
// the journals locked; a name with no journal is not an error (f does not
// run).
func withJournal(o *Options, name string, f func(host *netns.NS, st *state, r *record) error) error {
	host, closeHost, err := hostNS(o)
	if err != nil {
		return err
	}
	defer closeHost()
	st, err := lockState(o.stateDir())
	if err != nil {
		return err
	}
	defer st.unlock()
	r, err := st.load(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f(host, st, r)
}

// Connected reports whether NAME has a journal in o's state directory.
func Connected(name string, o *Options) bool {
	_, err := os.Stat((&state{dir: o.stateDir()}).pathOf(name))
	return err == nil
}

// List returns the connections made from the host (Options.Host), by name.
func List(o *Options) ([]Uplink, error) {
	out := []Uplink{}
	err := hostRecords(o, func(_ *netns.NS, r *record) { out = append(out, r.Uplink) })
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// hostRecords calls f for each journal made from the host (Options.Host),
// with the host namespace open.
func hostRecords(o *Options, f func(host *netns.NS, r *record)) error {
	host, closeHost, err := hostNS(o)
	if err != nil {
		return err
	}
	defer closeHost()
	rs, err := (&state{dir: o.stateDir()}).all()
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.HostInode == host.Inode() {
			f(host, r)
		}
	}
	return nil
}

// processAlive reports whether pid exists and has not died (a zombie
// has: only its parent has not reaped it yet).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	start, zombie := procStat(pid)
	return start != 0 && !zombie
}
