package uplink

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/setns/setns/netns"
)

// connectPasta starts pasta for ns, in host (pasta's traffic leaves
// through host's sockets), journalling its process before and after.
func (st *state) connectPasta(ctx context.Context, host, ns *netns.NS, r *record) error {
	if _, err := exec.LookPath("pasta"); err != nil {
		return errNoPasta
	}
	// pasta needs /dev/net/tun, which distributions make usable by all
	// (0666); a user who cannot open it (rootless mode) cannot run pasta.
	tun, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("pasta needs /dev/net/tun: %w", err)
	}
	tun.Close()
	path := ns.Path()
	if path == "" {
		path = netns.RunDir + "/" + r.Name
	}
	pidFile := st.pathOf(r.Name)
	pidFile = strings.TrimSuffix(pidFile, ".json") + ".pid"
	_ = os.Remove(pidFile)
	// As root pasta would switch to nobody, who cannot enter the
	// namespace: --runas 0 keeps it root. In rootless mode this process
	// is root only of the keeper's user namespace, which is the user on
	// the host: pasta stays the user, in the host's network namespace.
	args := []string{"--config-net", "--netns", path, "--runas", "0", "--no-map-gw", "--pid", pidFile, "--quiet"}
	// No port forwarding (Options.check refuses --publish here).
	args = append(args, "-t", "none", "-u", "none")
	args = append(args, "-T", "none", "-U", "none")
	if err := st.save(r); err != nil {
		return err
	}
	if err := st.log(r, step{Kind: stepPasta, Key: pidFile}); err != nil {
		return err
	}
	if _, err := run(host, "pasta", args...); err != nil {
		return err
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("pasta wrote no pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("pasta pid file %s: %q", pidFile, data)
	}
	last := &r.Steps[len(r.Steps)-1]
	last.PID, last.Start = pid, startTime(pid)
	if err := st.save(r); err != nil {
		return err
	}
	return pastaAddrs(ns, r)
}

// pastaAddrs fills in what pasta gave the namespace: its IPv4 address,
// the gateway and the interface.
func pastaAddrs(ns *netns.NS, r *record) error {
	c, err := dialRoute(ns)
	if err != nil {
		return err
	}
	defer c.Close()
	routes, err := c.Route.List()
	if err != nil {
		return err
	}
	var idx uint32
	for _, m := range routes {
		if m.Family == afInet && m.DstLength == 0 && m.Attributes.Gateway != nil {
			gw, _ := netip.AddrFromSlice(m.Attributes.Gateway)
			r.HostAddr = netip.PrefixFrom(gw.Unmap(), 32)
			idx = m.Attributes.OutIface
		}
	}
	addrs, err := c.Address.List()
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.Family == afInet && (idx == 0 || a.Index == idx) && a.Attributes != nil {
			ip, _ := netip.AddrFromSlice(a.Attributes.Address)
			if ip.Unmap().IsLoopback() {
				continue
			}
			r.NSAddr = netip.PrefixFrom(ip.Unmap(), int(a.PrefixLength))
			if idx == 0 {
				idx = a.Index
			}
			break
		}
	}
	if idx != 0 {
		if l, err := c.Link.Get(idx); err == nil && l.Attributes != nil {
			r.NSIf = l.Attributes.Name
			r.OutIfs = []string{l.Attributes.Name}
		}
	}
	if r.HostAddr.IsValid() && r.NSAddr.IsValid() {
		r.HostAddr = netip.PrefixFrom(r.HostAddr.Addr(), r.NSAddr.Bits())
	}
	return nil
}

// startTime is field 22 of /proc/PID/stat: when the process started, in
// clock ticks since boot; with the pid it names one process for good.
func startTime(pid int) uint64 {
	st, _ := procStat(pid)
	return st
}

// procStat returns a process's start time and whether it is a zombie
// (dead, its descriptors closed, waiting to be reaped).
func procStat(pid int) (uint64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n, f[0] == "Z"
}

func pastaAlive(s step) bool {
	if s.PID <= 0 || s.Start == 0 {
		return false
	}
	start, zombie := procStat(s.PID)
	return start == s.Start && !zombie
}

// stopPasta ends the journalled pasta process, if it is still that one.
func stopPasta(s step) error {
	if s.PID == 0 && s.Key != "" {
		// Crashed between start and journal: the pid file says.
		if data, err := os.ReadFile(s.Key); err == nil {
			s.PID, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			s.Start = startTime(s.PID)
		}
	}
	if s.Key != "" {
		defer os.Remove(s.Key)
	}
	if !pastaAlive(s) {
		return nil
	}
	// Debian's pasta is a link to passt (or passt.avx2).
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", s.PID)); !strings.HasPrefix(string(comm), "pasta") && !strings.HasPrefix(string(comm), "passt") {
		return nil
	}
	signal(s.PID, syscall.SIGTERM)
	for i := 0; i < 200 && pastaAlive(s); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if pastaAlive(s) {
		signal(s.PID, syscall.SIGKILL)
	}
	return nil
}
