package packaging

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
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
