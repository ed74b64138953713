package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/setns/setns/netns"
)

// name is the namespace the enter comparisons use; fillers make up the
// count for the "1000 present" cases.
const (
	name   = "bench"
	filler = "fill-"
)

func compareAll(c *config) int {
	fmt.Printf("# bench %s\n# %s, %s, %s\n\n", strings.Join(os.Args[1:], " "), machine(), runtime.Version(), time.Now().UTC().Format(time.DateOnly))
	fmt.Println("| comparison | pairs | ours (median) | theirs (median) | ratio ours/theirs (median of pairs) | goal |")
	fmt.Println("|---|---|---|---|---|---|")
	failed := false
	var notes []string
	list := comparisons(c)
	if c.a != "" && c.b != "" {
		list = []comparison{{key: "ad hoc", title: fmt.Sprintf("`%s` vs `%s`", c.a, c.b), pairs: c.enterPairs,
			ours:   side{prep: func(int) error { return population(1) }, steps: run1(strings.Fields(c.a)...)},
			theirs: side{steps: run1(strings.Fields(c.b)...)}}}
	}
	for _, cmp := range list {
		if c.only != "" && !strings.Contains(cmp.key, c.only) {
			continue
		}
		if cmp.pairs == 0 {
			notes = append(notes, fmt.Sprintf("skipped %q: %s not built (run make after the netns command lands)", cmp.title, "build/netns"))
			continue
		}
		r, err := measure(&cmp)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", cmp.title, err)
			failed = true
			continue
		}
		var goals []string
		if cmp.goal > 0 {
			g := fmt.Sprintf("≤ %.2f", cmp.goal)
			if float64(r.ratio)/1e6 > cmp.goal {
				g += " (missed)"
			}
			goals = append(goals, g)
		}
		if cmp.absGoal > 0 {
			g := "ours ≤ " + ms(cmp.absGoal)
			if r.ours > cmp.absGoal {
				g += " (missed)"
			}
			goals = append(goals, g)
		}
		goal := "—"
		if goals != nil {
			goal = strings.Join(goals, ", ")
		}
		theirs, ratio := ms(r.theirs), fmt.Sprintf("**%.2f**", float64(r.ratio)/1e6)
		if cmp.theirs.steps == nil {
			theirs, ratio = "—", "—"
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s |\n",
			cmp.title, r.pairs, ms(r.ours), theirs, ratio, goal)
	}
	if len(notes) > 0 {
		fmt.Println()
	}
	for _, n := range notes {
		fmt.Println("Note:", n)
	}
	if failed {
		return 1
	}
	return 0
}

// goPath makes setns skip its C fast path.
const goPath = "SETNS_NO_FASTPATH=1"

// comparisons is the table, in the order it is run and printed.
func comparisons(c *config) []comparison {
	return append([]comparison{
		enter(c, "enter-1", 1),
		enter(c, "enter-go-1", 1, goPath),
		bare(c, "bare"),
		bare(c, "bare-go", goPath),
		delegatedEnter(c, "delegated"),
		delegatedEnter(c, "delegated-go", goPath),
		rootlessEnter(c, "rootless"),
		rootlessEnter(c, "rootless-go", goPath),
		createEnter(c),
		enter(c, "enter-1000", c.mass),
		enter(c, "enter-go-1000", c.mass, goPath),
		{
			key: "list", title: fmt.Sprintf("`netns list` vs `ip netns list`, %d present", c.mass),
			goal: 0.30, pairs: netnsPairs(c, c.listPairs),
			ours:   side{prep: at(c.mass), steps: run1(c.netns, "list")},
			theirs: side{steps: run1("ip", "netns", "list")},
		},
		{
			key: "batch", title: fmt.Sprintf("`netns -batch FILE` vs `ip -batch FILE`, %d adds", c.mass),
			goal: 0.67, pairs: netnsPairs(c, c.massPairs),
			ours:   side{prep: batchFile(c, "ba"), steps: run1(c.netns, "-batch", "/run/bench-ba")},
			theirs: side{prep: batchFile(c, "bb"), steps: run1("ip", "-batch", "/run/bench-bb")},
		},
		{
			key: "delete", title: fmt.Sprintf("`netns -all delete` vs `ip -all netns delete`, %d present", c.mass),
			goal: 1.00, pairs: netnsPairs(c, c.massPairs),
			ours:   side{prep: at(c.mass), steps: run1(c.netns, "-all", "delete")},
			theirs: side{prep: at(c.mass), steps: run1("ip", "-all", "netns", "delete")},
		},
	}, append(uplinkComparisons(c), labComparisons(c)...)...)
}

