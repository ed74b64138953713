package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/setns/setns/netns"
)

// maxArgs is ip's MAX_ARGS: a batch line has at most maxArgs-1 words.
const maxArgs = 512

var (
	errTooManyArgs  = errors.New("too many arguments on the line")
	errUnterminated = errors.New("unterminated quoted string")
	errContinuation = errors.New("missing continuation line")
)

// ipObjects are ip's objects up to netns, in the order ip's do_cmd tries
// them: a batch line's first word must select netns there ("net",
// "netn", "netns"; "n" and "ne" are neighbor).
var ipObjects = []string{
	"address", "addrlabel", "maddress", "route", "rule", "neighbor",
	"neighbour", "ntable", "ntbl", "link", "l2tp", "fou", "ila", "macsec",
	"tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics",
	"tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns",
}

// isNetnsObject reports whether word selects netns among ip's objects.
func isNetnsObject(word string) bool {
	for _, o := range ipObjects {
		if matches(word, o) {
			return o == "netns"
		}
	}
	return false
}

// runBatch is "ip -batch FILE" (FILE "-" is stdin) for netns lines: each
// line is "netns VERB ...". A failed line prints "command failed
// FILE:LINE" and ends the batch, unless -force; the status is then 1.
//
// Runs of "add NAME" lines are faster than one by one (see addQueue):
// each name is reserved in order, and the namespaces are made in
// parallel; what is printed, the exit status and what is left in the run
// directory are those of running the lines one by one.
func (c *cmd) runBatch(file string) int {
	in := c.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return c.fail(1, "batch: %v", err).code
		}
		defer f.Close()
		in = f
	}
	c.batch = true
	lines := &lineReader{r: bufio.NewReader(in)}
	q := &addQueue{c: c, file: file}
	defer q.close()
	status := 0
	for {
		words, err := lines.next()
		if err == nil && len(words) == 0 {
			continue
		}
		if name, isAdd := c.batchAdd(words); err == nil && isAdd {
			if q.add(lines.n, name) {
				return 1
			}
			continue
		}
		// Any other line sees what the adds before it made.
		if q.drain() {
			return 1
		}
		if q.failed {
			status = 1
		}
		if err == io.EOF {
			return status
		}
		if err == errContinuation { // ip stops reading, keeping its status
			c.fail(0, "batch %s:%d: %v", file, lines.n, err)
			return status
		}
		if err != nil {
			return c.fail(1, "batch %s:%d: %v", file, lines.n, err).code
		}
		var r result
		if isNetnsObject(words[0]) {
			r = c.dispatch(words[1:])
		} else {
			r = c.fail(1, "batch %s:%d: %q is not netns", file, lines.n, words[0])
		}
		if r.exit {
			return r.code
		}
		if r.code != 0 {
			c.fail(1, "command failed %s:%d", file, lines.n)
			status = 1
			if !c.opt.force {
				return status
			}
		}
	}
}

// batchAdd reports whether the batch line words is "netns add NAME" with
// a valid NAME (anything after NAME is ignored, as add ignores it), and
// returns NAME. Other add lines fail in dispatch, as ip fails them.
func (c *cmd) batchAdd(words []string) (string, bool) {
	if c.opt.all || len(words) < 3 || !isNetnsObject(words[0]) {
		return "", false
	}
	if i := lookupVerb(words[1]); i < 0 || verbs[i].names[0] != "add" {
		return "", false
	}
	return words[2], netns.ValidName(words[2]) == nil
}

// addQueue runs a batch's "add NAME" lines in two steps. Each name is
// reserved (netns.Reserve) as its line is read, in order: that is where
// a taken name fails, and without -force nothing after it is read. The
// namespaces are then made (Reservation.Create) by GOMAXPROCS worker
// goroutines, each of which the library runs on a private thread of its
// own. Before any other line, and at the end, the queue is drained: it
// waits for every add and prints their warnings and failures in line
// order, as running them one by one would.
//
// A create failing after its reservation succeeded is rare (the kernel
// refusing a new namespace or the mount). The names of later lines may
// be made by then; without -force they are deleted again, so the run
// directory ends as the sequential batch leaves it, but for a moment they
// were there. A name already waiting in the queue drains it first, so a
// failed add's name is free again when a later line takes it, as it is
// one by one.
type addQueue struct {
	c       *cmd
	file    string
	work    chan *queuedAdd
	waiting []*queuedAdd
	names   map[string]bool
	failed  bool // a line failed since the batch began (with -force)

	createFailed atomic.Bool // a create failed since the last drain
}

