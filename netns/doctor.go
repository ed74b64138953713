package netns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
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
	KindOrphanOwner    = "orphan-owner"      // in UserNSDir: no network namespace of its own at RunDir/NAME
)

// StaleAge is how old (by its modification time) a placeholder not made
// by this package must be before "netns doctor --fix" removes it: ip(8)
// takes no lock, so nothing else tells its slow create from a dead one.
// It is wall-clock time, which a clock step can fool; that is why Ensure
// never goes by it, and why the doctor only acts when asked to.
const StaleAge = time.Minute

// Finding is a run-directory entry that breaks "ip netns" for someone:
// ip lists it, cannot enter it, and may fail to delete it.
type Finding struct {
	Name   string
	Path   string
	Kind   string // one of the Kind constants
	Detail string // a short human explanation
	Mounts int    // for the stacked kinds: how many mounts are on it
	Age    time.Duration

	// Blocked says why Fix leaves an entry of a kind it handles alone
	// (too young, a create holds it, or another mount namespace has
	// something mounted on it, or could have), or is "".
	Blocked string

	id fileID
}

// Fixable reports whether Fix would act on f: the kind is one Fix handles
// and nothing blocks it (see Blocked).
func (f *Finding) Fixable() bool {
	switch f.Kind {
	case KindDir, KindStackedMixed, KindOtherNamespace, KindUnpropagated:
		return false
	}
	return f.Blocked == ""
}

// Diagnose examines every entry of RunDir, like "netns doctor", and returns
// the ones that are not healthy, in directory order. A healthy entry is a
// network namespace mounted once, or a symlink to one. A missing RunDir is
// healthy. Reading needs no privilege beyond access to RunDir; seeing
// into other mount namespaces (below) needs CAP_SYS_ADMIN, and without it
// nothing is Fixable that Fix would unlink.
//
// Fix would unlink placeholders, junk files, bad symlinks and empty
// directories, and unlinking a name detaches whatever another mount
// namespace has mounted on it: the live namespace of a container whose
// run directory does not propagate to ours, or is bound at another path
// (-v /run/netns:/var/run/netns). So every mount namespace the kernel
// lets us reach is examined: those of all processes and, where the kernel
// can list them (NS_MNT_GET_NEXT, Linux 6.12), those no process is in.
// A mount there counts when its mount point is an entry of the very
// directory RunDir is (same device and inode), whatever its path, or a
// bind of an entry's file itself (-v /run/netns/NAME:/somewhere). A
// placeholder with a namespace mounted elsewhere is KindUnpropagated; any
// such entry, and every one when some namespace could not be examined,
// is left alone (Blocked says why).
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
	guardElsewhere(out)
	return append(out, diagnoseOwners()...), nil
}

