package packaging

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// manPages are the man pages, by command.
var manPages = map[string]string{"setns": "setns.1", "netns": "netns.8"}

// TestManRender renders each page as man(1) does for a reader, with
// groff's warnings on, and checks it has the sections a man page needs.
func TestManRender(t *testing.T) {
	t.Parallel()
	man := nstest.NeedTool(t, "man", "man-db")
	build := build(t)
	for _, page := range manPages {
		cmd := exec.Command(man, "--warnings", "-l", filepath.Join(build, "man", page))
		cmd.Env = append(cleanEnv(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=", "MANPAGER=cat", "PAGER=cat")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("MANWIDTH=80 man --warnings -l %s: %v\n%s", page, err, stderr.String())
		}
		text := stdout.String()
		for _, sec := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"} {
			if !regexp.MustCompile(`(?m)^` + sec + `$`).MatchString(text) {
				t.Errorf("%s: no %s section in\n%s", page, sec, text)
			}
		}
		for i, line := range strings.Split(text, "\n") {
			if n := len([]rune(line)); n > 80 {
				t.Errorf("%s: rendered line %d is %d columns wide: %q", page, i+1, n, line)
			}
		}
	}
}

// TestOptionsAgree: the options each command's -h lists are exactly those
// its man page and README.md document.
func TestOptionsAgree(t *testing.T) {
	t.Parallel()
	build := build(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name, page := range manPages {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(build, name), "-h").Output()
			if err != nil {
				t.Fatalf("%s -h: %v", name, err)
			}
			help := helpOptions(string(out))
			if len(help) == 0 {
				t.Fatalf("%s -h lists no options:\n%s", name, out)
			}
			src, err := os.ReadFile(filepath.Join(root, "man", page+".md"))
			if err != nil {
				t.Fatal(err)
			}
			compare(t, name+" -h", help, "man/"+page+".md", manOptions(string(src)))
			doc, err := readmeOptions(string(readme), name)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, name+" -h", help, "README.md", doc)
		})
	}
}

func compare(t *testing.T, what string, want []string, where string, got []string) {
	t.Helper()
	for _, o := range want {
		if !slices.Contains(got, o) {
			t.Errorf("%s lists %s, %s does not document it", what, o, where)
		}
	}
	for _, o := range got {
		if !slices.Contains(want, o) {
			t.Errorf("%s documents %s, %s does not list it", where, o, what)
		}
	}
}

// optionRE finds options: -x, -word, --word, each at the start of a word.
var optionRE = regexp.MustCompile(`(?:^|[\s\[|(,])(--?[a-zA-Z][a-zA-Z0-9-]*)`)

func options(s string) []string {
	var opts []string
	for _, m := range optionRE.FindAllStringSubmatch(s, -1) {
		opts = append(opts, m[1])
	}
	return opts
}

func unique(opts []string) []string {
	slices.Sort(opts)
	return slices.Compact(opts)
}

// helpOptions reads -h output: the options in the synopsis (everything up
// to the first empty line) and in the first column of each line that
// starts with "-" (its text up to the first run of two spaces or a tab),
// not options mentioned in descriptions.
func helpOptions(help string) []string {
	var opts []string
	synopsis := true
	for _, line := range strings.Split(help, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			synopsis = false
		case synopsis:
			opts = append(opts, options(line)...)
		case strings.HasPrefix(trimmed, "-"):
			term, _, _ := strings.Cut(strings.ReplaceAll(trimmed, "\t", "  "), "  ")
			opts = append(opts, options(term)...)
		}
	}
	return unique(opts)
}

// manOptions reads the OPTIONS section of a go-md2man source: the options
// in each definition term (a line followed by one starting with ": ").
func manOptions(md string) []string {
	section := sectionOf(md, "# OPTIONS", "# ")
	lines := strings.Split(section, "\n")
	var opts []string
	for i := 0; i+1 < len(lines); i++ {
		if strings.HasPrefix(lines[i+1], ": ") {
			opts = append(opts, options(strings.ReplaceAll(lines[i], "*", ""))...)
		}
	}
	return unique(opts)
}

// readmeOptions reads README.md's OPTIONS section: the options in the first
// cell of each table row. With "### NAME" subsections, only the one for
// name counts; without, the section is setns's.
func readmeOptions(readme, name string) ([]string, error) {
	section := sectionOf(readme, "## OPTIONS", "## ")
	if strings.Contains(section, "\n### ") {
		section = sectionOf(section, "### "+name, "### ")
	} else if name != "setns" {
		section = ""
	}
	if section == "" {
		return nil, fmt.Errorf("README.md: no options of %s under \"## OPTIONS\" (### %s)", name, name)
	}
	var opts []string
	for _, line := range strings.Split(section, "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && strings.HasPrefix(line, "|") {
			opts = append(opts, options(strings.ReplaceAll(cells[1], "`", ""))...)
		}
	}
	return unique(opts), nil
}

// sectionOf returns the lines after the line that starts with heading, up
// to the next line that starts with next, or "".
func sectionOf(text, heading, next string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, heading) {
			end := i + 1
			for end < len(lines) && !strings.HasPrefix(lines[end], next) {
				end++
			}
			return strings.Join(lines[i+1:end], "\n")
		}
	}
	return ""
}
