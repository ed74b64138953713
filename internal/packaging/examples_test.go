package packaging

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// The examples in README.md and the man pages are tested, so that they
// cannot rot. The rules for writing one:
//
//   - A ```go block is a complete file, starting with "package" (after
//     comments): package
//     main for a program, a package ending in _test for a test file. Each
//     is compiled (go vet) in a directory of its own inside this module.
//   - A ```sh block is run, as one bash script with "set -e", by
//     TestShellExamples, in a throwaway sandbox (below). "```sh norun"
//     marks a block that is only syntax-checked (building, installing).
//     A line ending in a comment "# needs: WHAT" is skipped, for what the
//     sandbox cannot give (the internet, Graphviz).
//   - A ```yaml block starting with "lab: NAME" is a lab file: the ```sh
//     blocks of the same document find it as NAME.yaml.
//   - Any other block must not hold a command line ("sudo ..."): an
//     example cannot escape the tests by its fence.
var exampleDocs = []string{"README.md", "man/setns.1.md", "man/netns.8.md"}

// fence is a fenced code block: its info string, its text and the line
// its opening fence is on.
type fence struct {
	doc, info, body string
	line            int
}

func (f fence) String() string { return fmt.Sprintf("%s:%d", f.doc, f.line) }

// fences returns the ``` blocks of a Markdown file of the repository.
func fences(t *testing.T, doc string) []fence {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(root, doc))
	if err != nil {
		t.Fatal(err)
	}
	var out []fence
	var cur *fence
	var body []string
	for i, line := range strings.Split(string(text), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &fence{doc: doc, info: strings.TrimSpace(line[3:]), line: i + 1}
			body = nil
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.body = strings.Join(body, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	if cur != nil {
		t.Fatalf("%s: fence not closed", cur)
	}
	return out
}

// TestExampleFences: every block that holds a command line is a ```sh
// block, and every ```go block is a whole file; so every example is one
// the two tests below run.
func TestExampleFences(t *testing.T) {
	t.Parallel()
	cmdLine := regexp.MustCompile(`(?m)^\s*sudo\s`)
	for _, doc := range exampleDocs {
		for _, f := range fences(t, doc) {
			lang, _, _ := strings.Cut(f.info, " ")
			switch {
			case lang == "go" && goPackage(f.body) == "":
				t.Errorf("%s: a ```go block must be a whole file, starting with \"package\"", f)
			case lang != "sh" && lang != "go" && cmdLine.MatchString(f.body):
				t.Errorf("%s: a block of commands must be a ```sh block (```sh norun if it cannot run)", f)
			case lang == "sh" && f.info != "sh" && f.info != "sh norun":
				t.Errorf("%s: unknown info string %q (sh or sh norun)", f, f.info)
			}
		}
	}
}

// goPackage returns the package name of a Go file whose first line, but
// for comments, is its package clause; else "".
func goPackage(src string) string {
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "//") {
			continue
		}
		if name, ok := strings.CutPrefix(line, "package "); ok {
			return strings.TrimSpace(name)
		}
		return ""
	}
	return ""
}

// TestReadmeGoExamples compiles every ```go block of README.md, each in a
// directory of its own inside this module (so they use its go.mod and
// module cache and need no network), with go vet, which also compiles
// test files.
func TestReadmeGoExamples(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp(".", "_goexamples-") // "_": never matched by ./...
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var pkgs []string
	for _, f := range fences(t, "README.md") {
		if f.info != "go" {
			continue
		}
		file := "main.go"
		if strings.HasSuffix(goPackage(f.body), "_test") {
			file = "example_test.go"
		}
		sub := filepath.Join(dir, fmt.Sprintf("line%d", f.line))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, file), []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(sub))
	}
	if len(pkgs) == 0 {
		t.Fatal("README.md has no ```go block")
	}
	out, err := exec.Command(goCmd(), append([]string{"vet"}, pkgs...)...).CombinedOutput()
	if err != nil {
		// go vet names the file as dir/lineN/main.go: N is the README line of the fence.
		t.Errorf("go vet of README.md's Go examples: %v\n%s", err, out)
	}
}

