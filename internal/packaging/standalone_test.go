package packaging

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStandsAlone: the repository carries its own conventions, in
// HACKING.md: no file cites numbered sections (the section sign, U+00A7) of a document that is not in
// it, and every relative Markdown link points at a file that is.
func TestStandsAlone(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)#:\s]+)(?:#[^)]*)?\)`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "build") {
				return filepath.SkipDir
			}
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil || bytes.IndexByte(text, 0) >= 0 {
			return err // binary files are skipped
		}
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(text), "\n") {
			if strings.Contains(line, "\u00a7") {
				t.Errorf("%s:%d cites a section of an outside document: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		if strings.HasSuffix(path, ".md") {
			for _, m := range link.FindAllStringSubmatch(string(text), -1) {
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), m[1])); err != nil {
					t.Errorf("%s links to %s, which is not in the repository", rel, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "HACKING.md")); err != nil {
		t.Error(err)
	}
}
