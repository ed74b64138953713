package packaging

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocMatchesHelp: each command's package doc comment (what "go doc
// ./cmd/NAME" shows) lists exactly the options its -h lists, has each of
// -h's synopsis lines, and describes each option in -h's own words
// (whitespace aside), so adding an option to the usage text fails here
// until main.go's doc says the same.
func TestDocMatchesHelp(t *testing.T) {
	t.Parallel()
	build := build(t)
	for _, name := range commands(t) {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(build, name), "-h").Output()
			if err != nil {
				t.Fatalf("%s -h: %v", name, err)
			}
			help := string(out)
			doc := packageDoc(t, filepath.Join(root, "cmd", name, "main.go"))
			compare(t, name+" -h", helpOptions(help), "cmd/"+name+"/main.go", docOptions(doc))
			flat := collapse(doc)
			for _, want := range append(helpSynopsis(help), helpEntries(help)...) {
				if !strings.Contains(flat, want) {
					t.Errorf("%s -h has %q, cmd/%s/main.go's doc comment does not", name, want, name)
				}
			}
		})
	}
}

// packageDoc returns the package doc comment of a Go file, as text.
func packageDoc(t *testing.T, file string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatalf("%s: no package doc comment", file)
	}
	return f.Doc.Text()
}

// docOptions reads a command's doc comment as helpOptions reads -h: the
// options in the "# Synopsis" section, and in the first column of each
// line that starts with "-" in a section whose heading ends in "options"
// ("# Options", "# Exec options").
func docOptions(doc string) []string {
	var opts []string
	section := ""
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "# "):
			section = strings.ToLower(line)
		case section == "# synopsis":
			opts = append(opts, options(line)...)
		case strings.HasSuffix(section, "options") && strings.HasPrefix(trimmed, "-"):
			term, _, _ := strings.Cut(strings.ReplaceAll(trimmed, "\t", "  "), "  ")
			opts = append(opts, options(term)...)
		}
	}
	return unique(opts)
}

// helpSynopsis returns -h's synopsis lines (up to the first empty line),
// without "Usage:", whitespace collapsed.
func helpSynopsis(help string) []string {
	var lines []string
	for _, line := range strings.Split(help, "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		lines = append(lines, collapse(strings.TrimPrefix(line, "Usage:")))
	}
	return lines
}

// helpEntries returns the option entries of -h after the synopsis: a line
// starting with "-" and the more indented lines that continue it,
// whitespace collapsed.
func helpEntries(help string) []string {
	_, body, _ := strings.Cut(help, "\n\n")
	var entries []string
	indent := -1 // of the entry's first line; -1: not in an entry
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		at := len(line) - len(strings.TrimLeft(line, " \t"))
		switch {
		case strings.HasPrefix(trimmed, "-"):
			entries = append(entries, collapse(line))
			indent = at
		case indent >= 0 && trimmed != "" && at > indent:
			entries[len(entries)-1] += " " + collapse(line)
		default:
			indent = -1
		}
	}
	return entries
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
