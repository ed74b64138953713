package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/mdlayher/netlink"
)

// An nsid is the number by which one network namespace knows another
// (network_namespaces(7) has none; see "ip netns set" in ip-netns(8)). Ids
// are per namespace: the id 7 in the namespace you run in may be 3, or
// nothing, inside another one. Once assigned, an id stays until either
// namespace dies. The kernel assigns ids only when asked to ("ip netns
// set", "ip link ... link-netns") or when it needs one (a veth pair that
// spans namespaces); a freshly created namespace has none.

// IDConn is a netlink (NETLINK_ROUTE) socket for reading and assigning
// nsids, as "ip netns list", "ip netns set" and "ip netns list-id" do. It
// works in the network namespace of the thread that called DialIDs, with
// extended acknowledgements on, so kernel errors carry the kernel's
// explanation (see KernelError). Methods must not be called concurrently.
type IDConn struct {
	c *netlink.Conn
}

// idBatch is how many requests NamedIDs sends per write. Every reply waits
// in the socket's receive buffer until it is read; 64 replies fit easily.
const idBatch = 64

// DialIDs opens an IDConn in the calling thread's network namespace. It
// needs no privilege; assigning ids with SetID needs CAP_NET_ADMIN.
func DialIDs() (*IDConn, error) {
	c, err := netlink.Dial(netlinkRoute, &netlink.Config{
		Strict: true, // NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK, as ip
		// Replies are small; dumps come in skbs of at most 32 KiB (the
		// kernel sizes them after the largest read, capped there), so a
		// fixed buffer spares the peek before every read.
		MessageBufferSize: 32 << 10,
	})
	if err != nil {
		return nil, newError("dial", "rtnetlink", err)
	}
	// As ip (rtnl_open): room for pipelined replies.
	_ = c.SetReadBuffer(1 << 20)
	return &IDConn{c: c}, nil
}

// Close closes the socket.
func (c *IDConn) Close() error { return c.c.Close() }

// KernelError is an error the kernel returned for a netlink request. The
// kernel often explains it (an extended acknowledgement); iproute2 prints
// that explanation as "Error: MESSAGE.".
type KernelError struct {
	Errno   syscall.Errno
	Message string // the kernel's explanation, "" when it gave none
}

func (e *KernelError) Error() string {
	if e.Message == "" {
		return e.Errno.Error()
	}
	return e.Message + " (" + e.Errno.Error() + ")"
}

func (e *KernelError) Unwrap() error { return e.Errno }

// AsKernelError turns an error of mdlayher/netlink (and so of
// jsimonetti/rtnetlink) into a *KernelError when it is the kernel's answer
// to a request, with the kernel's extended-ack text, and returns other
// errors unchanged. errors.Is then works with fs.ErrExist and the like.
func AsKernelError(err error) error {
	// The kernel's answers carry a bare errno; failures of the socket
	// itself wrap theirs in an *os.SyscallError.
	var oe *netlink.OpError
	if errors.As(err, &oe) {
		if errno, ok := oe.Err.(syscall.Errno); ok {
			return &KernelError{Errno: errno, Message: oe.Message}
		}
	}
	return err
}

// message builds an nsid request: a struct rtgenmsg (AF_UNSPEC, padded to
// four bytes) followed by the attributes enc adds.
func message(typ uint16, flags netlink.HeaderFlags, enc func(ae *netlink.AttributeEncoder)) (netlink.Message, error) {
	ae := netlink.NewAttributeEncoder()
	enc(ae)
	attrs, err := ae.Encode()
	if err != nil {
		return netlink.Message{}, err
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: flags},
		Data:   append([]byte{afUnspec, 0, 0, 0}, attrs...),
	}, nil
}

// IDEntry is one answer about an nsid (an RTM_NEWNSID message).
type IDEntry struct {
	// ID is the peer's nsid: in the connection's namespace, or, when the
	// request named a target, in the target. -1 means none is assigned.
	ID int
	// Current is the peer's nsid in the connection's namespace, present
	// (HasCurrent) only when the request named a target; -1 means none.
	Current    int
	HasCurrent bool
}

func parseEntry(m netlink.Message) (IDEntry, error) {
	e := IDEntry{ID: -1, Current: -1}
	if len(m.Data) < 4 {
		return e, fmt.Errorf("short nsid message (%d bytes)", len(m.Data))
	}
	ad, err := netlink.NewAttributeDecoder(m.Data[4:])
	if err != nil {
		return e, err
	}
	for ad.Next() {
		switch ad.Type() {
		case netnsaNSID:
			e.ID = int(ad.Int32())
		case netnsaCurrentNSID:
			e.Current, e.HasCurrent = int(ad.Int32()), true
		}
	}
	return e, ad.Err()
}