// examplePrelude sets up the sandbox a ```sh block runs in. The test
// starts it with unshare in new mount, network and PID namespaces: the
// network namespace plays the host (a veth eth0 with a default route
// gives netns connect its way out; nothing reaches the real network), and
// fresh tmpfs on /run and /etc/netns start without namespaces, labs or
// connections. Stand-ins: sudo runs its command (the test is root), make
// does nothing (the test built the tree), firefox prints who and where it
// runs, and an sshd (sleep) runs for pgrep to find.
const examplePrelude = `
set -e
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /etc/netns && mount -t tmpfs tmpfs /etc/netns
mkdir -p /run/stand-in
cat >/run/stand-in/firefox <<'END'
#!/bin/sh
echo "firefox (stand-in) as $(id -un) in $NETNS_NAME, nameserver $(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)"
END
cp "$(command -v sleep)" /run/stand-in/sshd
chmod 755 /run/stand-in/*
sudo() { "$@"; }
make() { :; }
export PATH="/run/stand-in:$EXAMPLE_BUILD:$PATH" USER=nobody
ip link set lo up
ip link add eth0 type veth peer name gw0
ip link set gw0 up
ip link set eth0 up
ip addr add 192.0.2.2/24 dev eth0
ip route add default via 192.0.2.1
sshd 600 &
until pgrep -x sshd >/dev/null; do sleep 0.01; done # started, and exec-ed as sshd
cd "$EXAMPLE_DIR"
`

// TestShellExamples runs every ```sh block of README.md and the man pages
// in the sandbox examplePrelude describes, with build/ holding the
// commands (README's build/setns, and setns in PATH for the man pages).
// A block passes when its last command and every command before it
// succeed (bash -e).
func TestShellExamples(t *testing.T) {
	nstest.RequireIP(t)
	unshare := nstest.RequireTool(t, "unshare")
	t.Parallel()
	build := build(t)
	labFile := regexp.MustCompile(`^lab: *([A-Za-z0-9_.-]+)`)
	for _, doc := range exampleDocs {
		labs := map[string]string{} // NAME.yaml: text
		for _, f := range fences(t, doc) {
			if m := labFile.FindStringSubmatch(f.body); f.info == "yaml" && m != nil {
				labs[m[1]+".yaml"] = f.body
			}
		}
		for _, f := range fences(t, doc) {
			if f.info != "sh" && f.info != "sh norun" {
				continue
			}
			t.Run(strings.ReplaceAll(f.String(), "/", "_"), func(t *testing.T) {
				script := skipNeeds(f.body)
				if out, err := exec.Command("bash", "-n", "-c", script).CombinedOutput(); err != nil {
					t.Fatalf("%s: bash -n: %v\n%s", f, err, out)
				}
				if f.info == "sh norun" {
					return
				}
				t.Parallel()
				dir := t.TempDir()
				if err := os.Symlink(build, filepath.Join(dir, "build")); err != nil {
					t.Fatal(err)
				}
				for name, text := range labs {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(unshare, "--mount", "--net", "--pid", "--fork", "--mount-proc",
					"bash", "-c", examplePrelude+script)
				cmd.Env = append(cleanEnv(), "EXAMPLE_BUILD="+build, "EXAMPLE_DIR="+dir)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%s: %v\n--- script\n%s--- output\n%s", f, err, script, out)
				} else {
					t.Logf("%s:\n%s", f, out)
				}
			})
		}
	}
}

// skipNeeds comments out the lines marked "# needs: WHAT".
func skipNeeds(body string) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if regexp.MustCompile(`#\s*needs:`).MatchString(l) {
			lines[i] = ": skipped, " + strings.TrimSpace(l[strings.Index(l, "#")+1:])
		}
	}
	return strings.Join(lines, "\n")
}
