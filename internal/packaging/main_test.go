package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// root is the repository's top directory, seen from this package.
const root = "../.."

func TestMain(m *testing.M) { nstest.Main(m) }

// commands lists the commands in cmd/, as the Makefile builds them.
func commands(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "cmd", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no commands in cmd/: %v", err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(d))
	}
	return names
}

// goCmd is the go command that runs these tests: go test puts its own
// GOROOT/bin first in PATH.
func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// run runs a command in dir with extra environment and returns its
// combined output; a non-zero exit fails the test.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// cleanEnv is the environment without what an outer make passes down,
// so the make the tests run is not a sub-make of "make test".
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GO="+goCmd())
}

// runMake runs make in the repository with its output going to build, a
// fresh directory, so tests neither need nor disturb the tree's build/.
func runMake(t *testing.T, build string, args ...string) string {
	t.Helper()
	abs, err := filepath.Abs(build)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, root, nil, "make", append([]string{"-s", "BUILD=" + abs}, args...)...)
}

// build runs "make all" into a temporary directory and returns it: the
// commands and build/man, as "make" makes them.
func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	runMake(t, dir, "all")
	return dir
}