// enter is setns NAME true against ip netns exec with n namespaces
// present; with env (the Go path) it has no goal, being for reference.
func enter(c *config, key string, n int, env ...string) comparison {
	title := fmt.Sprintf("`setns NAME true` vs `ip netns exec NAME true`, %d present", n)
	goal := map[bool]float64{true: 0.90, false: 1.00}[n == 1]
	if env != nil {
		title = fmt.Sprintf("same, Go path (`%s`), %d present", env[0], n)
		goal = 0
	}
	return comparison{
		key: key, title: title, goal: goal, pairs: c.enterPairs,
		ours:   side{prep: at(n), steps: run1(c.setns, name, "true"), env: env},
		theirs: side{steps: run1("ip", "netns", "exec", name, "true")},
	}
}

// owned is the delegated namespace (netns add --owner) the delegated
// comparisons enter, owned by uid ownerUID.
const (
	owned    = "owned"
	ownerUID = 65534
)

// delegatedEnter is setns entering a delegated namespace as its owner,
// without privilege, against setns entering a root namespace as root;
// both through setpriv(1), so they pay the same for it. Its goal is the
// one for entering a delegated namespace: at most 1.5 times as long.
func delegatedEnter(c *config, key string, env ...string) comparison {
	title := "owner: `setns OWNED true` vs root: `setns NAME true`"
	if env != nil {
		title = fmt.Sprintf("same, Go path (`%s`)", env[0])
	}
	uid := strconv.Itoa(ownerUID)
	return comparison{
		key: key, title: title, goal: 1.5, pairs: c.enterPairs,
		ours: side{prep: func(int) error {
			if err := population(1); err != nil {
				return err
			}
			ns, err := netns.CreateOwned(owned, ownerUID, ownerUID, nil)
			if err != nil {
				return err
			}
			return ns.Close()
		}, steps: run1("setpriv", "--reuid="+uid, "--regid="+uid, "--clear-groups", c.setns, owned, "true"), env: env},
		theirs: side{steps: run1("setpriv", "--reuid=0", "--regid=0", "--clear-groups", c.setns, name, "true"), env: env},
	}
}

// rootlessXDG is the runtime directory of the rootless comparisons'
// user (ownerUID), in the benchmark's own /run.
const rootlessXDG = "/run/bench-xdg"

