// Bench compares whole-process times of setns and netns with ip(8) and
// nsenter(1): each comparison runs its two commands alternately (A B A B
// ...) in one go and prints, per comparison, the median of the per-pair
// ratios A/B and the median time of each side.
//
// It must run as root. It re-executes itself in a private mount namespace
// with a fresh tmpfs on /run, so the namespaces it makes live in that
// tmpfs's netns directory, never in the host's run dir, and vanish with
// the mount namespace when it exits. `make bench` and `make bench-smoke`
// run it:
//
//	go run ./bench -setns build/setns -netns build/netns [-smoke]
//
// The comparisons that need build/netns are skipped, with a note, when
// that file does not exist.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/setns/setns/internal/nstest"
)

// sandboxEnv marks the re-executed copy that runs inside the sandbox.
const sandboxEnv = "SETNS_BENCH_SANDBOX"

type config struct {
	setns, netns string // absolute paths; netns "" when not built
	enterPairs   int    // pairs for the enter comparisons
	createPairs  int    // pairs for setns NEW vs ip netns add + exec
	listPairs    int    // pairs for list at 1000
	massPairs    int    // pairs for batch create and -all delete of 1000
	labPairs     int    // pairs for the lab apply, re-apply, destroy
	labNodes     int    // nodes of the lab chain: mass, 100 with -smoke
	mass         int    // namespaces for the "1000" comparisons
	only         string // run only comparisons whose key contains this
	a, b         string // an ad-hoc pair of commands instead of the table
}

func main() {
	os.Exit(run())
}

func run() int {
	var c config
	smoke := flag.Bool("smoke", false, "a quick run (about 10 s) with few pairs")
	flag.StringVar(&c.setns, "setns", "build/setns", "setns binary")
	flag.StringVar(&c.netns, "netns", "build/netns", "netns binary (comparisons skipped if missing)")
	flag.IntVar(&c.enterPairs, "pairs", 300, "pairs for the enter comparisons")
	flag.IntVar(&c.mass, "n", 1000, "namespaces present for the mass comparisons")
	flag.StringVar(&c.only, "only", "", "run only comparisons whose key contains this string")
	flag.StringVar(&c.a, "a", "", "ad hoc: compare this command (split at spaces) ...")
	flag.StringVar(&c.b, "b", "", "... with this one, in the sandbox with NAME=bench present")
	flag.Parse()
	c.createPairs, c.listPairs, c.massPairs, c.labPairs = c.enterPairs/2, c.enterPairs/6, 7, 3
	c.labNodes = c.mass
	if *smoke {
		c.enterPairs, c.createPairs, c.listPairs, c.massPairs, c.labPairs, c.labNodes = 100, 40, 20, 1, 1, 100
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root (it creates network namespaces)")
		return 1
	}
	var err error
	if c.setns, err = filepath.Abs(c.setns); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if _, err := os.Stat(c.setns); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v (run make first)\n", err)
		return 1
	}
	if c.netns, _ = filepath.Abs(c.netns); !isFile(c.netns) {
		c.netns = ""
	}
	if os.Getenv(sandboxEnv) != "1" {
		return nstest.ReexecPrivate(sandboxEnv, "bench")
	}
	if err := sandbox(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: sandbox:", err)
		return 1
	}
	// The rootless comparisons' keeper would outlive the sandbox.
	defer stopKeeper(rootlessXDG)
	return compareAll(&c)
}

// stopKeeper kills the rootless keeper recorded in xdg, if any.
func stopKeeper(xdg string) {
	b, err := os.ReadFile(xdg + "/setns/keeper")
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.Fields(string(b) + " 0")[0]); err == nil && pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// sandbox puts a fresh tmpfs on /run (a typical host's /run is tmpfs), so
// the run dir starts empty and is ours alone, and an empty tmpfs on
// /etc/netns if that directory exists, so the host's per-namespace files
// play no part.
func sandbox() error {
	if err := syscall.Mount("bench-run", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs on /run: %w", err)
	}
	if isDir("/etc/netns") {
		if err := syscall.Mount("bench-etc-netns", "/etc/netns", "tmpfs", 0, "mode=0755"); err != nil {
			return fmt.Errorf("tmpfs on /etc/netns: %w", err)
		}
	}
	return nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// machine describes where the figures come from.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	var u syscall.Utsname
	syscall.Uname(&u)
	rel := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	ip, _ := exec.Command("ip", "-V").Output()
	return fmt.Sprintf("%d CPUs (%s), kernel %s, %s", runtime.NumCPU(), cpu, rel, strings.TrimSpace(string(ip)))
}
