package packaging

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

// TestSystemdUnit installs into a temporary PREFIX, so the unit's
// ExecStart= names a real netns, and runs systemd-analyze verify on an
// instance of netns@.service and on each example service in the netns man
// page and README.md (their own program replaced by true(1), which exists
// everywhere). verify loads the units and their dependencies, checks every
// key and that each command and the man page in Documentation= exist;
// anything it prints fails the test.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	analyze := nstest.NeedTool(t, "systemd-analyze", "systemd")
	prefix := t.TempDir()
	runMake(t, build(t), "PREFIX="+prefix, "install")
	units := filepath.Join(prefix, "lib", "systemd", "system")
	toVerify := []string{instance(t, units, "netns@.service")}

	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	examples := append(exampleUnits(t, filepath.Join(root, "man", "netns.8.md")),
		exampleUnits(t, filepath.Join(root, "README.md"))...)
	for i, ex := range examples {
		ex = regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllString(ex, "ExecStart="+truePath)
		name := fmt.Sprintf("example%d@.service", i)
		if err := os.WriteFile(filepath.Join(units, name), []byte(ex), 0o644); err != nil {
			t.Fatal(err)
		}
		toVerify = append(toVerify, instance(t, units, name))
	}

	cmd := exec.Command(analyze, append([]string{"verify"}, toVerify...)...)
	cmd.Env = append(cleanEnv(), "SYSTEMD_UNIT_PATH="+units+":", "MANPATH="+filepath.Join(prefix, "share", "man"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || out.Len() > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(toVerify, " "), err, out.String())
	}
}

// instance makes TEMPLATE's instance "nstest" in dir, as systemctl would
// load it for "systemctl start netns@nstest.service", and returns its path.
func instance(t *testing.T, dir, template string) string {
	t.Helper()
	path := filepath.Join(dir, strings.Replace(template, "@", "@nstest", 1))
	if err := os.Symlink(template, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// exampleUnits returns the fenced code blocks in a Markdown file that are
// unit files of services, i.e. have a [Service] line.
func exampleUnits(t *testing.T, file string) []string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	blocks := strings.Split(string(text), "\n```")
	for i := 1; i < len(blocks); i += 2 {
		_, body, _ := strings.Cut(blocks[i], "\n") // drop the info string
		if regexp.MustCompile(`(?m)^\[Service\]$`).MatchString(body) {
			units = append(units, body+"\n")
		}
	}
	return units
}

// TestSystemdUnitCommands runs the installed netns@.service's ExecStart=
// and ExecStop= command lines as systemd would for an instance, in the
// test sandbox: starting makes the namespace with loopback up; starting
// again, or with the name already made by ip (after a crash, or by
// hand), succeeds and keeps that namespace; stopping deletes it.
func TestSystemdUnitCommands(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	prefix := t.TempDir()
	runMake(t, build(t), "PREFIX="+prefix, "install")
	unit, err := os.ReadFile(filepath.Join(prefix, "lib", "systemd", "system", "netns@.service"))
	if err != nil {
		t.Fatal(err)
	}
	start, stop := unitCommand(t, unit, "ExecStart"), unitCommand(t, unit, "ExecStop")
	runUnit := func(argv []string, name string) {
		t.Helper()
		args := slices.Clone(argv)
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "%i", name)
		}
		if out, errs, code := nstest.Run(t, "", args[0], args[1:]...); code != 0 || out != "" || errs != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errs)
		}
	}
	ours, byIP := nstest.TempName(t), nstest.TempName(t)
	t.Cleanup(func() { nstest.Remove(t, ours); nstest.Remove(t, byIP) })

	runUnit(start, ours)
	first := openNS(t, ours)
	if out := nstest.MustIP(t, "-n", ours, "-o", "link", "show", "lo"); !strings.Contains(out, ",UP") {
		t.Errorf("after start, lo is not up: %s", out)
	}
	runUnit(start, ours) // already there: as after a crash
	if again := openNS(t, ours); !again.Equal(first) {
		t.Errorf("a second start replaced the namespace %q", ours)
	}

	nstest.MustIP(t, "netns", "add", byIP)
	handMade := openNS(t, byIP)
	runUnit(start, byIP)
	if now := openNS(t, byIP); !now.Equal(handMade) {
		t.Errorf("start replaced the namespace %q that ip made", byIP)
	}

	for _, name := range []string{ours, byIP} {
		runUnit(stop, name)
		if _, err := netns.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after stop, Open(%q): %v, want not found", name, err)
		}
	}
}

// unitCommand returns the argv of the one key= line of a unit, which must
// be a plain command: no quoting, no systemd prefix such as "-".
func unitCommand(t *testing.T, unit []byte, key string) []string {
	t.Helper()
	var argv []string
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			if argv != nil {
				t.Fatalf("netns@.service has more than one %s=", key)
			}
			if strings.ContainsAny(v, `"'\`) || !strings.HasPrefix(v, "/") {
				t.Fatalf("netns@.service: %s=%s: the test runs only plain commands", key, v)
			}
			argv = strings.Fields(v)
		}
	}
	if argv == nil {
		t.Fatalf("netns@.service has no %s=", key)
	}
	return argv
}

// openNS opens the named namespace, closed when the test ends.
func openNS(t *testing.T, name string) *netns.NS {
	t.Helper()
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}
