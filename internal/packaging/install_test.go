package packaging

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// installed is what "make install" must put below PREFIX, with modes.
var installed = map[string]fs.FileMode{
	"bin/setns":              0o755,
	"bin/netns":              0o755,
	"share/man/man1/setns.1": 0o644,
	"share/man/man8/netns.8": 0o644,
	"share/bash-completion/completions/setns": 0o644,
	"share/bash-completion/completions/netns": 0o644,
	"share/zsh/site-functions/_setns":         0o644,
	"share/zsh/site-functions/_netns":         0o644,
	"lib/systemd/system/netns@.service":       0o644,
}

// files lists the regular files below dir, relative to it, with modes.
func files(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		got[rel] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestInstall installs into a DESTDIR, for the default PREFIX and for
// /usr, checks every file and its mode, and that uninstall removes exactly
// those: a file of someone else's in the same directories stays.
func TestInstall(t *testing.T) {
	t.Parallel()
	build := build(t)
	for _, prefix := range []string{"", "/usr"} {
		dest := t.TempDir()
		args := []string{"DESTDIR=" + dest}
		want := "/usr/local"
		if prefix != "" {
			args = append(args, "PREFIX="+prefix)
			want = prefix
		}
		other := filepath.Join(dest, want, "bin", "other")
		if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(other, nil, 0o755); err != nil {
			t.Fatal(err)
		}
		runMake(t, build, append(args, "install")...)

		got := files(t, dest)
		for rel, mode := range installed {
			path := filepath.Join(strings.TrimPrefix(want, "/"), rel)
			m, ok := got[path]
			switch {
			case !ok:
				t.Errorf("PREFIX=%s: %s not installed", want, path)
			case m != mode:
				t.Errorf("PREFIX=%s: %s has mode %v, want %v", want, path, m, mode)
			}
			delete(got, path)
		}
		delete(got, strings.TrimPrefix(other, dest+"/"))
		for path := range got {
			t.Errorf("PREFIX=%s: unexpected file installed: %s", want, path)
		}
		unit, err := os.ReadFile(filepath.Join(dest, want, "lib/systemd/system/netns@.service"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range []string{"ExecStart=" + want + "/bin/setns --bare -- %i true", "ExecStop=" + want + "/bin/netns delete %i"} {
			if !slices.Contains(strings.Split(string(unit), "\n"), line) {
				t.Errorf("PREFIX=%s: installed unit lacks %q:\n%s", want, line, unit)
			}
		}

		runMake(t, build, append(args, "uninstall")...)
		left := files(t, dest)
		if len(left) != 1 || left[strings.TrimPrefix(other, dest+"/")] == 0 {
			t.Errorf("PREFIX=%s: after uninstall, files are %v, want only %s", want, left, other)
		}
	}
}

// TestInstallBuildsNothing: once "make" has run, "make install" only
// copies, so "sudo make install" needs no Go toolchain as root.
func TestInstallBuildsNothing(t *testing.T) {
	t.Parallel()
	build := build(t)
	out := runMake(t, build, "-n", "install", "DESTDIR="+t.TempDir())
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "go build") || strings.Contains(line, "go tool") {
			t.Errorf("make install after make would run %q", line)
		}
	}
}

// TestGoInstall: "go install github.com/setns/setns/cmd/...@latest" works
// once published, which needs the module path to be the repository's, no
// replace or exclude directives (go install pkg@version refuses those),
// and a binary named after each command directory.
func TestGoInstall(t *testing.T) {
	t.Parallel()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(gomod), "\n")
	if lines[0] != "module github.com/setns/setns" {
		t.Errorf("go.mod starts with %q, want %q", lines[0], "module github.com/setns/setns")
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "replace") || strings.HasPrefix(l, "exclude") {
			t.Errorf("go.mod has %q: go install ...@latest would refuse the module", l)
		}
	}
	bin := t.TempDir()
	run(t, root, []string{"GOBIN=" + bin, "CGO_ENABLED=0"}, goCmd(), "install", "./cmd/...")
	for _, name := range commands(t) {
		if fi, err := os.Stat(filepath.Join(bin, name)); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("go install ./cmd/... made no executable %s: %v", name, err)
		}
	}
}