// queuedAdd is one add line in the queue.
type queuedAdd struct {
	line  int
	name  string
	res   *netns.Reservation // nil when the reservation failed
	ns    *netns.NS          // the namespace made (closed), for undo
	err   error              // of the reservation or the create
	warns []error
	done  chan struct{}
}

// add queues line n, "add name". It returns true when the batch stops.
func (q *addQueue) add(n int, name string) (stop bool) {
	q.c.scanned = nil
	if q.names[name] || (q.createFailed.Load() && !q.c.opt.force) {
		if q.drain() {
			return true
		}
	}
	a := &queuedAdd{line: n, name: name, done: make(chan struct{})}
	q.waiting = append(q.waiting, a)
	a.res, a.err = netns.Reserve(name)
	if a.err != nil {
		close(a.done)
		return !q.c.opt.force && q.drain()
	}
	if q.names == nil {
		q.names = map[string]bool{}
	}
	q.names[name] = true
	if q.work == nil {
		workers := runtime.GOMAXPROCS(0)
		q.work = make(chan *queuedAdd, 16*workers)
		for range workers {
			go q.worker()
		}
	}
	q.work <- a
	return false
}

// worker makes the namespaces of queued adds.
func (q *addQueue) worker() {
	for a := range q.work {
		ns, err := a.res.Create(&netns.CreateOptions{Warn: func(err error) { a.warns = append(a.warns, err) }})
		if err != nil {
			a.err = err
			q.createFailed.Store(true)
		} else {
			ns.Close()
			a.ns = ns
		}
		close(a.done)
	}
}

// drain waits for every queued add and reports them in line order. It
// returns true when the batch stops: a line failed and -force is off.
// The adds of later lines are then undone.
func (q *addQueue) drain() (stop bool) {
	waiting := q.waiting
	q.waiting, q.names = nil, nil
	q.createFailed.Store(false)
	for i, a := range waiting {
		<-a.done
		for _, w := range a.warns {
			q.c.warn(w)
		}
		if a.err == nil {
			continue
		}
		q.c.fail(1, "%v", a.err)
		q.c.fail(1, "command failed %s:%d", q.file, a.line)
		q.failed = true
		if !q.c.opt.force {
			q.undo(waiting[i+1:])
			return true
		}
	}
	return false
}

// undo deletes the namespaces of adds that one by one would not have run,
// each only while its name still refers to the namespace made.
func (q *addQueue) undo(adds []*queuedAdd) {
	for _, a := range adds {
		<-a.done
		if a.err == nil && a.ns != nil {
			if err := netns.DeleteIf(a.name, a.ns); err != nil {
				q.c.warn(err)
			}
		}
	}
}

// close stops the workers once the queue is drained.
func (q *addQueue) close() {
	if q.work != nil {
		close(q.work)
	}
}

// lineReader reads batch lines as iproute2's getcmdline does: "#" starts
// a comment, a backslash before the newline continues the line, and n
// counts physical lines.
type lineReader struct {
	r *bufio.Reader
	n int
}

// physical reads one line, newline included, cut at a NUL byte (ip
// handles lines as C strings) and at "#".
func (lr *lineReader) physical() (string, bool) {
	line, err := lr.r.ReadString('\n')
	if line == "" && err != nil {
		return "", false
	}
	lr.n++
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return line, true
}

// next returns the words of the next command line; io.EOF at the end.
func (lr *lineReader) next() ([]string, error) {
	line, more := lr.physical()
	if !more {
		return nil, io.EOF
	}
	for {
		i := strings.Index(line, "\\\n")
		if i < 0 {
			break
		}
		cont, more := lr.physical()
		if !more {
			return nil, errContinuation
		}
		line = line[:i] + cont
	}
	return splitLine(line)
}
