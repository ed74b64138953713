package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
)

// The differential suite runs every case of diffCases twice, once with ip
// and once with netns, each time in a sandbox of its own: a child with new
// mount and network namespaces (so nsids, mounts and namespaces are
// throwaway and the host is never touched), a fresh tmpfs on /run (the run
// directory starts absent) and on /etc/netns. There the case's setup
// lines run, then its command, with IP standing for "ip" on one side and
// for netns on the other (whose "netns" object word is dropped). Then
// stdout, the exit status, whether anything went to stderr, and the
// resulting "ip netns list" and "ip netns list-id" must be the same.

// diffCase is one line of the table.
type diffCase struct {
	name  string
	setup string // shell; "bg NAME" starts a sleep inside NAME ($P1, $P2, ... in cmd)
	cmd   string // shell; IP is the tool under test, e.g. "IP -j netns list"
	// ours, if set, turns ip's outcome into what netns must give: a
	// deliberate difference.
	ours     func(o *outcome)
	noStderr bool // stderr not compared: netns explains where ip is silent
	maskNums bool // digits in stdout masked: the tool's own PID shows
}

// outcome is what one side of a case produced.
type outcome struct {
	stdout, stderr string
	rc             int
	list, listID   string // "ip netns list" and "ip netns list-id" afterwards
}

// prelude starts every sandbox script.
const prelude = `set -e
mount -t tmpfs nstest-diff /run
mkdir -p /etc/netns
mount -t tmpfs nstest-diff /etc/netns
: >"$D/pids"
bg() {
	ip netns exec "$1" sleep 1000 &
	p=$!
	echo $p >>"$D/pids"
	want=$(stat -L -c %d:%i "/run/netns/$1")
	until [ "$(stat -L -c %d:%i /proc/$p/ns/net 2>/dev/null)" = "$want" ]; do sleep 0.01; done
}
lastpid() { tail -n 1 "$D/pids"; }
`

// script builds the sandbox script of one side.
func (c diffCase) script(ours bool) string {
	before, after, _ := strings.Cut(c.cmd, "IP")
	cmd := before + "ip" + after
	if ours {
		cmd = before + "$NETNS" + netnsWord.ReplaceAllString(after, "$1$2")
	}
	return prelude + c.setup + `
n=0; for p in $(cat "$D/pids"); do n=$((n+1)); eval "P$n=$p"; done
set +e
{
` + cmd + `
} >"$D/out" 2>"$D/err"
echo $? >"$D/rc"
kill $(cat "$D/pids") 2>/dev/null
wait
# The kernel destroys a namespace (and drops its nsids) asynchronously
# once nothing refers to it: wait until no unnamed nsid is left.
for i in $(seq 100); do ip netns list-id 2>/dev/null | grep -q ' $' || break; sleep 0.05; done
ip netns list >"$D/list" 2>/dev/null
ip netns list-id >"$D/listid" 2>/dev/null
exit 0
`
}

// netnsWord matches the first "netns" object word after the tool.
var netnsWord = regexp.MustCompile(`(?s)^(.*?) netns( |$)`)

// runSide runs one side of c in its sandbox, in directory dir.
func runSide(c diffCase, ours bool, dir string) (outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", c.script(ours))
	cmd.Env = append(os.Environ(), "D="+dir, "NETNS=env NETNS_RUN_MAIN=1 "+self)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET, // "/" made rprivate by Go
		Setpgid:      true,
		Pdeathsig:    syscall.SIGKILL,
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if out, err := cmd.CombinedOutput(); err != nil {
		return outcome{}, fmt.Errorf("sandbox script: %v\n%s", err, out)
	}
	read := func(f string) string { b, _ := os.ReadFile(filepath.Join(dir, f)); return string(b) }
	o := outcome{stdout: read("out"), stderr: read("err"), list: read("list"), listID: read("listid")}
	if _, err := fmt.Sscan(read("rc"), &o.rc); err != nil {
		return o, fmt.Errorf("no exit status: %v", err)
	}
	// PIDs differ between the sandboxes: name them by start order.
	for i, p := range strings.Fields(read("pids")) {
		re := regexp.MustCompile(`\b` + p + `\b`)
		o.stdout = re.ReplaceAllString(o.stdout, fmt.Sprintf("PID%d", i+1))
		o.stderr = re.ReplaceAllString(o.stderr, fmt.Sprintf("PID%d", i+1))
	}
	if c.maskNums {
		o.stdout = regexp.MustCompile(`[0-9]+`).ReplaceAllString(o.stdout, "N")
	}
	return o, nil
}

