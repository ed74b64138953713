package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

// uplinkHost makes a namespace playing the host with a veth to one playing
// the internet, which runs a TCP server on 203.0.113.10:7 answering with
// the peer address it sees. setns runs inside the host (ip netns exec), so
// every change it makes stays in test namespaces.
func uplinkHost(t *testing.T) (*netns.NS, string) {
	t.Helper()
	nstest.RequireIP(t)
	host, hostName, _, _ := nstest.Internet(t)
	return host, hostName
}

// setnsIn returns setns run inside the namespace host.
func setnsIn(host string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", host, "env", "SETNS_RUN_MAIN=1", self}, args...)...)
}

// hostClean checks that host has no uplink table and no host end left.
func hostClean(t *testing.T, host string) {
	t.Helper()
	if out, _, _ := nstest.Run(t, "", "ip", "netns", "exec", host, "nft", "list", "tables"); strings.Contains(out, "setns-") {
		t.Errorf("uplink table left in the host: %s", out)
	}
	if out := nstest.MustIP(t, "-n", host, "-o", "link"); strings.Contains(out, ": sn") {
		t.Errorf("host end left:\n%s", out)
	}
}

const fetch = `echo "$NETNS_IP $NETNS_HOST_IP"; exec 3<>/dev/tcp/203.0.113.10/7 && cat <&3`

// TestUplink: setns --uplink NAME CMD connects NAME while CMD runs (CMD
// reaches the internet, masqueraded, and gets NETNS_IP and NETNS_HOST_IP)
// and disconnects afterwards, passing CMD's status on; with --temp the
// namespace is a throwaway one.
func TestUplink(t *testing.T) {
	_, host := uplinkHost(t)
	nstest.NeedTool(t, "nft", "nftables")
	_, name := nstest.NewNamed(t)
	for _, args := range [][]string{{"--uplink", name}, {"--uplink=nat", "--temp", "-"}} {
		out, err := setnsIn(host, append(args, "bash", "-c", fetch+"; exit 3")...).Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if code != 3 || len(lines) != 2 || lines[1] != "198.51.100.2" || !strings.HasPrefix(lines[0], "10.251.") {
			t.Errorf("setns %v: exit %d (want 3), output %q: want NETNS_IP NETNS_HOST_IP, then the host's 198.51.100.2 as the server saw it", args, code, out)
		}
		hostClean(t, host)
	}
	if _, err := netns.Open(name); err != nil {
		t.Errorf("--uplink without --temp must keep the namespace: %v", err)
	}
	// pasta copies the host's address and gateway into the namespace.
	nstest.NeedTool(t, "pasta", "passt")
	out, err := setnsIn(host, "--uplink=pasta", "--temp", "-", "bash", "-c", fetch).Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != "198.51.100.2 198.51.100.1\n198.51.100.2" {
		t.Errorf("--uplink=pasta: %v, output %q", err, out)
	}
}

// TestUplinkSIGKILL: setns --uplink killed with SIGKILL leaves no NAT
// table (the kernel deletes an owner-flagged table with its socket), and
// the leftovers doctor finds are taken back.
func TestUplinkSIGKILL(t *testing.T) {
	hostNS, host := uplinkHost(t)
	nstest.NeedTool(t, "nft", "nftables")
	_, name := nstest.NewNamed(t)
	cmd := setnsIn(host, "--uplink", name, "sh", "-c", "echo ready; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the orphaned sleep
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("got %q", line)
	}
	tables, _, _ := nstest.Run(t, "", "ip", "netns", "exec", host, "nft", "list", "tables")
	if !strings.Contains(tables, uplink.TableName(name)) {
		t.Fatalf("no uplink table while setns runs: %s", tables)
	}
	cmd.Process.Signal(os.Kill) // ip netns exec became setns
	cmd.Wait()
	tables, _, _ = nstest.Run(t, "", "ip", "netns", "exec", host, "nft", "list", "tables")
	if strings.Contains(tables, "setns-") {
		t.Errorf("table survived setns's SIGKILL: %s", tables)
	}
	o := &uplink.Options{Host: hostNS}
	ls, err := uplink.Leftovers(o)
	if err != nil || len(ls) != 1 || ls[0].Name != name {
		t.Fatalf("Leftovers = %v, %v", ls, err)
	}
	if err := ls[0].Fix(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	hostClean(t, host)
}

// TestUplinkUsage: --publish needs --uplink, --uplink a name, and a bad
// mode or port is refused before anything happens.
func TestUplinkUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--publish", "8080:80", "blue", "true"}, "--publish needs --uplink"},
		{[]string{"--uplink", "--path", "/proc/1/ns/net", "true"}, "excludes --path"},
		{[]string{"--uplink=vpn", "blue", "true"}, "unknown mode"},
		{[]string{"--uplink", "--publish", "0:80", "blue", "true"}, "out of range"},
	} {
		_, errs, code := setns(t, c.args...)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("setns %v: exit %d, %q; want 1 and %q", c.args, code, errs, c.want)
		}
	}
}
