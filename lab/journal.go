package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StateDir holds one journal per lab, LAB.json: written before an apply
// creates namespaces (naming them, so that one killed before it marked
// them can tell them from foreign ones) and after it succeeds (with the
// file applied, so "status LAB", "graph LAB" and "destroy LAB" work
// without the file). The kernel's markers stay the truth: a lost
// journal costs only those conveniences.
var StateDir = "/run/setns/labs"

// journal is the content of StateDir/LAB.json.
type journal struct {
	Lab     string   `json:"lab"`
	Prefix  string   `json:"prefix"`
	Pending []string `json:"pending,omitempty"` // namespaces an apply is creating
	File    string   `json:"file,omitempty"`    // the file last applied
	Source  string   `json:"source,omitempty"`  // its content
}

func journalPath(lab string) string { return filepath.Join(StateDir, lab+".json") }

// readJournal returns lab's journal, or nil and an error wrapping
// fs.ErrNotExist.
func readJournal(lab string) (*journal, error) {
	b, err := os.ReadFile(journalPath(lab))
	if err != nil {
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("journal %s: %w", journalPath(lab), err)
	}
	return &j, nil
}

// write replaces the journal atomically (a temporary file renamed over).
func (j *journal) write() error {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	path := journalPath(j.Lab)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func removeJournal(lab string) error {
	err := os.Remove(journalPath(lab))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Recorded returns the lab file last applied for lab, as the journal
// keeps it, parsed again; an error wrapping fs.ErrNotExist when there is
// no record.
func Recorded(lab string) (*Lab, error) {
	j, err := readJournal(lab)
	if err != nil {
		return nil, err
	}
	if j.Source == "" {
		return nil, fmt.Errorf("lab %s: no applied file recorded: %w", lab, fs.ErrNotExist)
	}
	name := j.File
	if name == "" {
		name = journalPath(lab)
	}
	return Parse(name, []byte(j.Source))
}
