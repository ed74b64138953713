package netns

import (
	"os"
	"strconv"
)

// Identify returns the names in RunDir that refer to ns, in the
// directory's order, like "ip netns identify" (which prints only the last
// of them). As ip, it compares each entry's device and inode with
// stat(2), so a symlink to a namespace counts, and entries that cannot be
// examined are skipped. A missing RunDir gives no names and no error.
// Needs read access to RunDir.
func Identify(ns *NS) ([]string, error) {
	names, err := List()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if id, err := statID(RunDir + "/" + n); err == nil && id == ns.id {
			out = append(out, n)
		}
	}
	return out, nil
}

// PIDs returns the processes whose network namespace is ns, in the order
// /proc lists them (ascending), like "ip netns pids NAME". Only processes
// count, not threads, and a process that exits meanwhile or cannot be
// examined is skipped. Seeing other users' processes needs root
// (CAP_SYS_PTRACE).
func PIDs(ns *NS) ([]int, error) {
	f, err := os.Open("/proc")
	if err != nil {
		return nil, newError("pids", ns.String(), err)
	}
	entries, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, newError("pids", ns.String(), err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e)
		if err != nil || pid <= 0 || strconv.Itoa(pid) != e {
			continue // not a process: self, sys, net, ...
		}
		if id, err := statID("/proc/" + e + "/ns/net"); err == nil && id == ns.id {
			out = append(out, pid)
		}
	}
	return out, nil
}
