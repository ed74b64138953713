package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
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
	status := 0
	for {
		words, err := lines.next()
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
		if len(words) == 0 {
			continue
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