func TestDifferential(t *testing.T) {
	nstest.RequireIP(t)
	type sides struct {
		ip, ours       outcome
		ipErr, oursErr error
	}
	results := make([]sides, len(diffCases))
	sem := make(chan struct{}, 6) // mostly waiting for processes: more than the CPUs
	var wg sync.WaitGroup
	base := t.TempDir()
	for i, c := range diffCases {
		for _, ours := range []bool{false, true} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				dir, err := os.MkdirTemp(base, "case")
				if err != nil {
					panic(err)
				}
				o, err := runSide(c, ours, dir)
				if ours {
					results[i].ours, results[i].oursErr = o, err
				} else {
					results[i].ip, results[i].ipErr = o, err
				}
			}()
		}
	}
	wg.Wait()
	for i, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			r := results[i]
			if r.ipErr != nil || r.oursErr != nil {
				t.Fatalf("ip side: %v\nnetns side: %v", r.ipErr, r.oursErr)
			}
			compare(t, c, r.ip, r.ours)
		})
	}
}

// compare checks netns's outcome against ip's, as adjusted by c.ours.
func compare(t *testing.T, c diffCase, ip, ours outcome) {
	want := ip
	if c.ours != nil {
		c.ours(&want)
	}
	show := func(what, got, want string) {
		t.Errorf("%s differs (setup: %s; cmd: %s)\nnetns: %q\nwant:  %q\nip stderr: %q\nnetns stderr: %q",
			what, c.setup, c.cmd, got, want, ip.stderr, ours.stderr)
	}
	if ours.stdout != want.stdout {
		show("stdout", ours.stdout, want.stdout)
	}
	if ours.rc != want.rc {
		show("exit status", fmt.Sprint(ours.rc), fmt.Sprint(want.rc))
	}
	if !c.noStderr && (ours.stderr == "") != (want.stderr == "") {
		show("stderr (empty or not)", ours.stderr, want.stderr)
	}
	if ours.list != want.list {
		show("ip netns list afterwards", ours.list, want.list)
	}
	if ours.listID != want.listID {
		show("ip netns list-id afterwards", ours.listID, want.listID)
	}
}

func TestDiffCasesWellFormed(t *testing.T) {
	if len(diffCases) < 80 {
		t.Errorf("got %d differential cases, want at least 80", len(diffCases))
	}
	seen := map[string]bool{}
	for _, c := range diffCases {
		if seen[c.name] {
			t.Errorf("case name %q used twice", c.name)
		}
		seen[c.name] = true
		if strings.Count(c.cmd, "IP") != 1 {
			t.Errorf("case %q: cmd %q must name the tool IP exactly once", c.name, c.cmd)
		}
	}
}

// TestDiffHarness checks that the harness runs each tool on its side:
// "-V" is the one option where the two must differ.
func TestDiffHarness(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	c := diffCase{name: "harness", setup: "ip netns add a", cmd: "IP -V netns"}
	for _, ours := range []bool{false, true} {
		o, err := runSide(c, ours, t.TempDir())
		want := map[bool]string{false: "ip utility", true: "netns utility"}[ours]
		if err != nil || !strings.HasPrefix(o.stdout, want) || o.list != "a\n" {
			t.Errorf("side ours=%v: %+v, %v; want stdout %q... and list \"a\\n\"", ours, o, err, want)
		}
	}
}