// ID returns the nsid of ns in the connection's namespace, or -1 when it
// has none (the "(id: N)" of "ip netns list"). It never assigns one.
func (c *IDConn) ID(ns *NS) (int, error) {
	var id int
	err := ns.use("nsid", func(fd int) error {
		m, err := message(rtmGetNSID, netlink.Request, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netnsaFD, uint32(fd))
		})
		if err != nil {
			return err
		}
		e, err := c.execute(m)
		id = e.ID
		return err
	})
	if err != nil {
		return -1, newError("nsid", ns.String(), err)
	}
	return id, nil
}

// execute sends one request and parses the one RTM_NEWNSID it answers.
func (c *IDConn) execute(m netlink.Message) (IDEntry, error) {
	msgs, err := c.c.Execute(m)
	if err != nil {
		return IDEntry{}, AsKernelError(err)
	}
	if len(msgs) != 1 || msgs[0].Header.Type != rtmNewNSID {
		return IDEntry{}, fmt.Errorf("unexpected answer to RTM_GETNSID: %d messages", len(msgs))
	}
	return parseEntry(msgs[0])
}

// SetID assigns ns the nsid id in the connection's namespace, like
// "ip netns set NAME ID"; a negative id lets the kernel pick the lowest
// free one ("ip netns set NAME auto"). An id, once assigned, cannot be
// changed: the kernel then fails with EEXIST, as it does when id is
// taken; errors.As with *KernelError gives its explanation. Needs
// CAP_NET_ADMIN over the connection's namespace.
func (c *IDConn) SetID(ns *NS, id int) error {
	err := ns.use("set nsid", func(fd int) error {
		m, err := message(rtmNewNSID, netlink.Request|netlink.Acknowledge, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netnsaFD, uint32(fd))
			ae.Int32(netnsaNSID, int32(max(id, -1)))
		})
		if err != nil {
			return err
		}
		_, err = c.c.Execute(m)
		return AsKernelError(err)
	})
	if err != nil {
		return newError("set nsid", ns.String(), err)
	}
	return nil
}

// LookupID asks which namespace has the nsid id in the connection's
// namespace. With target >= 0, the answer's ID is that namespace's id as
// seen from the namespace whose nsid is target, and Current is id
// ("ip netns list-id target-nsid TARGET nsid ID"). An unknown id fails
// with ENOENT, an unknown target with EINVAL.
func (c *IDConn) LookupID(id, target int) (IDEntry, error) {
	m, err := message(rtmGetNSID, netlink.Request, func(ae *netlink.AttributeEncoder) {
		ae.Int32(netnsaNSID, int32(id))
		if target >= 0 {
			ae.Int32(netnsaTargetNSID, int32(target))
		}
	})
	if err == nil {
		var e IDEntry
		if e, err = c.execute(m); err == nil {
			return e, nil
		}
	}
	return IDEntry{}, newError("lookup nsid", fmt.Sprint(id), err)
}