// rootlessEnter is setns entering a rootless namespace of the user
// ownerUID (its keeper already running), against setns entering a root
// namespace as root, both through setpriv(1) and env(1). Its goal is the
// issue's: at most 1.5 times as long.
func rootlessEnter(c *config, key string, env ...string) comparison {
	title := "user: `setns NAME true` (rootless) vs root: `setns NAME true`"
	if env != nil {
		title = fmt.Sprintf("same, Go path (`%s`)", env[0])
	}
	uid := strconv.Itoa(ownerUID)
	user := []string{"setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "env", "XDG_RUNTIME_DIR=" + rootlessXDG, c.setns, name, "true"}
	return comparison{
		key: key, title: title, goal: 1.5, pairs: c.enterPairs,
		ours: side{prep: func(int) error {
			if err := population(1); err != nil {
				return err
			}
			if err := os.MkdirAll(rootlessXDG, 0o700); err != nil {
				return err
			}
			if err := os.Chown(rootlessXDG, ownerUID, ownerUID); err != nil {
				return err
			}
			// Made once; the keeper stays while it exists.
			return exec.Command(user[0], user[1:]...).Run()
		}, steps: run1(user...), env: env},
		theirs: side{steps: run1("setpriv", "--reuid=0", "--regid=0", "--clear-groups", "env", "XDG_RUNTIME_DIR="+rootlessXDG, c.setns, name, "true"), env: env},
	}
}

// bare is setns --bare against nsenter --net.
func bare(c *config, key string, env ...string) comparison {
	title := "`setns --bare NAME true` vs `nsenter --net=/run/netns/NAME true`"
	goal := 1.10
	if env != nil {
		title, goal = fmt.Sprintf("same, Go path (`%s`)", env[0]), 0
	}
	return comparison{
		key: key, title: title, goal: goal, pairs: c.enterPairs,
		ours:   side{prep: at(1), steps: run1(c.setns, "--bare", name, "true"), env: env},
		theirs: side{steps: run1("nsenter", "--net="+netns.RunDir+"/"+name, "true")},
	}
}

// createEnter is setns NEW true against ip netns add + ip netns exec,
// each pair with fresh names.
func createEnter(c *config) comparison {
	return comparison{
		key: "create", title: "`setns NEW true` vs `ip netns add NEW` + `ip netns exec NEW true`",
		goal: 0.60, pairs: c.createPairs,
		ours: side{prep: at(1), steps: func(i int) [][]string {
			return [][]string{{c.setns, fmt.Sprintf("new-a%d", i), "true"}}
		}},
		theirs: side{steps: func(i int) [][]string {
			n := fmt.Sprintf("new-b%d", i)
			return [][]string{{"ip", "netns", "add", n}, {"ip", "netns", "exec", n, "true"}}
		}},
		cleanup: func() error { return population(1) },
	}
}

// netnsPairs is p, or 0 (skip) when the netns command is not built.
func netnsPairs(c *config, p int) int {
	if c.netns == "" {
		return 0
	}
	return p
}

// batchFile prepares a batch of c.mass "netns add" lines (ip's batch
// syntax, which netns reads too) in /run/bench-PREFIX, with names
// PREFIX0... and only NAME present.
func batchFile(c *config, prefix string) func(int) error {
	return func(int) error {
		if err := population(1); err != nil {
			return err
		}
		var b strings.Builder
		for i := range c.mass {
			fmt.Fprintf(&b, "netns add %s%d\n", prefix, i)
		}
		return os.WriteFile("/run/bench-"+prefix, []byte(b.String()), 0o644)
	}
}

// at is a prep that makes n namespaces present.
func at(n int) func(int) error { return func(int) error { return population(n) } }

// run1 is a side of one command, the same every time.
func run1(argv ...string) func(int) [][]string {
	return func(int) [][]string { return [][]string{argv} }
}

// population makes the run dir hold exactly NAME plus n-1 fillers, and
// nothing else. After deleting many namespaces it waits for the kernel,
// which frees them asynchronously (about 0.3 ms of CPU each), so that
// work does not land in the next measurement.
func population(n int) error {
	names, err := netns.List()
	if err != nil {
		return err
	}
	want := map[string]bool{name: true}
	for i := range n - 1 {
		want[fmt.Sprintf("%s%d", filler, i)] = true
	}
	deleted := 0
	for _, e := range names {
		if want[e] {
			delete(want, e)
			continue
		}
		if err := netns.Delete(e); err != nil {
			return err
		}
		deleted++
	}
	for e := range want {
		ns, err := netns.Create(e, nil)
		if err != nil {
			return err
		}
		ns.Close()
	}
	if deleted > 0 {
		time.Sleep(time.Duration(deleted) * 400 * time.Microsecond)
	}
	return nil
}
