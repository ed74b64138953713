package main

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

// uplinkWorld makes a namespace playing the host (reached with -n) with
// a veth to one playing the internet, which runs a TCP server on
// 203.0.113.10:7 answering with the peer address it sees, and a namespace
// to connect. Returns the host's and the namespace's names and handles.
func uplinkWorld(t *testing.T) (hostName, name string, ns *netns.NS) {
	t.Helper()
	_, hostName, _, _ = nstest.Internet(t)
	ns, name = nstest.NewNamed(t)
	return hostName, name, ns
}

// peerSeen connects from ns to the server and returns what it saw.
func peerSeen(ns *netns.NS) (string, error) {
	var c net.Conn
	if err := ns.Do(func() (err error) { c, err = net.DialTimeout("tcp", "203.0.113.10:7", 3*time.Second); return err }); err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, 64)
	n, err := c.Read(b)
	return strings.TrimSpace(string(b[:n])), err
}

// TestConnect: netns connect prints one line and gives the namespace the
// internet through the -n namespace; again it is a no-op with the same
// line; connections lists it; delete disconnects it first.
func TestConnect(t *testing.T) {
	hostName, name, ns := uplinkWorld(t)
	linksBefore := nstest.Links(t, hostName)
	out := mustNetns(t, "-n", hostName, "connect", name)
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + ` 10\.251\.\d+\.\d+/30 via 10\.251\.\d+\.\d+ \(nat, out eth0\)\n$`)
	if !re.MatchString(out) {
		t.Fatalf("connect printed %q, want a line like %q", out, name+" 10.251.0.2/30 via 10.251.0.1 (nat, out eth0)")
	}
	if again := mustNetns(t, "-n", hostName, "connect", name); again != out {
		t.Errorf("second connect printed %q, want %q", again, out)
	}
	if peer, err := peerSeen(ns); err != nil || peer != "198.51.100.2" {
		t.Errorf("from %s the server saw %q (%v), want the host's 198.51.100.2", name, peer, err)
	}
	list := mustNetns(t, "-n", hostName, "connections")
	if !strings.Contains(list, name) || !strings.Contains(list, uplink.HostIfName(name)) {
		t.Errorf("connections:\n%s", list)
	}
	var js []map[string]any
	if err := json.Unmarshal([]byte(mustNetns(t, "-n", hostName, "connections", "-j")), &js); err != nil || len(js) != 1 || js[0]["name"] != name {
		t.Errorf("connections -j: %v %v", js, err)
	}
	ns.Close()
	mustNetns(t, "-n", hostName, "delete", name)
	if out := mustNetns(t, "-n", hostName, "connections"); out != "" {
		t.Errorf("connections after delete:\n%s", out)
	}
	if after := nstest.Links(t, hostName); after != linksBefore {
		t.Errorf("host links after delete:\n%s\nwant\n%s", after, linksBefore)
	}
	if out, _, _ := nstest.Run(t, "", "ip", "netns", "exec", hostName, "nft", "list", "tables"); strings.Contains(out, "setns-") {
		t.Errorf("table left after delete: %s", out)
	}
}

// TestConnectBadInput: refused with one line, nothing changed.
func TestConnectBadInput(t *testing.T) {
	hostName, name, _ := uplinkWorld(t)
	before := nstest.Links(t, hostName)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--subnet", "10.0.0.0/33"}, 255, "invalid --subnet"},
		{[]string{"--subnet", "198.51.100.0/30"}, 1, "overlaps the host's route"},
		{[]string{"--publish", "0:80"}, 255, "out of range"},
		{[]string{"--publish", "8080:70000"}, 255, "out of range"},
		{[]string{"--mode", "vpn"}, 255, "unknown mode"},
		{[]string{"--bogus"}, 255, "unknown option"},
	} {
		_, errs, code := runNetns(t, append([]string{"-n", hostName, "connect", name}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("connect %v: exit %d, %q; want %d and one line with %q", c.args, code, errs, c.code, c.want)
		}
	}
	_, errs, code := runNetns(t, "-n", hostName, "connect", name+"-missing")
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no such namespace") {
		t.Errorf("connect of a missing namespace: exit %d, %q", code, errs)
	}
	if after := nstest.Links(t, hostName); after != before {
		t.Errorf("host links changed:\n%s", after)
	}
	if out := mustNetns(t, "-n", hostName, "connections"); out != "" {
		t.Errorf("connections after refusals:\n%s", out)
	}
	if _, _, code := runNetns(t, "-n", hostName, "disconnect", name); code != 0 {
		t.Errorf("disconnect of an unconnected namespace: exit %d", code)
	}
}

// TestDisconnectAll: --all disconnects every connection.
func TestDisconnectAll(t *testing.T) {
	hostName, name, _ := uplinkWorld(t)
	_, name2 := nstest.NewNamed(t)
	mustNetns(t, "-n", hostName, "connect", name)
	mustNetns(t, "-n", hostName, "connect", name2)
	if out := mustNetns(t, "-n", hostName, "connections"); strings.Count(out, "\n") != 3 {
		t.Errorf("connections:\n%s", out)
	}
	mustNetns(t, "-n", hostName, "disconnect", "--all")
	if out := mustNetns(t, "-n", hostName, "connections"); out != "" {
		t.Errorf("connections after disconnect --all:\n%s", out)
	}
}

// TestDoctorUplinkLeftover: a connected namespace deleted behind our back
// (by ip, which knows nothing of uplinks) leaves a journal; doctor reports
// it, --fix undoes it, and then all is healthy.
func TestDoctorUplinkLeftover(t *testing.T) {
	hostName, name, ns := uplinkWorld(t)
	mustNetns(t, "-n", hostName, "connect", name)
	ns.Close()
	nstest.MustIP(t, "netns", "del", name)
	out, _, code := runNetns(t, "-n", hostName, "doctor")
	if code != 1 || !strings.Contains(out, "uplink: \""+name+"\": namespace gone") || !strings.Contains(out, "would undo it (--fix)") {
		t.Fatalf("doctor: exit %d:\n%s", code, out)
	}
	out, _, code = runNetns(t, "-n", hostName, "doctor", "--fix")
	if code != 0 || !strings.Contains(out, "undone") {
		t.Errorf("doctor --fix: exit %d:\n%s", code, out)
	}
	if out, _, code := runNetns(t, "-n", hostName, "doctor"); code != 0 || out != "" {
		t.Errorf("doctor after --fix: exit %d:\n%s", code, out)
	}
	if out, _, _ := nstest.Run(t, "", "ip", "netns", "exec", hostName, "nft", "list", "tables"); strings.Contains(out, "setns-") {
		t.Errorf("table left after doctor --fix: %s", out)
	}
}