// IDs lists the nsids the connection's namespace has assigned, in
// ascending order, like "ip netns list-id". With target >= 0 it lists
// those of the namespace whose nsid is target instead, each with its id
// in the connection's namespace as Current ("list-id target-nsid N").
func (c *IDConn) IDs(target int) ([]IDEntry, error) {
	m, err := message(rtmGetNSID, netlink.Request|netlink.Dump, func(ae *netlink.AttributeEncoder) {
		if target >= 0 {
			ae.Int32(netnsaTargetNSID, int32(target))
		}
	})
	if err != nil {
		return nil, newError("list nsids", "", err)
	}
	msgs, err := c.c.Execute(m)
	if err != nil {
		return nil, newError("list nsids", "", AsKernelError(err))
	}
	out := make([]IDEntry, 0, len(msgs))
	for _, m := range msgs {
		if m.Header.Type != rtmNewNSID {
			continue
		}
		e, err := parseEntry(m)
		if err != nil {
			return nil, newError("list nsids", "", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// NamedID is the nsid of one name in RunDir, as NamedIDs found it.
type NamedID struct {
	Name string
	ID   int   // -1 when none is assigned or it could not be read
	Err  error // why ID could not be read; nil when ID is valid or -1 for "none"
}

// NamedIDs looks up the nsid of each name in RunDir, like the "(id: N)"
// of "ip netns list", and returns them in the order given. As ip, it
// opens each file (symlinks followed) and asks the kernel, which refuses
// files that are not namespaces: the entry's Err then wraps a
// *KernelError; a file that cannot be opened has an Err of Op "open".
//
// Requests are pipelined: all go out in a few writes on the one socket,
// then the replies are matched to them by sequence number, so a large
// directory costs one round trip per batch, not per name. And when the
// connection's namespace has assigned no nsid at all (the usual case: the
// kernel makes them only on request, or for a veth pair that spans
// namespaces), the id of every network namespace is -1, so only the
// entries that are not one are asked about, for the kernel's complaint.
// As with ip, an id assigned while NamedIDs runs may or may not be seen.
func (c *IDConn) NamedIDs(names []string) []NamedID {
	out := make([]NamedID, len(names))
	for i, n := range names {
		out[i] = NamedID{Name: n, ID: -1}
	}
	var ask []int
	if ids, err := c.IDs(-1); err == nil && len(ids) == 0 {
		ask = notNetNS(out)
	} else {
		ask = make([]int, len(out))
		for i := range ask {
			ask[i] = i
		}
	}
	for start := 0; start < len(ask); start += idBatch {
		c.namedBatch(out, ask[start:min(start+idBatch, len(ask))])
	}
	return out
}

// notNetNS returns the indices of the entries of out whose files are not
// network namespaces, or cannot be opened to tell. Each entry costs one
// name_to_handle_at relative to the run directory (netNSAt), which tells a
// network namespace from a namespace of another type, a placeholder, junk
// file or directory without opening anything; an entry it cannot tell
// about is opened and checked (isNetNSFile). The stat of an entry would
// not do: every namespace, of any type, has the one device of nsfs. The
// entries are looked at from up to GOMAXPROCS goroutines.
func notNetNS(out []NamedID) []int {
	dir, err := openDirPath(RunDir)
	if err != nil {
		dir = -1 // every entry is opened instead
	} else {
		defer closeFd(dir)
	}
	bad := make([]bool, len(out))
	workers := min(runtime.GOMAXPROCS(0), 8, len(out)/256+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(out); i += workers {
				isNet, known := false, false
				if dir >= 0 {
					isNet, known = netNSAt(dir, out[i].Name)
				}
				if !known {
					isNet = isNetNSFile(RunDir + "/" + out[i].Name)
				}
				bad[i] = !isNet
			}
		}()
	}
	wg.Wait()
	var ask []int
	for i, b := range bad {
		if b {
			ask = append(ask, i)
		}
	}
	return ask
}

// namedBatch fills in the ids of the entries of out listed in which, at
// most idBatch of them.
func (c *IDConn) namedBatch(out []NamedID, which []int) {
	msgs, idx, fds := requests(out, which)
	if len(msgs) == 0 {
		return
	}
	sent, err := c.c.SendMessages(msgs)
	// The kernel handles each request during the write (rtnetlink is
	// synchronous), so the files are no longer needed.
	for _, fd := range fds {
		closeFd(fd)
	}
	if err != nil {
		for _, i := range idx {
			out[i].Err = newError("nsid", out[i].Name, err)
		}
		return
	}
	bySeq := make(map[uint32]int, len(sent))
	for k, m := range sent {
		bySeq[m.Header.Sequence] = idx[k]
	}
	c.collect(out, bySeq)
}

// requests opens each entry of out listed in which and builds its
// RTM_GETNSID request; idx maps each request to its entry. The caller
// closes fds.
func requests(out []NamedID, which []int) (msgs []netlink.Message, idx, fds []int) {
	for _, i := range which {
		e := &out[i]
		fd, err := openFollow(RunDir + "/" + e.Name)
		if err != nil {
			e.Err = newError("open", e.Name, os.NewSyscallError("open", err))
			continue
		}
		fds = append(fds, fd)
		m, err := message(rtmGetNSID, netlink.Request, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netnsaFD, uint32(fd))
		})
		if err != nil {
			e.Err = newError("nsid", e.Name, err)
			continue
		}
		msgs = append(msgs, m)
		idx = append(idx, i)
	}
	return msgs, idx, fds
}

// collect reads one reply per outstanding request in bySeq.
func (c *IDConn) collect(batch []NamedID, bySeq map[uint32]int) {
	for len(bySeq) > 0 {
		msgs, err := c.c.Receive()
		if err != nil {
			var oe *netlink.OpError
			if errors.As(err, &oe) {
				if i, ok := bySeq[oe.Sequence]; ok {
					batch[i].Err = newError("nsid", batch[i].Name, AsKernelError(err))
					delete(bySeq, oe.Sequence)
					continue
				}
			}
			for seq, i := range bySeq { // the socket failed: give up on the rest
				batch[i].Err = newError("nsid", batch[i].Name, err)
				delete(bySeq, seq)
			}
			return
		}
		for _, m := range msgs {
			i, ok := bySeq[m.Header.Sequence]
			if !ok || m.Header.Type != rtmNewNSID {
				continue
			}
			delete(bySeq, m.Header.Sequence)
			e, err := parseEntry(m)
			batch[i].ID = e.ID
			if err != nil {
				batch[i].Err = newError("nsid", batch[i].Name, err)
			}
		}
	}
}
