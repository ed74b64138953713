package netns_test

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

func TestIdentifyAndPIDs(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	a, aName, _, second, pid := attached(t)
	// A symlink counts too: ip compares with stat(2), which follows it.
	link := nstest.TempName(t)
	if err := os.Symlink(aName, netns.RunDir+"/"+link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(netns.RunDir + "/" + link) })

	names, err := netns.Identify(a)
	slices.Sort(names)
	if want := []string{aName, second, link}; err != nil || !slices.Equal(names, sorted(want)) {
		t.Errorf("Identify = %q, %v, want %q", names, err, sorted(want))
	}
	pids, err := netns.PIDs(a)
	if err != nil || !slices.Equal(pids, []int{pid}) {
		t.Errorf("PIDs = %v, %v, want [%d]", pids, err, pid)
	}
	// ip agrees.
	if out := nstest.MustIP(t, "netns", "identify", strconv.Itoa(pid)); out == "\n" {
		t.Errorf("ip netns identify PID printed no name")
	}
	if out := nstest.MustIP(t, "netns", "pids", aName); out != strconv.Itoa(pid)+"\n" {
		t.Errorf("ip netns pids = %q, want the sleep's pid", out)
	}
}

func TestIdentifyUnnamed(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	cur, err := netns.Current()
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if names, err := netns.Identify(cur); err != nil || len(names) != 0 {
		t.Errorf("Identify(current) = %q, %v, want none", names, err)
	}
	sleep := exec.Command("sleep", "100")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	if pids, err := netns.PIDs(cur); err != nil || !slices.Contains(pids, sleep.Process.Pid) {
		t.Errorf("PIDs(current) = %v, %v, want it to contain %d", pids, err, sleep.Process.Pid)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
