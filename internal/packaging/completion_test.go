package packaging

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// completionCase is a command line whose last word is being completed,
// and some of the matches it must offer (all of them with exact).
type completionCase struct {
	words []string
	want  []string
	exact bool
}

// completionCases completes the namespace name (made by the caller, in the
// test sandbox's own /run/netns) and the rest of both commands' grammar.
func completionCases(name string) []completionCase {
	prefix := name[:len(name)-1]
	return []completionCase{
		{words: []string{"setns", prefix}, want: []string{name}},
		{words: []string{"setns", "--no-lo", "--user", "root", prefix}, want: []string{name}},
		{words: []string{"setns", "--user", "roo"}, want: []string{"root"}, exact: true},
		{words: []string{"setns", name, "tru"}, want: []string{"true"}},
		{words: []string{"setns", "--path", "/proc/self/ns/ne"}, want: []string{"/proc/self/ns/net"}, exact: true},
		{words: []string{"netns", "d"}, want: []string{"delete", "disconnect", "doctor"}, exact: true},
		{words: []string{"netns", "-n", prefix}, want: []string{name}},
		{words: []string{"netns", "del", prefix}, want: []string{name}},
		{words: []string{"netns", "-j", "pids", prefix}, want: []string{name}},
		{words: []string{"netns", "exec", prefix}, want: []string{name}},
		{words: []string{"netns", "exec", "--user", "root", prefix}, want: []string{name}},
		{words: []string{"netns", "exec", name, "tru"}, want: []string{"true"}},
		{words: []string{"netns", "set", name, "au"}, want: []string{"auto"}, exact: true},
		{words: []string{"netns", "-all", "delete", prefix}, exact: true},
		{words: []string{"netns", "connect", prefix}, want: []string{name}},
		{words: []string{"netns", "connect", name, "--mode", ""}, want: []string{"nat", "pasta"}, exact: true},
		{words: []string{"netns", "connecti"}, want: []string{"connections"}, exact: true},
		{words: []string{"netns", "disconnect", prefix}, want: []string{name}},
		{words: []string{"netns", "lab", "st"}, want: []string{"status"}, exact: true},
		{words: []string{"netns", "lab", "apply", "--d"}, want: []string{"--dry-run"}, exact: true},
		{words: []string{"netns", "lab", "graph", "--m"}, want: []string{"--mermaid"}, exact: true},
	}
}

func checkCompletion(t *testing.T, shell string, c completionCase, got []string) {
	t.Helper()
	line := strings.Join(c.words, " ")
	if c.exact {
		g := slices.Sorted(slices.Values(got))
		w := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(g, w) {
			t.Errorf("%s: %q<TAB> offers %q, want %q", shell, line, g, w)
		}
		return
	}
	for _, w := range c.want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: %q<TAB> offers %q, want %q among them", shell, line, got, w)
		}
	}
}

// bashScript sources both completion files, shows their complete -p lines,
// then runs the completion function for the command line in "$@" and
// prints COMPREPLY.
const bashScript = `
source contrib/bash-completion/setns && source contrib/bash-completion/netns || exit
[[ $1 == -p ]] && { complete -p setns netns; exit; }
COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
"_$1"
printf '%s\n' "${COMPREPLY[@]}"
`

func bashComplete(t *testing.T, bash string, words ...string) []string {
	t.Helper()
	out := run(t, root, nil, bash, append([]string{"--norc", "--noprofile", "-c", bashScript, "bash"}, words...)...)
	return strings.Fields(out)
}

// TestBashCompletion sources the completion files as bash-completion does
// and completes command lines, with a real namespace to find.
func TestBashCompletion(t *testing.T) {
	nstest.RequireRoot(t)
	bash := nstest.NeedTool(t, "bash", "bash")
	_, name := nstest.NewNamed(t)

	got := run(t, root, nil, bash, "--norc", "--noprofile", "-c", bashScript, "bash", "-p")
	want := "complete -F _setns setns\ncomplete -F _netns netns\n"
	if got != want {
		t.Errorf("complete -p setns netns after sourcing:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range completionCases(name) {
		checkCompletion(t, "bash", c, bashComplete(t, bash, c.words...))
	}
}

// TestZshCompletion completes the same command lines in an interactive
// zsh with compinit and the files in contrib/zsh first in fpath.
func TestZshCompletion(t *testing.T) {
	nstest.RequireRoot(t)
	zsh := nstest.NeedTool(t, "zsh", "zsh")
	_, name := nstest.NewNamed(t)
	fpath, err := filepath.Abs(filepath.Join(root, "contrib", "zsh"))
	if err != nil {
		t.Fatal(err)
	}
	// Each case starts a zsh of its own; the group ends before the
	// namespace's cleanup runs.
	t.Run("cases", func(t *testing.T) {
		for _, c := range completionCases(name) {
			line := strings.Join(c.words, " ")
			t.Run(line, func(t *testing.T) {
				t.Parallel()
				out := run(t, ".", nil, zsh, "-f", "testdata/complete.zsh", fpath, line)
				checkCompletion(t, "zsh", c, strings.Fields(out))
			})
		}
	})
}

// TestCompletionOptions: the options completed for "setns --" are those
// setns -h lists (bar -h), and netns completes no option its -h lacks.
func TestCompletionOptions(t *testing.T) {
	t.Parallel()
	bash := nstest.NeedTool(t, "bash", "bash")
	build := build(t)
	for _, c := range []struct{ words []string }{
		{[]string{"setns", "-"}},
		{[]string{"netns", "-"}},
		{[]string{"netns", "exec", "-"}},
		{[]string{"netns", "doctor", "-"}},
		{[]string{"netns", "add", "-"}},
		{[]string{"netns", "list", "-"}},
		{[]string{"netns", "link", "add", "-"}},
		{[]string{"netns", "link", "list", "-"}},
		{[]string{"netns", "connect", "x", "-"}},
		{[]string{"netns", "disconnect", "-"}},
		{[]string{"netns", "connections", "-"}},
		{[]string{"netns", "lab", "apply", "-"}},
		{[]string{"netns", "lab", "destroy", "-"}},
		{[]string{"netns", "lab", "status", "-"}},
		{[]string{"netns", "lab", "graph", "-"}},
	} {
		name := c.words[0]
		out, err := exec.Command(filepath.Join(build, name), "-h").Output()
		if err != nil {
			t.Fatalf("%s -h: %v", name, err)
		}
		help := helpOptions(string(out))
		got := bashComplete(t, bash, c.words...)
		for _, o := range got {
			if !slices.Contains(help, o) {
				t.Errorf("%q<TAB> offers %s, which %s -h does not list", strings.Join(c.words, " "), o, name)
			}
		}
		if name == "setns" {
			for _, o := range help {
				if o != "-h" && !slices.Contains(got, o) {
					t.Errorf("%q<TAB> does not offer %s, which setns -h lists", strings.Join(c.words, " "), o)
				}
			}
		}
	}
}