// diagnoseOwners checks the owner pairs of delegated namespaces: each
// entry of UserNSDir must be a user namespace that owns the network
// namespace of the same name in RunDir. One that does not (the name was
// deleted by "ip netns delete", which knows nothing of it) is
// KindOrphanOwner, and Fix removes it (RemoveOwner).
func diagnoseOwners() []Finding {
	entries, err := os.ReadDir(UserNSDir)
	if err != nil {
		return nil
	}
	var out []Finding
	for _, e := range entries {
		if f := diagnoseOwner(e.Name()); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

func diagnoseOwner(name string) *Finding {
	o, err := LookupOwner(name)
	if err != nil || o != nil && o.Paired {
		return nil
	}
	detail := "user namespace of a delegated name whose network namespace is gone or not its own"
	if o == nil {
		detail = "not a user namespace"
	}
	return &Finding{Name: name, Path: UserNSDir + "/" + name, Kind: KindOrphanOwner, Detail: detail}
}

// removable reports whether Fix would unlink an entry of f's kind.
func (f *Finding) removable() bool {
	switch f.Kind {
	case KindPlaceholder, KindJunk, KindDanglingLink, KindBadLink, KindEmptyDir:
		return true
	}
	return false
}

// guardElsewhere blocks the findings Fix would unlink that another mount
// namespace has something mounted on, or all of them when that cannot be
// told.
func guardElsewhere(findings []Finding) {
	names := map[string]bool{}
	for _, f := range findings {
		if f.removable() && f.Blocked == "" {
			names[f.Name] = true
		}
	}
	if len(names) == 0 {
		return
	}
	where, err := mountedElsewhere(names)
	for i := range findings {
		f := &findings[i]
		if !names[f.Name] {
			continue
		}
		switch w, found := where[f.Name]; {
		case err != nil:
			f.Blocked = "cannot tell whether another mount namespace uses it: " + err.Error()
		case found && f.Kind == KindPlaceholder:
			f.Kind = KindUnpropagated
			f.Detail = fmt.Sprintf("empty here, but mounted on in the mount namespace %s "+
				"(made where %s is not shared, e.g. in a container)", w, RunDir)
		case found:
			f.Blocked = "something is mounted on it in the mount namespace " + w
		}
	}
}

// diagnose examines one entry; roots are the roots of the mounts on it.
func diagnose(name string, roots []string) *Finding {
	path := RunDir + "/" + name
	fi, err := lstatEntry(path)
	if err != nil {
		return nil // gone meanwhile
	}
	f := &Finding{Name: name, Path: path, Age: time.Since(fi.mtime), id: fi.id, Mounts: len(roots)}
	youngBlock := func() {
		if f.Age < PlaceholderGrace {
			f.Blocked = fmt.Sprintf("younger than %v, a create may be in progress", PlaceholderGrace)
		}
	}
	switch {
	case len(roots) > 1:
		f.Kind, f.Detail = KindStacked, fmt.Sprintf("mounted %d times", len(roots))
		for _, r := range roots[1:] {
			if r != roots[0] {
				f.Kind, f.Detail = KindStackedMixed, fmt.Sprintf("%d different namespaces mounted on it", len(roots))
			}
		}
		// The age of the name is that of the file under the mounts, and
		// its lock tells whether a create or delete of ours is at it.
		busy := false
		if under, err := openCovered(RunDir, name); err == nil {
			if u, err := inspect(under); err == nil {
				f.Age = time.Since(u.mtime)
			}
			if free, err := flockTry(under); err == nil && free {
				flockUn(under)
			} else {
				busy = err == nil
			}
			closeFd(under)
		}
		youngBlock()
		if busy && f.Blocked == "" {
			f.Blocked = "a create or delete is in progress on it"
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
		youngBlock()
		return f
	case fi.isDir():
		f.Kind, f.Detail = KindDir, "a directory with entries"
		if d, err := os.ReadDir(path); err == nil && len(d) == 0 {
			f.Kind, f.Detail = KindEmptyDir, "an empty directory"
			youngBlock()
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
		held, _ := flockTry(fd)
		if held {
			defer flockUn(fd)
			if now, err := inspect(fd); err != nil || now.nlink == 0 {
				return nil // deleted while we waited for the lock
			}
			// Opened before a create mounted its namespace on it, and
			// the create has finished since: the name is a namespace
			// now (lstat sees what is mounted on the name).
			if cur, err := lstatEntry(path); err != nil || cur.id != open.id {
				return nil
			}
		}
		switch {
		case !held:
			f.Blocked = "a create is in progress on it"
		case open.marked():
			// Made by this package, and its creator is gone: abandoned.
		case f.Age < StaleAge:
			f.Blocked = fmt.Sprintf("younger than %v, and not made by setns: ip may still be creating it", StaleAge)
		}
	default:
		f.Kind, f.Detail = KindJunk, describe(open)
		youngBlock()
	}
	return f
}

// Fix repairs f, like "netns doctor --fix": it removes a placeholder, junk
// file, bad symlink (never its target) or empty directory, and unmounts
// the extra copies of a namespace stacked on its name. Before acting it
// examines the entry again, other mount namespaces included, and does
// nothing if it changed or is no longer Fixable. A live namespace is never
// touched. Needs CAP_SYS_ADMIN.
func (f *Finding) Fix() error {
	if f.Kind == KindOrphanOwner {
		if diagnoseOwner(f.Name) == nil {
			return newError("fix", f.Name, errors.New("changed since it was examined"))
		}
		return RemoveOwner(f.Name)
	}
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
	if now != nil {
		one := []Finding{*now}
		guardElsewhere(one)
		now = &one[0]
	}
	if now == nil || now.Kind != f.Kind || now.id != f.id || !now.Fixable() {
		why := "changed since it was examined"
		if now != nil && now.Blocked != "" {
			why = now.Blocked
		} else if now != nil && now.Kind == f.Kind && now.id == f.id {
			why = "not fixable"
		}
		return newError("fix", f.Name, errors.New(why))
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

// unstack leaves one mount of the namespace on path, and the name never
// stops being that namespace meanwhile. The extra mounts are taken off
// from the top, each through a descriptor of that very mount. They are
// often peers (the run directory is shared, so a bind of the name onto
// itself is copied into the peer group), and then one unmount takes all
// of them off together; the bottom mount is never among them: it sits on
// the run directory's own mount, which is not in the namespace mounts'
// peer group, so no unmount of a mount above it propagates to it. Should
// the name still end up bare, the namespace, held open throughout, is
// bound again at once. The file under the mounts is locked meanwhile, so
// Ensure and our deletes wait; if it is locked already, unstack fails.
func unstack(path, name string) error {
	under, err := openCovered(RunDir, name)
	if err != nil {
		return err
	}
	defer closeFd(under)
	// Not flockEx: a create or delete stopped while holding the lock
	// would keep Fix waiting for ever.
	if free, err := flockTry(under); err != nil {
		return err
	} else if !free {
		return errors.New("a create or delete is in progress on it")
	}
	defer flockUn(under)
	ns, err := openNoFollow(path)
	if err != nil {
		return err
	}
	defer closeFd(ns)
	want, err := inspect(ns)
	if err != nil {
		return err
	}
	if !want.isNetNS() {
		return errors.New("changed since it was examined")
	}
	for range 64 {
		mounts, err := readMountinfo()
		if err != nil {
			return err
		}
		n := 0
		for _, m := range mounts {
			if m.point == path {
				n++
			}
		}
		if n <= 1 {
			break
		}
		top, err := openNoFollow(path)
		if err != nil {
			return err
		}
		fi, err := inspect(top)
		if err == nil && fi.id != want.id {
			err = errors.New("another namespace was mounted on it meanwhile")
		}
		if err == nil {
			err = umountFd(top)
		}
		closeFd(top)
		if err != nil {
			return err
		}
	}
	if fd, err := openNoFollow(path); err == nil {
		fi, err := inspect(fd)
		closeFd(fd)
		if err == nil && fi.id == want.id {
			return nil
		}
	}
	if err := bindFd(ns, path); err != nil {
		return fmt.Errorf("the name lost its namespace and binding it again failed: %w", err)
	}
	return nil
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

// mountedElsewhere finds, for each of names (entries of RunDir), a mount
// namespace that has something mounted on that entry, and describes it.
// Where the kernel can walk every mount namespace (NS_MNT_GET_NEXT and
// _PREV), all are visited, also those no process is in; elsewhere, those
// of all processes. An error means some namespace could not be examined,
// so the answer is not complete.
func mountedElsewhere(names map[string]bool) (map[string]string, error) {
	dir, err := statID(RunDir)
	if err != nil {
		return nil, err
	}
	dirFS, dirRoot, err := fsRoot(RunDir)
	if err != nil {
		return nil, err
	}
	self, err := openFollow("/proc/thread-self/ns/mnt")
	if err != nil {
		return nil, os.NewSyscallError("open", err)
	}
	defer closeFd(self)
	walk := true
	if next, err := stepMountNS(self, false); err == nil {
		closeFd(next)
	} else if err == errENOTTY || err == errEINVAL {
		walk = false // before Linux 6.12
	}
	seen := map[fileID]bool{}
	pids := map[fileID]int{} // for the descriptions
	found := map[string]string{}
	describe := func(id fileID) string {
		if pid, ok := pids[id]; ok {
			return fmt.Sprintf("mnt:[%d] of pid %d", id.ino, pid)
		}
		return fmt.Sprintf("mnt:[%d] (no process seen in it)", id.ino)
	}
	visit := func(fd int) error {
		fi, err := inspect(fd)
		if err != nil {
			return err
		}
		if seen[fi.id] {
			return nil
		}
		seen[fi.id] = true
		got, err := mountedIn(fd, dir, dirFS, dirRoot, names)
		if err != nil {
			return fmt.Errorf("%s: %w", describe(fi.id), err)
		}
		for n := range got {
			if _, ok := found[n]; !ok {
				found[n] = describe(fi.id)
			}
		}
		return nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fd, err := openFollow("/proc/" + p.Name() + "/ns/mnt")
		if err == errENOENT || err == errESRCH {
			continue // exited meanwhile
		}
		if err != nil {
			if walk {
				continue // the walk reaches it; only the description is lost
			}
			return nil, fmt.Errorf("mount namespace of pid %d: %w", pid, os.NewSyscallError("open", err))
		}
		if fi, err := inspect(fd); err == nil {
			if _, ok := pids[fi.id]; !ok {
				pids[fi.id] = pid
			}
		}
		if !walk {
			err = visit(fd)
		}
		closeFd(fd)
		if err != nil {
			return nil, err
		}
	}
	if !walk {
		return found, nil
	}
	if err := visit(self); err != nil {
		return nil, err
	}
	for _, prev := range []bool{false, true} {
		cur := self
		for {
			next, err := stepMountNS(cur, prev)
			if cur != self {
				closeFd(cur)
			}
			if err == errENOENT {
				break
			}
			if err != nil {
				return nil, os.NewSyscallError("ioctl NS_MNT_GET_NEXT", err)
			}
			cur = next
			if err := visit(cur); err != nil {
				closeFd(cur)
				return nil, err
			}
		}
	}
	return found, nil
}
