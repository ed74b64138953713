package netns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Kinds of Finding.
const (
	KindPlaceholder    = "placeholder"      // empty mode-0 file no namespace was ever mounted on
	KindJunk           = "junk-file"        // a file that is not a namespace
	KindDanglingLink   = "dangling-symlink" // a symlink to nothing
	KindBadLink        = "bad-symlink"      // a symlink to something that is not a network namespace
	KindEmptyDir       = "empty-directory"
	KindDir            = "directory"         // not empty: never removed
	KindStacked        = "stacked"           // the same namespace mounted more than once on the name
	KindStackedMixed   = "stacked-different" // different namespaces mounted on the name
	KindOtherNamespace = "other-namespace"   // an nsfs file of another namespace type
	KindUnpropagated   = "unpropagated"      // empty here, a namespace in another mount namespace
)

// Finding is a run-directory entry that breaks "ip netns" for someone:
// ip lists it, cannot enter it, and may fail to delete it.
type Finding struct {
	Name   string
	Path   string
	Kind   string // one of the Kind constants
	Detail string // a short human explanation
	Mounts int    // for the stacked kinds: how many mounts are on it
	Age    time.Duration
	id     fileID
}

// Fixable reports whether Fix would act on f: the kind is one Fix handles
// and the entry is older than PlaceholderGrace, so no create of ours or
// ip's can be in progress on it.
func (f *Finding) Fixable() bool {
	switch f.Kind {
	case KindDir, KindStackedMixed, KindOtherNamespace, KindUnpropagated:
		return false
	case KindStacked:
		return true // the name stays usable throughout
	}
	return f.Age >= PlaceholderGrace
}

// Diagnose examines every entry of RunDir, like "netns doctor", and returns
// the ones that are not healthy, in directory order. A healthy entry is a
// network namespace mounted once, or a symlink to one. A missing RunDir is
// healthy. Reading needs no privilege beyond access to RunDir.
func Diagnose() ([]Finding, error) {
	names, err := List()
	if err != nil {
		return nil, err
	}
	mounts, err := readMountinfo()
	if err != nil {
		return nil, newError("diagnose", RunDir, err)
	}
	roots := map[string][]string{}
	for _, m := range mounts {
		roots[m.point] = append(roots[m.point], m.root)
	}
	var out []Finding
	for _, n := range names {
		if f := diagnose(n, roots[RunDir+"/"+n]); f != nil {
			out = append(out, *f)
		}
	}
	return out, nil
}

// diagnose examines one entry; roots are the roots of the mounts on it.
func diagnose(name string, roots []string) *Finding {
	path := RunDir + "/" + name
	fi, err := lstatEntry(path)
	if err != nil {
		return nil // gone meanwhile
	}
	f := &Finding{Name: name, Path: path, Age: time.Since(fi.mtime), id: fi.id, Mounts: len(roots)}
	switch {
	case len(roots) > 1:
		f.Kind, f.Detail = KindStacked, fmt.Sprintf("mounted %d times", len(roots))
		for _, r := range roots[1:] {
			if r != roots[0] {
				f.Kind, f.Detail = KindStackedMixed, fmt.Sprintf("%d different namespaces mounted on it", len(roots))
			}
		}
		return f
	case fi.isSymlink():
		ns, err := OpenPath(path)
		if err == nil {
			ns.Close()
			return nil
		}
		if errors.Is(err, os.ErrNotExist) {
			f.Kind, f.Detail = KindDanglingLink, "symlink to nothing"
		} else {
			f.Kind, f.Detail = KindBadLink, "symlink to something that is not a network namespace"
		}
		return f
	case fi.isDir():
		f.Kind, f.Detail = KindDir, "a directory with entries"
		if d, err := os.ReadDir(path); err == nil && len(d) == 0 {
			f.Kind, f.Detail = KindEmptyDir, "an empty directory"
		}
		return f
	}
	fd, err := openNoFollow(path)
	if err != nil {
		return nil
	}
	defer closeFd(fd)
	open, err := inspect(fd)
	switch {
	case err != nil:
		return nil
	case open.isNetNS():
		return nil
	case open.fsMagic == nsfsMagic:
		f.Kind, f.Detail = KindOtherNamespace, "another kind of namespace"
	case isPlaceholder(open):
		f.Kind, f.Detail = KindPlaceholder, "placeholder of a create that never finished"
		if held, _ := flockTry(fd); !held {
			f.Age = 0 // a create of ours holds it right now
		} else {
			flockUn(fd)
		}
		if pid := mountedElsewhere(path); pid > 0 {
			f.Kind = KindUnpropagated
			f.Detail = fmt.Sprintf("empty here, but a namespace is mounted on it in the mount namespace of pid %d "+
				"(made where %s is not shared, e.g. in a container)", pid, RunDir)
		}
	default:
		f.Kind, f.Detail = KindJunk, describe(open)
	}
	return f
}

