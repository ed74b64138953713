package main

import (
	"fmt"

	"github.com/setns/setns/netns"
)

// doctor is "netns doctor [--fix] [-j]": report what in the run directory
// breaks "ip netns" (netns.Diagnose) and, with --fix, repair what can be
// repaired safely (netns.(*Finding).Fix). Healthy: no output, status 0;
// problems left: status 1.
func (c *cmd) doctor(args []string) result {
	fix, asJSON := false, c.opt.json
	for _, a := range args {
		switch a {
		case "--fix", "-fix":
			fix = true
		case "-j", "--json", "-json":
			asJSON = true
		default:
			return c.die(255, "doctor: unknown argument %q, try \"netns help\"", a)
		}
	}
	findings, err := netns.Diagnose()
	if err != nil {
		return c.fail(1, "doctor: %v", err)
	}
	left := 0
	actions := make([]string, len(findings))
	for i := range findings {
		f := &findings[i]
		actions[i] = plannedAction(f)
		if fix && f.Fixable() {
			if err := f.Fix(); err != nil {
				actions[i] = "failed: " + cause(err).Error()
				left++
			} else {
				actions[i] = doneAction(f)
			}
			continue
		}
		left++
	}
	uplinks, uplinksLeft := c.doctorUplinks(fix) // uplink leftovers (connect.go)
	left += uplinksLeft
	if asJSON {
		j := c.jsonWriter()
		j.startArray()
		for i, f := range findings {
			j.startObject()
			j.stringField("path", f.Path)
			j.stringField("kind", f.Kind)
			j.stringField("detail", f.Detail)
			j.stringField("action", actions[i])
			j.endObject()
		}
		for _, u := range uplinks {
			j.startObject()
			j.stringField("path", u[0])
			j.stringField("kind", u[1])
			j.stringField("detail", u[2])
			j.stringField("action", u[3])
			j.endObject()
		}
		j.endArray()
	} else {
		for i, f := range findings {
			fmt.Fprintf(c.out, "%s: %s: %s: %s\n", f.Path, f.Kind, f.Detail, actions[i])
		}
		for _, u := range uplinks {
			fmt.Fprintf(c.out, "%s: %s: %s: %s\n", u[0], u[1], u[2], u[3])
		}
	}
	if left > 0 {
		return result{code: 1}
	}
	return ok
}

// plannedAction says what --fix would do with f, or why it would not.
func plannedAction(f *netns.Finding) string {
	switch {
	case f.Fixable():
		return "would " + verbFor(f) + " (--fix)"
	case f.Blocked != "":
		return "left alone: " + f.Blocked
	}
	return "left alone: needs a person to decide"
}

func doneAction(f *netns.Finding) string {
	if f.Kind == netns.KindStacked {
		return "unmounted the extra copies"
	}
	return "removed"
}

func verbFor(f *netns.Finding) string {
	if f.Kind == netns.KindStacked {
		return "unmount the extra copies"
	}
	return "remove"
}
