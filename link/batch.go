package link

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/setns/setns/netns"
)

// Batch makes many veth pairs at once, for callers that build whole
// topologies (package lab): every pair is one RTM_NEWLINK with both ends
// born in their namespaces, as with AddVeth, and all of them go through
// one rtnetlink socket, pipelined, since the kernel creates links one at
// a time under its RTNL lock whatever the number of writers. Create makes
// the pairs only: the caller brings the ends up, sets their ifalias and
// adds addresses, per namespace, where that work runs in parallel.
//
// The zero Batch is empty and ready to use. A Batch is not safe for
// concurrent use.
type Batch struct {
	pairs []batchPair
}

type batchPair struct {
	a, b End
	o    *Options
}

// Veth queues the pair a–b. Only o's MTU and Group are used (both are
// set in the creating message; Group is then the pair's only mark);
// nothing is sent before Create.
func (b *Batch) Veth(a, z End, o *Options) { b.pairs = append(b.pairs, batchPair{a, z, o}) }

// Len is the number of pairs queued.
func (b *Batch) Len() int { return len(b.pairs) }

// BatchError is Create's error for one pair: the one at Index (in the
// order of Veth calls) failed, and none after it was tried. The pairs
// before it were made.
type BatchError struct {
	Index int
	Err   *Error
}

func (e *BatchError) Error() string { return e.Err.Error() }

func (e *BatchError) Unwrap() error { return e.Err }

// pipelineDepth is how many requests Create writes at once.
const pipelineDepth = 64

// Create makes every queued pair: both ends in their namespaces (a nil
// NS is the process's), with their names, MACs (StableMAC, as AddVeth
// gives, unless an End has its own), MTU and group, both down, no
// ifalias. Everything is checked before any system call, as AddVeth
// checks it; a bad pair gives a *BatchError with nothing made. Requests
// are sent 64 to a write on one socket in the caller's namespace, and
// acknowledged in order; done, if not nil, is called with each pair's
// index once it exists. The calling thread is never moved. Needs
// CAP_NET_ADMIN and CAP_SYS_ADMIN.
func (b *Batch) Create(ctx context.Context, done func(i int)) error {
	for i, p := range b.pairs {
		if err := check(p.a, p.b, p.o); err != nil {
			var e *Error
			errors.As(err, &e)
			return &BatchError{Index: i, Err: e}
		}
	}
	var self *netns.NS
	defer func() {
		if self != nil {
			self.Close()
		}
	}()
	msgs := make([][]byte, len(b.pairs))
	for i := range b.pairs {
		p := &b.pairs[i]
		for _, e := range []*End{&p.a, &p.b} {
			if e.NS == nil {
				if self == nil {
					ns, err := processNS()
					if err != nil {
						return &BatchError{Index: i, Err: &Error{Op: "add", Endpoint: e.String(), Err: err}}
					}
					self = ns
				}
				e.NS = self
			}
			if e.MAC == nil {
				e.MAC = defaultMAC(e.NS, e.Name)
			}
		}
		m, err := pairMessage(p.a, p.b, p.o)
		if err != nil {
			return &BatchError{Index: i, Err: &Error{Op: "add", Endpoint: p.a.String(), Err: err}}
		}
		msgs[i] = m
	}
	// The socket's own namespace does not matter (each end names its
	// own); it is the process's.
	var err error
	if self == nil {
		self, err = processNS()
	}
	var c *conn
	if err == nil {
		c, err = dial(ctx, self)
	}
	if err != nil {
		return &BatchError{Index: 0, Err: &Error{Op: "add", Endpoint: Host, Err: err}}
	}
	defer c.Close()
	for start := 0; start < len(msgs); start += pipelineDepth {
		if err := ctx.Err(); err != nil {
			return &BatchError{Index: start, Err: &Error{Op: "add", Endpoint: b.pairs[start].a.String(), Err: err}}
		}
		end := min(start+pipelineDepth, len(msgs))
		failed, err := c.pipeline(msgs[start:end], func(i int) {
			if done != nil {
				done(start + i)
			}
		})
		if err != nil {
			p := b.pairs[start+max(failed, 0)]
			return &BatchError{Index: start + max(failed, 0), Err: &Error{Op: "add", Endpoint: p.a.String(), Err: err}}
		}
	}
	for _, p := range b.pairs {
		runtime.KeepAlive(p.a.NS)
		runtime.KeepAlive(p.b.NS)
	}
	return nil
}

// pairMessage is the RTM_NEWLINK that makes the pair a–b, both ends down.
func pairMessage(a, z End, o *Options) ([]byte, error) {
	opts := &Options{Down: true}
	if o != nil {
		opts.MTU, opts.Group = o.MTU, o.Group
	}
	peer, err := linkMessage(z, opts, false)
	if err != nil {
		return nil, err
	}
	data, err := attrs(func(ae *netlink.AttributeEncoder) { ae.Bytes(vethInfoPeer, peer) })
	if err != nil {
		return nil, err
	}
	return linkMessage(a, opts, false, &rtnetlink.LinkInfo{Kind: "veth", Data: &rtnetlink.LinkData{Name: "veth", Data: data}})
}

// pipeline sends msgs (RTM_NEWLINK requests that create) in one write,
// then reads their acknowledgements, which the kernel sends in order, one
// per request, going on past a failed one. It returns the index of the
// first failure and its error (-1 and nil if none); done is called for
// each success before it.
func (c *conn) pipeline(msgs [][]byte, done func(i int)) (int, error) {
	batch := make([]netlink.Message, len(msgs))
	for i, m := range msgs {
		batch[i] = netlink.Message{
			Header: netlink.Header{Type: rtmNewLink, Flags: netlink.Request | netlink.Acknowledge | netlink.Create | netlink.Excl},
			Data:   m,
		}
	}
	if _, err := c.c.SendMessages(batch); err != nil {
		return 0, err
	}
	failed, first := -1, error(nil)
	for i := range msgs {
		_, err := c.c.Receive()
		if err != nil {
			if failed < 0 {
				failed, first = i, netns.AsKernelError(err)
			}
			var oe *netlink.OpError
			if !errors.As(err, &oe) {
				return failed, first // the socket failed: no more answers
			}
			continue
		}
		if failed < 0 {
			done(i)
		}
	}
	if failed >= 0 && first == nil {
		first = fmt.Errorf("request %d failed", failed)
	}
	return failed, first
}