// Fix repairs f, like "netns doctor --fix": it removes a placeholder, junk
// file, bad symlink (never its target) or empty directory, and unmounts
// the extra copies of a namespace stacked on its name. Before acting it
// examines the entry again and does nothing if it changed or is no longer
// Fixable. A live namespace is never touched. Needs CAP_SYS_ADMIN.
func (f *Finding) Fix() error {
	mounts, err := readMountinfo()
	if err != nil {
		return newError("fix", f.Name, err)
	}
	var roots []string
	for _, m := range mounts {
		if m.point == f.Path {
			roots = append(roots, m.root)
		}
	}
	now := diagnose(f.Name, roots)
	if now == nil || now.Kind != f.Kind || now.id != f.id || !now.Fixable() {
		return newError("fix", f.Name, errors.New("changed since it was examined, or not fixable"))
	}
	switch now.Kind {
	case KindStacked:
		err = unstack(f.Path, f.Name)
	case KindEmptyDir:
		err = os.Remove(f.Path)
	default:
		err = removePlaceholder(f.Path, now.id)
	}
	if err != nil {
		return newError("fix", f.Name, err)
	}
	return nil
}

// unstack leaves one mount of the namespace on path. The mounts cannot be
// peeled off one by one: they are peers through the shared run directory,
// so unmounting one unmounts them all. Instead the namespace is held open,
// every mount is removed and one bind is made again. Meanwhile the name is
// a placeholder, whose lock tells Ensure that a create is in progress.
func unstack(path, name string) error {
	ns, err := openNoFollow(path)
	if err != nil {
		return err
	}
	defer closeFd(ns)
	under, err := openCovered(RunDir, name)
	if err != nil {
		return err
	}
	defer closeFd(under)
	if err := flockEx(under); err != nil {
		return err
	}
	defer flockUn(under)
	for umountDetach(path) == nil {
	}
	return bindFd(ns, path)
}

// removePlaceholder unlinks path if it is still the file id, holding the
// file's lock (when it is a file) so no create of ours starts on it.
func removePlaceholder(path string, id fileID) error {
	if fd, err := openNoFollow(path); err == nil {
		defer closeFd(fd)
		if free, _ := flockTry(fd); !free {
			return errors.New("a create is in progress on it")
		}
		defer flockUn(fd)
	}
	cur, err := lstatEntry(path)
	if err != nil || cur.id != id {
		return errors.New("changed since it was examined")
	}
	return os.NewSyscallError("unlink", unlink(path))
}

// mountedElsewhere returns a process whose mount namespace has a network
// namespace mounted on path, or 0. It finds names created by a container
// whose run directory does not propagate to ours (spec: moby#17887):
// removing the file would detach the namespace there too.
func mountedElsewhere(path string) int {
	self, _ := os.Readlink("/proc/thread-self/ns/mnt")
	seen := map[string]bool{self: true}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		mnt, err := os.Readlink("/proc/" + p.Name() + "/ns/mnt")
		if err != nil || seen[mnt] {
			continue
		}
		seen[mnt] = true
		data, err := os.ReadFile("/proc/" + p.Name() + "/mountinfo")
		if err != nil {
			continue
		}
		for _, m := range parseMountinfo(data) {
			if m.point == path && strings.HasPrefix(m.root, "net:[") {
				return pid
			}
		}
	}
	return 0
}
