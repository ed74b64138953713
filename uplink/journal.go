package uplink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// record is one connection's journal: what it is, and every host-side
// change made for it, in order, each written before it was made.
type record struct {
	Uplink
	NSInode   uint64       `json:"ns_inode"`
	HostInode uint64       `json:"host_inode"`
	Subnet    netip.Prefix `json:"subnet,omitzero"`
	Subnet6   netip.Prefix `json:"subnet6,omitzero"`
	Temporary bool         `json:"temporary,omitempty"`
	// PID is the process that made the connection: it holds a temporary
	// connection's table for as long as it lives.
	PID int `json:"pid"`
	// Done is set once Connect has made every change; a journal without
	// it whose process is gone is a connect that died half-way.
	Done  bool   `json:"done"`
	Steps []step `json:"steps"`

	path string
}

// step kinds.
const (
	stepVeth     = "veth"     // HostIf in the host, NSIf in the namespace
	stepTable    = "table"    // inet Table in the host
	stepSysctl   = "sysctl"   // Key in the host, Old its value before
	stepIptables = "iptables" // Bin -t filter -I Args... in the host
	stepPasta    = "pasta"    // PID, started at Start (clock ticks)
)

type step struct {
	Kind string `json:"kind"`
	Key  string `json:"key,omitempty"`
	Old  string `json:"old,omitempty"`
	// Set is the value written; "" for a sysctl found already set whose
	// Old another connection holds.
	Set   string   `json:"set,omitempty"`
	Bin   string   `json:"bin,omitempty"`
	Chain string   `json:"chain,omitempty"`
	Args  []string `json:"args,omitempty"`
	PID   int      `json:"pid,omitempty"`
	Start uint64   `json:"start,omitempty"`
}

// state is the journal directory, locked for one operation.
type state struct {
	dir  string
	lock *os.File
}

// lockState creates dir (0700) and takes its lock: every connect and
// disconnect on the machine runs one at a time.
func lockState(dir string) (*state, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err = lockWait(int(f.Fd())); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return &state{dir: dir, lock: f}, nil
}

func (s *state) unlock() { s.lock.Close() }

func (s *state) pathOf(name string) string {
	return filepath.Join(s.dir, HostIfName(name)+".json")
}

// load reads NAME's journal; a missing one gives fs.ErrNotExist.
func (s *state) load(name string) (*record, error) {
	r, err := readRecord(s.pathOf(name))
	if err == nil && r.Name != name {
		// Two names with the same hash: 50 bits, not expected.
		return nil, fmt.Errorf("journal %s belongs to %q", r.path, r.Name)
	}
	return r, err
}

func readRecord(path string) (*record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &record{path: path}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return r, nil
}

// all reads every journal.
func (s *state) all() ([]*record, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []*record
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
			continue
		}
		r, err := readRecord(filepath.Join(s.dir, e.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// save writes the journal atomically (and durably enough for a crash of
// the process: the kernel keeps the page cache).
func (s *state) save(r *record) error {
	if r.path == "" {
		r.path = s.pathOf(r.Name)
	}
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return err
	}
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.path)
}

// log appends a step and saves the journal before the change is made.
func (s *state) log(r *record, st step) error {
	r.Steps = append(r.Steps, st)
	return s.save(r)
}

func (s *state) remove(r *record) error {
	err := os.Remove(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
