package netns

// Every raw system call of the package lives in this file, so that the
// kernel-facing surface can be reviewed in one place. `make test` enforces
// it: no other file of the module imports golang.org/x/sys/unix.

import (
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Errno values the package tests for, re-exported for the other files.
const (
	errEINVAL = unix.EINVAL
	errEEXIST = unix.EEXIST
	errENOENT = unix.ENOENT
	errEBUSY  = unix.EBUSY
	errELOOP  = unix.ELOOP
	errESRCH  = unix.ESRCH
	errENOTTY = unix.ENOTTY

	nsfsMagic = unix.NSFS_MAGIC
)

// fileID is what identifies a namespace: the device and inode of its nsfs file.
type fileID struct{ dev, ino uint64 }

// fileInfo is what the package needs to know about an open file.
type fileInfo struct {
	id      fileID
	mode    uint32 // st_mode
	size    int64
	mtime   time.Time // age of a placeholder is measured from it
	nlink   uint64    // 0 once the file is unlinked
	fsMagic int64     // f_type of fstatfs
	nsType  int       // NS_GET_NSTYPE, 0 when not a namespace file
}

// inspect reads the identity, type and file system of an open file. The nsfs
// check comes first: only for nsfs files is NS_GET_NSTYPE meaningful.
func inspect(fd int) (fileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileInfo{}, os.NewSyscallError("fstat", err)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return fileInfo{}, os.NewSyscallError("fstatfs", err)
	}
	fi := fileInfo{
		id:      fileID{dev: st.Dev, ino: st.Ino},
		mode:    st.Mode,
		size:    st.Size,
		mtime:   time.Unix(st.Mtim.Unix()),
		nlink:   uint64(st.Nlink),
		fsMagic: int64(sfs.Type),
	}
	if fi.fsMagic == unix.NSFS_MAGIC {
		t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
		if err != nil {
			return fileInfo{}, os.NewSyscallError("ioctl NS_GET_NSTYPE", err)
		}
		fi.nsType = t
	}
	return fi, nil
}

func (fi fileInfo) isNetNS() bool {
	return fi.fsMagic == unix.NSFS_MAGIC && fi.nsType == unix.CLONE_NEWNET
}

func (fi fileInfo) isDir() bool     { return fi.mode&unix.S_IFMT == unix.S_IFDIR }
func (fi fileInfo) isRegular() bool { return fi.mode&unix.S_IFMT == unix.S_IFREG }

// lstatEntry describes path itself (a symlink is not followed).
func lstatEntry(path string) (fileInfo, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fileInfo{}, err
	}
	return fileInfo{
		id:    fileID{dev: st.Dev, ino: st.Ino},
		mode:  st.Mode,
		size:  st.Size,
		mtime: time.Unix(st.Mtim.Unix()),
	}, nil
}

// isSymlink reports whether an lstat mode is a symbolic link.
func (fi fileInfo) isSymlink() bool { return fi.mode&unix.S_IFMT == unix.S_IFLNK }

// openNoFollow opens path read-only with O_CLOEXEC, refusing a symlink in
// the last component (ELOOP) and never blocking on a FIFO.
func openNoFollow(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
}

// openFollow is openNoFollow without O_NOFOLLOW: for /proc magic links and
// paths the user names explicitly.
func openFollow(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
}

// reserve creates path exclusively with mode 0, as iproute2's netns_add does,
// and returns the open descriptor.
func reserve(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0)
}

// placeholderMark is the mode bit (S_ISVTX, meaningless on a regular file)
// that marks a placeholder made by this package. ip(8) makes mode 0.
const placeholderMark = unix.S_ISVTX

// reserveMarked reserves dir/name like reserve, but the file is made
// unnamed (O_TMPFILE), with mode placeholderMark, locked with flock, and
// only then linked in under name: no one ever sees it unmarked or
// unlocked while its creator lives. EEXIST means the name is taken.
// It returns the file opened by its name (fd: a mount target must be a
// named dentry, which the O_TMPFILE descriptor is not) and the descriptor
// holding the lock (lock; the same as fd in the fallback). Where the file
// system has no O_TMPFILE, it falls back to reserve and flock, unmarked.
// ENOENT means the name was deleted again before it could be opened.
func reserveMarked(dir, name string) (fd, lock int, err error) {
	path := dir + "/" + name
	lock, err = unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, placeholderMark)
	if err == unix.EOPNOTSUPP || err == unix.EISDIR || err == unix.EINVAL {
		if fd, err = reserve(path); err != nil {
			return -1, -1, err
		}
		if err := flockEx(fd); err != nil {
			unix.Unlink(path)
			unix.Close(fd)
			return -1, -1, err
		}
		return fd, fd, nil
	}
	if err != nil {
		return -1, -1, err
	}
	if err := flockEx(lock); err != nil {
		unix.Close(lock)
		return -1, -1, err
	}
	err = unix.Linkat(lock, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
	if err == unix.EPERM || err == unix.ENOENT { // no CAP_DAC_READ_SEARCH: the documented way
		err = unix.Linkat(unix.AT_FDCWD, fdPath(lock), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	}
	if err != nil {
		unix.Close(lock)
		return -1, -1, err
	}
	fd, err = openNoFollow(path)
	if err == nil {
		var a, b unix.Stat_t
		if unix.Fstat(fd, &a) != nil || unix.Fstat(lock, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
			unix.Close(fd)
			err = unix.ENOENT // replaced at once: ours is gone
		}
	}
	if err != nil {
		unix.Close(lock)
		return -1, -1, err
	}
	return fd, lock, nil
}

// marked reports whether a placeholder was made by this package.
func (fi fileInfo) marked() bool { return fi.mode&0o7777 == placeholderMark }

// fdPath is the /proc magic link of the caller's descriptor fd.
func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// bindOnto bind-mounts src onto the file open as fd (not following a
// name, which another process may have replaced meanwhile). It fails with
// ENOENT when that file was unlinked.
func bindOnto(src string, fd int) error {
	return os.NewSyscallError("mount", unix.Mount(src, fdPath(fd), "none", unix.MS_BIND, ""))
}

// umountFd lazily unmounts the mount whose root is open as fd, and no
// other: the /proc magic link resolves to that very mount, whatever is
// mounted at its path now.
func umountFd(fd int) error { return unix.Unmount(fdPath(fd), unix.MNT_DETACH) }

func closeFd(fd int) error { return unix.Close(fd) }

// flockEx takes an exclusive lock, waiting for it.
func flockEx(fd int) error { return os.NewSyscallError("flock", unix.Flock(fd, unix.LOCK_EX)) }

// flockTry takes an exclusive lock without waiting; EWOULDBLOCK means held.
func flockTry(fd int) (bool, error) {
	err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == unix.EWOULDBLOCK {
		return false, nil
	}
	if err != nil {
		return false, os.NewSyscallError("flock", err)
	}
	return true, nil
}

func flockUn(fd int) error { return unix.Flock(fd, unix.LOCK_UN) }

func mkdir(path string, mode uint32) error { return unix.Mkdir(path, mode) }

// mkdirShared is mkdir for the directories users must reach (the run
// directory, the user namespace directory and its parent): one it
// creates gets mode exactly, whatever the umask (root's may be 077).
func mkdirShared(path string, mode uint32) error {
	if err := unix.Mkdir(path, mode); err != nil {
		return err
	}
	return unix.Fchmodat(unix.AT_FDCWD, path, mode, 0)
}

func unlink(path string) error { return unix.Unlink(path) }

// setns moves the calling thread into the network namespace fd.
func setns(fd int) error { return os.NewSyscallError("setns", unix.Setns(fd, unix.CLONE_NEWNET)) }

// unshareNet gives the calling thread a new network namespace.
func unshareNet() error { return os.NewSyscallError("unshare", unix.Unshare(unix.CLONE_NEWNET)) }

// unshareMount gives the calling thread a new mount namespace (it implies
// CLONE_FS, which the kernel allows for one thread of a threaded process).
func unshareMount() error { return os.NewSyscallError("unshare", unix.Unshare(unix.CLONE_NEWNS)) }

// bindMount bind-mounts src onto dst, not recursively, like iproute2.
func bindMount(src, dst string) error {
	return os.NewSyscallError("mount", unix.Mount(src, dst, "none", unix.MS_BIND, ""))
}

// setPropagation applies MS_SHARED, MS_PRIVATE or MS_SLAVE, recursively.
func setPropagation(path string, flag uintptr) error {
	return unix.Mount("", path, "none", flag|unix.MS_REC, "")
}

// bindSelfRec makes path a mount point: a recursive bind of itself.
func bindSelfRec(path string) error {
	return unix.Mount(path, path, "none", unix.MS_BIND|unix.MS_REC, "")
}

const (
	propShared  = unix.MS_SHARED
	propPrivate = unix.MS_PRIVATE
	propSlave   = unix.MS_SLAVE
)

// umountDetach lazily unmounts the top mount at path.
func umountDetach(path string) error { return unix.Unmount(path, unix.MNT_DETACH) }

// isReadOnlyFS reports whether the file system at path is mounted read-only.
func isReadOnlyFS(path string) bool {
	var s unix.Statfs_t
	return unix.Statfs(path, &s) == nil && s.Flags&unix.ST_RDONLY != 0
}

// mountSysfs mounts a new sysfs on /sys; source is the namespace name, as ip does.
func mountSysfs(source string, readOnly bool) error {
	var flags uintptr
	if readOnly {
		flags = unix.MS_RDONLY
	}
	return os.NewSyscallError("mount", unix.Mount(source, "/sys", "sysfs", flags, ""))
}

// cloneTree makes a detached copy of the mount tree at path (with everything
// mounted below it), to be attached elsewhere with attachTree.
func cloneTree(path string) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path,
		unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_SYMLINK_NOFOLLOW)
	return fd, os.NewSyscallError("open_tree", err)
}

// attachTree attaches a tree made by cloneTree at path.
func attachTree(fd int, path string) error {
	return os.NewSyscallError("move_mount",
		unix.MoveMount(fd, "", unix.AT_FDCWD, path, unix.MOVE_MOUNT_F_EMPTY_PATH))
}

// execve replaces the process image; it returns only on failure.
func execve(path string, argv, env []string) error { return unix.Exec(path, argv, env) }

// parentDeathSignal returns the calling thread's parent-death signal
// (PR_GET_PDEATHSIG), 0 for none.
func parentDeathSignal() int {
	var sig int32
	unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0)
	return int(sig)
}

// pidfdOpen opens a pidfd (pidfd_open(2), Linux 5.3) for process pid.
func pidfdOpen(pid int) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	return fd, os.NewSyscallError("pidfd_open", err)
}

// waitReadable blocks until fd is readable; for a pidfd, until the process
// has exited.
func waitReadable(fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
	}
}

// setParentDeathSignal sets the calling thread's parent-death signal;
// 0 is left alone (a new thread has none).
func setParentDeathSignal(sig int) error {
	if sig == 0 {
		return nil
	}
	return os.NewSyscallError("prctl", unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(sig), 0, 0, 0))
}

// Used by the everyday options: /etc binds, DNS, privilege drop, loopback.

// attachFile mounts a copy of the file or directory src onto dst. dst is
// not followed if it is a symlink: the mount covers the link itself, so
// /etc/resolv.conf -> /run/.../stub-resolv.conf is replaced whatever the
// target, and stays replaced when the target is renamed over. mount(2)
// with MS_BIND would follow the link (as ip's bind_etc does) and land on
// the target file, and a rename of that file would detach it.
func attachFile(src, dst string) error {
	fd, err := cloneTreeFlat(unix.AT_FDCWD, src)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return attachTree(fd, dst)
}

// cloneTreeFlat makes a detached, non-recursive copy of the mount of path
// (relative to dirfd), like a plain bind.
func cloneTreeFlat(dirfd int, path string) (int, error) {
	fd, err := unix.OpenTree(dirfd, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	return fd, os.NewSyscallError("open_tree", err)
}

// attachContent mounts a new read-only file holding data onto dst (not
// following a symlink at dst). The file lives on a private tmpfs that is
// never attached anywhere else, so nothing has to be cleaned up: it goes
// away with the last mount namespace that uses it.
func attachContent(data []byte, dst string) error {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("fsopen", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "mode", "0755"); err != nil {
		return os.NewSyscallError("fsconfig", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return os.NewSyscallError("fsconfig", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("fsmount", err)
	}
	defer unix.Close(mfd)
	f, err := unix.Openat(mfd, "file", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return os.NewSyscallError("openat", err)
	}
	for len(data) > 0 && err == nil {
		var n int
		n, err = unix.Write(f, data)
		data = data[n:]
	}
	unix.Close(f)
	if err != nil {
		return os.NewSyscallError("write", err)
	}
	fd, err := cloneTreeFlat(mfd, "file")
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// Read-only inside, like a file the user cannot change for the run.
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return os.NewSyscallError("mount_setattr", err)
	}
	return attachTree(fd, dst)
}

// dropPrivileges switches the calling thread, and only it, to uid, gid and
// groups, then sets no_new_privs. The raw system calls matter: the libc
// and Go wrappers change every thread of the process. Exec uses it on the
// thread that then calls execve(2); Start does not (see limitForChild),
// so that no thread of a process that goes on as root runs as the user
// for a while. For a uid other
// than 0 every capability set goes: the bounding set first (dropping from
// it needs CAP_SETPCAP, so while still root), then setresuid, which clears
// the permitted, effective and ambient sets (capabilities(7)) unless a
// securebit says otherwise, so they and the inheritable set are cleared
// explicitly after it. no_new_privs stops setuid binaries from giving uid
// 0 back. All of it is kept by execve and inherited by children. Ids of
// (uid_t)-1 ("unchanged") are refused here too, whatever the caller checked.
func dropPrivileges(uid, gid uint32, groups []uint32) error {
	if uid == unchangedID || gid == unchangedID {
		return os.NewSyscallError("setresuid", unix.EINVAL)
	}
	var gp uintptr
	if len(groups) > 0 {
		gp = uintptr(unsafe.Pointer(&groups[0]))
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), gp, 0); e != 0 {
		return os.NewSyscallError("setgroups", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return os.NewSyscallError("setresgid", e)
	}
	if uid != 0 {
		if err := dropBoundingSet(); err != nil {
			return err
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return os.NewSyscallError("setresuid", e)
	}
	if uid != 0 {
		if err := clearCapabilities(); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl", err)
	}
	return nil
}

// limitForChild readies the calling thread, which keeps its ids, to fork
// a child that switches to uid itself (SysProcAttr.Credential, see
// (*NS).Start): for a uid other than 0 it empties the bounding, ambient
// and inheritable sets, and it sets no_new_privs; the child inherits all
// of it. The child's setuid(2) then clears its permitted and effective
// sets, and since none of the other sets holds anything, execve(2) gives
// the command no capability, whatever the securebits. The thread must be
// thrown away afterwards.
func limitForChild(uid uint32) error {
	if uid == unchangedID {
		return os.NewSyscallError("setresuid", unix.EINVAL)
	}
	if uid != 0 {
		if err := dropBoundingSet(); err != nil {
			return err
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl PR_CAP_AMBIENT", err)
		}
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return os.NewSyscallError("capget", err)
		}
		data[0].Inheritable, data[1].Inheritable = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return os.NewSyscallError("capset", err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl", err)
	}
	return nil
}

// dropBoundingSet removes every capability from the calling thread's
// bounding set: each one up to /proc/sys/kernel/cap_last_cap, which the
// kernel marks by answering EINVAL for the first one past it.
func dropBoundingSet() error {
	for c := uintptr(0); c < 64; c++ {
		err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0)
		if err == unix.EINVAL {
			return nil
		}
		if err != nil {
			return os.NewSyscallError("prctl PR_CAPBSET_DROP", err)
		}
	}
	return nil
}

// clearCapabilities empties the calling thread's ambient, permitted,
// effective and inheritable sets (capset(2) on thread 0, the caller).
func clearCapabilities() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_CAP_AMBIENT", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	return os.NewSyscallError("capset", unix.Capset(&hdr, &data[0]))
}

// closeOnExecFrom marks every descriptor from first on close-on-exec, so
// that execve(2) closes them, as sudo's closefrom does, and returns those
// it changed so that they can be put back (clearCloseOnExec). first < 0
// does nothing. close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11) marks
// them all at once, even ones opened meanwhile; before it each open
// descriptor is marked in turn.
func closeOnExecFrom(first int) ([]markedFd, error) {
	if first < 0 {
		return nil, nil
	}
	var changed []markedFd
	d, derr := os.Open("/proc/self/fd")
	if derr == nil {
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, n := range names {
			fd, err := strconv.Atoi(n)
			if err != nil || fd < first {
				continue
			}
			var st unix.Stat_t
			if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC == 0 &&
				unix.Fstat(fd, &st) == nil {
				changed = append(changed, markedFd{fd, fileID{st.Dev, st.Ino}})
			}
		}
	}
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return changed, nil
	}
	if err != unix.ENOSYS && err != unix.EINVAL || derr != nil {
		return nil, os.NewSyscallError("close_range", err)
	}
	for _, m := range changed {
		if _, err := unix.FcntlInt(uintptr(m.fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			clearCloseOnExec(changed)
			return nil, os.NewSyscallError("fcntl", err)
		}
	}
	return changed, nil
}

// inheritMu serialises inheritOnlyFrom: descriptor flags belong to the
// whole process, so two calls at once could each put back, before the
// other's fork, what the other had marked.
var inheritMu sync.Mutex

// inheritOnlyFrom runs start (a fork or an execve) with every descriptor
// from first on marked close-on-exec (closeOnExecFrom), then puts the
// flags back, one such call at a time in the process. first < 0 just
// runs start. It returns start's error, or the error of marking (start
// then did not run).
func inheritOnlyFrom(first int, start func() error) (startErr, setupErr error) {
	if first < 0 {
		return start(), nil
	}
	inheritMu.Lock()
	defer inheritMu.Unlock()
	changed, err := closeOnExecFrom(first)
	if err != nil {
		return nil, err
	}
	defer clearCloseOnExec(changed)
	return start(), nil
}

// markedFd is a descriptor closeOnExecFrom marked, with the identity of
// its file then.
type markedFd struct {
	fd int
	id fileID
}

// clearCloseOnExec undoes closeOnExecFrom for the descriptors it changed,
// each only while its number still refers to the same file: one closed
// meanwhile by another goroutine, its number reused for a file Go opened
// close-on-exec, keeps the flag.
func clearCloseOnExec(fds []markedFd) {
	for _, m := range fds {
		var st unix.Stat_t
		if unix.Fstat(m.fd, &st) == nil && (fileID{st.Dev, st.Ino}) == m.id {
			unix.FcntlInt(uintptr(m.fd), unix.F_SETFD, 0)
		}
	}
}

// iffUp is the IFF_UP interface flag, for bringing loopback up.
const iffUp = unix.IFF_UP

// openCovered opens the file dir/name as it is under whatever is mounted
// on it: a non-recursive clone of dir's mount has no submounts, so the
// lookup finds the placeholder itself. Used to lock a name while the
// mounts on it are replaced.
func openCovered(dir, name string) (int, error) {
	dfd, err := cloneTreeFlat(unix.AT_FDCWD, dir)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	return fd, os.NewSyscallError("openat", err)
}

// Used by the netns command's verbs.

// Netlink message types and attributes for nsids (linux/rtnetlink.h,
// linux/net_namespace.h).
const (
	netlinkRoute      = unix.NETLINK_ROUTE
	afUnspec          = unix.AF_UNSPEC
	rtmNewNSID        = unix.RTM_NEWNSID
	rtmGetNSID        = unix.RTM_GETNSID
	netnsaNSID        = unix.NETNSA_NSID
	netnsaFD          = unix.NETNSA_FD
	netnsaTargetNSID  = unix.NETNSA_TARGET_NSID
	netnsaCurrentNSID = unix.NETNSA_CURRENT_NSID
)

// statID returns the identity of the file path names, following symlinks:
// stat(2), as ip's identify and pids compare namespaces.
func statID(path string) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{dev: st.Dev, ino: st.Ino}, nil
}

// Inotify event bits Watch asks for and reads (inotify(7)).
const (
	inCreate      = unix.IN_CREATE
	inDelete      = unix.IN_DELETE
	inEventHeader = unix.SizeofInotifyEvent
)

// watchDir starts an inotify instance that reports entries created in and
// deleted from dir.
func watchDir(dir string) (int, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return -1, os.NewSyscallError("inotify_init1", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_DELETE); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("inotify_add_watch", err)
	}
	return fd, nil
}

// newWaker returns an eventfd that wakes a waitEvents call blocked on it.
func newWaker() (int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return fd, os.NewSyscallError("eventfd", err)
}

// wake makes the eventfd fd readable.
func wake(fd int) { unix.Write(fd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) }

// readNonblock reads from a non-blocking fd; it returns 0 and no error when
// there is nothing to read.
func readNonblock(fd int, b []byte) (int, error) {
	n, err := unix.Read(fd, b)
	if err == unix.EAGAIN {
		return 0, nil
	}
	return n, os.NewSyscallError("read", err)
}

// waitEvents blocks in poll(2) until inotify fd events is readable, the
// mount table that mounts (an open /proc/PID/mountinfo, or -1) belongs to
// has changed (the kernel flags that with POLLPRI), waker is readable, or
// timeout passes (a negative timeout waits forever).
func waitEvents(events, mounts, waker int, timeout time.Duration) (woken bool, err error) {
	fds := []unix.PollFd{
		{Fd: int32(events), Events: unix.POLLIN},
		{Fd: int32(waker), Events: unix.POLLIN},
		{Fd: int32(mounts), Events: unix.POLLPRI},
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	for {
		_, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("poll", err)
		}
		return fds[1].Revents != 0, nil
	}
}

// onMainThread reports whether the calling thread is the process's main
// thread (its thread id is the process id).
func onMainThread() bool { return unix.Gettid() == unix.Getpid() }

// Used for performance.

// listmount(2) and statmount(2) (Linux 6.8) ABI, from <linux/mount.h>,
// which x/sys does not wrap yet.
const (
	mntIDReqSizeVer0    = 24   // sizeof(struct mnt_id_req) version 0
	statmountSbBasic    = 0x01 // STATMOUNT_SB_BASIC
	statmountMntBasic   = 0x02 // STATMOUNT_MNT_BASIC
	statmountMntRoot    = 0x08 // STATMOUNT_MNT_ROOT
	statmountMntPoint   = 0x10 // STATMOUNT_MNT_POINT
	statmountStrOffset  = 512  // offsetof(struct statmount, str)
	statmountMaskOffset = 8    // offsetof(struct statmount, mask)
	statmountSbMajorAt  = 16   // offsetof(struct statmount, sb_dev_major)
	statmountSbMinorAt  = 20   // offsetof(struct statmount, sb_dev_minor)
	statmountParentAt   = 48   // offsetof(struct statmount, mnt_parent_id)
	statmountMntRootAt  = 104  // offsetof(struct statmount, mnt_root)
	statmountMntPointAt = 108  // offsetof(struct statmount, mnt_point)
)

// mntIDReq is struct mnt_id_req, version 0.
type mntIDReq struct {
	size  uint32
	spare uint32
	mntID uint64
	param uint64
}

// listSubmounts returns the mount points of the mounts directly below the
// top mount at dir (its children), in mount order, like submounts over
// mountinfo does.
// It asks the kernel with statx, listmount and statmount, which cost a few
// microseconds where reading /proc/thread-self/mountinfo costs about a
// millisecond once a thousand namespaces are mounted. When dir is not a
// mount point it returns nothing. It fails with ENOSYS (or another errno)
// on kernels before 6.8; callers then fall back to mountinfo.
func listSubmounts(dir string) ([]string, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID_UNIQUE, &stx); err != nil {
		return nil, err
	}
	if stx.Mask&unix.STATX_MNT_ID_UNIQUE == 0 || stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return nil, unix.ENOSYS
	}
	if stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return nil, nil
	}
	var ids []uint64
	var buf [64]uint64
	req := mntIDReq{size: mntIDReqSizeVer0, mntID: stx.Mnt_id}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_LISTMOUNT, uintptr(unsafe.Pointer(&req)),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if errno != 0 {
			return nil, errno
		}
		ids = append(ids, buf[:n]...)
		if int(n) < len(buf) {
			break
		}
		req.param = buf[n-1] // continue after the last one
	}
	// listmount lists every mount below, at any depth; keep the children.
	var points []string
	sm := make([]byte, statmountStrOffset+4096)
	for _, id := range ids {
		parent, p, err := statmountPoint(id, sm)
		if err != nil {
			return nil, err
		}
		if parent == stx.Mnt_id {
			points = append(points, p)
		}
	}
	return points, nil
}

// statmountPoint returns the parent's unique id and the mount point of
// the mount with unique id, using buf as scratch space.
func statmountPoint(id uint64, buf []byte) (parent uint64, point string, err error) {
	buf, err = statmount(id, statmountMntBasic|statmountMntPoint, buf)
	if err != nil {
		return 0, "", err
	}
	point, err = statmountString(buf, statmountMntPointAt)
	return binary.NativeEndian.Uint64(buf[statmountParentAt:]), point, err
}

// statmountRoot returns the device of the file system the mount with
// unique id belongs to, and its root: the path of the mounted directory
// or file relative to that file system's root.
func statmountRoot(id uint64, buf []byte) (dev uint64, root string, err error) {
	buf, err = statmount(id, statmountSbBasic|statmountMntRoot, buf)
	if err != nil {
		return 0, "", err
	}
	root, err = statmountString(buf, statmountMntRootAt)
	dev = unix.Mkdev(binary.NativeEndian.Uint32(buf[statmountSbMajorAt:]), binary.NativeEndian.Uint32(buf[statmountSbMinorAt:]))
	return dev, root, err
}

// statmount asks statmount(2) for want about the mount id, into buf or a
// larger buffer it returns.
func statmount(id, want uint64, buf []byte) ([]byte, error) {
	req := mntIDReq{size: mntIDReqSizeVer0, mntID: id, param: want}
	for {
		_, _, errno := unix.Syscall6(unix.SYS_STATMOUNT, uintptr(unsafe.Pointer(&req)),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if errno == unix.EOVERFLOW && len(buf) < 1<<20 {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if errno != 0 {
			return nil, errno
		}
		break
	}
	if binary.NativeEndian.Uint64(buf[statmountMaskOffset:])&want != want {
		return nil, unix.ENOSYS
	}
	return buf, nil
}

// statmountString returns the string whose offset is at field at.
func statmountString(buf []byte, at int) (string, error) {
	off := statmountStrOffset + int(binary.NativeEndian.Uint32(buf[at:]))
	if off >= len(buf) {
		return "", unix.EINVAL
	}
	end := off
	for end < len(buf) && buf[end] != 0 {
		end++
	}
	return string(buf[off:end]), nil
}

// fsRoot returns the device of the file system the directory dir is on,
// and dir's path relative to that file system's root, as statmount(2)
// gives a mount's root.
func fsRoot(dir string) (dev uint64, rel string, err error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID_UNIQUE, &stx); err != nil {
		return 0, "", os.NewSyscallError("statx", err)
	}
	if stx.Mask&unix.STATX_MNT_ID_UNIQUE == 0 {
		return 0, "", unix.ENOSYS
	}
	buf := make([]byte, statmountStrOffset+4096)
	_, point, err := statmountPoint(stx.Mnt_id, buf)
	if err != nil {
		return 0, "", os.NewSyscallError("statmount", err)
	}
	dev, root, err := statmountRoot(stx.Mnt_id, buf)
	if err != nil {
		return 0, "", os.NewSyscallError("statmount", err)
	}
	below, ok := strings.CutPrefix(dir, strings.TrimSuffix(point, "/"))
	if !ok || below != "" && below[0] != '/' {
		return 0, "", os.NewSyscallError("statmount", unix.EXDEV) // dir not below its mount's point
	}
	return dev, strings.TrimSuffix(root, "/") + below, nil
}

// gettid returns the calling thread's id.
func gettid() int { return unix.Gettid() }

// isNetNSFile reports whether path (symlinks followed) opens as a network
// namespace: nsfs, of type CLONE_NEWNET. It is inspect without the fstat.
func isNetNSFile(path string) bool {
	fd, err := openFollow(path)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil || sfs.Type != unix.NSFS_MAGIC {
		return false
	}
	t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	return err == nil && t == unix.CLONE_NEWNET
}

// fileidNSFS is FILEID_NSFS (include/linux/exportfs.h), the type of the
// file handles of nsfs files (Linux 6.18). Their handle is struct
// nsfs_file_handle: u64 ns_id, u32 ns_type (a CLONE_NEW* flag), u32 ns_inum.
const (
	fileidNSFS       = 0xf1
	nsfsHandleSize   = 16
	nsfsHandleTypeAt = 8
)

// openDirPath opens the directory path as an O_PATH descriptor, for
// lookups relative to it.
func openDirPath(path string) (int, error) {
	return unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// netNSAt tells whether dirfd/name, symlinks followed, is a network
// namespace, with one name_to_handle_at(2) and no open: an nsfs file's
// handle carries its namespace type, and files of other file systems get
// handles of other types. known is false when the handle cannot tell
// (kernels before 6.18 give nsfs files no handles, some file systems have
// none, or the lookup failed); the caller then opens the file to see.
func netNSAt(dirfd int, name string) (isNet, known bool) {
	h, _, err := unix.NameToHandleAt(dirfd, name, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return false, false
	}
	if h.Type() != fileidNSFS {
		return false, true
	}
	b := h.Bytes()
	if len(b) != nsfsHandleSize {
		return false, false
	}
	return binary.NativeEndian.Uint32(b[nsfsHandleTypeAt:]) == unix.CLONE_NEWNET, true
}

// bindFd bind-mounts the namespace open as fd onto path, through the
// /proc/self/fd magic link (nsfs files may be bound from any mount
// namespace, unlike other files).
func bindFd(fd int, path string) error {
	return bindMount("/proc/self/fd/"+strconv.Itoa(fd), path)
}

// Used by the doctor, to find mounts on a run-directory entry in other
// mount namespaces.

// NS_MNT_GET_NEXT and NS_MNT_GET_PREV (<linux/nsfs.h>, Linux 6.12):
// _IOR(NSIO, 11 or 12, struct mnt_ns_info), which x/sys does not have yet.
const (
	nsMntGetNext    = 0x8010b70b
	nsMntGetPrev    = 0x8010b70c
	mntNsInfoSizeV0 = 16
	lsmtRoot        = ^uint64(0) // LSMT_ROOT: list the whole namespace
)

// stepMountNS returns a descriptor of the mount namespace after (or, with
// prev, before) the one open as fd, in the kernel's order of namespace
// ids, so that every mount namespace can be visited, also those no
// process is in. ENOENT ends the walk; ENOTTY or EINVAL means the kernel
// cannot walk them.
func stepMountNS(fd int, prev bool) (int, error) {
	req := uintptr(nsMntGetNext)
	if prev {
		req = nsMntGetPrev
	}
	info := struct {
		size, nrMounts uint32
		id             uint64
	}{size: mntNsInfoSizeV0}
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&info)))
	if e != 0 {
		return -1, e
	}
	unix.CloseOnExec(int(r))
	return int(r), nil
}

// mountedIn enters the mount namespace open as nsfd on a throwaway thread
// and returns which of names, entries of the directory dir (device and
// inode), have something mounted on them there, wherever that directory
// is mounted (a container may bind the run directory at another path).
// Mounts are listed with listmount(2) and placed with statmount(2) and
// statx(2) (Linux 6.8); an error means it could not tell, and the caller
// must assume the worst.
//
// A mount stacked on a bind of an entry's file itself (a container binding
// RunDir/NAME at some path, then mounting on that) is on the entry too:
// such a bind is known by its file system (dirFS) and root (dirRoot/NAME,
// see fsRoot).
func mountedIn(nsfd int, dir fileID, dirFS uint64, dirRoot string, names map[string]bool) (map[string]bool, error) {
	type result struct {
		found map[string]bool
		err   error
	}
	done := make(chan result, 1)
	goLocked(func() {
		// Never unlocked: the thread leaves the process's file system
		// context and mount namespace, so it dies with this goroutine.
		found, err := mountedHere(nsfd, dir, dirFS, dirRoot, names)
		done <- result{found, err}
	})
	r := <-done
	return r.found, r.err
}

func mountedHere(nsfd int, dir fileID, dirFS uint64, dirRoot string, names map[string]bool) (map[string]bool, error) {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return nil, os.NewSyscallError("unshare", err)
	}
	if err := unix.Setns(nsfd, unix.CLONE_NEWNS); err != nil {
		return nil, os.NewSyscallError("setns", err)
	}
	var ids []uint64
	var buf [256]uint64
	req := mntIDReq{size: mntIDReqSizeVer0, mntID: lsmtRoot}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_LISTMOUNT, uintptr(unsafe.Pointer(&req)),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if errno != 0 {
			return nil, os.NewSyscallError("listmount", errno)
		}
		ids = append(ids, buf[:n]...)
		if int(n) < len(buf) {
			break
		}
		req.param = buf[n-1]
	}
	type mnt struct {
		parent uint64
		point  string
	}
	mounts := make(map[uint64]mnt, len(ids))
	sm := make([]byte, statmountStrOffset+4096)
	for _, id := range ids {
		parent, point, err := statmountPoint(id, sm)
		if err == unix.ENOENT {
			continue // unmounted meanwhile
		}
		if err != nil {
			return nil, os.NewSyscallError("statmount", err)
		}
		mounts[id] = mnt{parent, point}
	}
	found := map[string]bool{}
	for _, m := range mounts {
		p, ok := mounts[m.parent]
		if !ok {
			continue // the root
		}
		if p.point == m.point {
			// Stacked on another mount: that one is checked, unless it is
			// a bind of an entry's file, which this one is mounted on,
			// wherever that bind is.
			dev, root, err := statmountRoot(m.parent, sm)
			if err != nil && err != unix.ENOENT {
				return nil, os.NewSyscallError("statmount", err)
			}
			if name, ok := strings.CutPrefix(root, dirRoot+"/"); err == nil && ok && dev == dirFS && names[name] {
				found[name] = true
			}
			continue
		}
		slash := strings.LastIndexByte(m.point, '/')
		if slash < 0 || !names[m.point[slash+1:]] {
			continue
		}
		parentDir := m.point[:slash]
		if parentDir == "" {
			parentDir = "/"
		}
		var stx unix.Statx_t
		err := unix.Statx(unix.AT_FDCWD, parentDir, 0, unix.STATX_INO|unix.STATX_MNT_ID_UNIQUE, &stx)
		if err != nil {
			return nil, os.NewSyscallError("statx", err)
		}
		if stx.Mask&unix.STATX_MNT_ID_UNIQUE == 0 {
			return nil, unix.ENOSYS
		}
		if stx.Mnt_id != m.parent {
			// The directory is covered by another mount here: the path
			// does not lead to the mount point's directory.
			return nil, os.NewSyscallError("statx", unix.EXDEV)
		}
		if unix.Mkdev(stx.Dev_major, stx.Dev_minor) == dir.dev && stx.Ino == dir.ino {
			found[m.point[slash+1:]] = true
		}
	}
	return found, nil
}

// Used by the delegated namespaces (owner.go).

// nsGetUserNS and nsGetOwnerUID are NS_GET_USERNS and NS_GET_OWNER_UID
// (<linux/nsfs.h>): _IO(0xb7, 0x1) and _IO(0xb7, 0x4).
const (
	nsGetUserNS   = 0xb701
	nsGetOwnerUID = 0xb704
)

// owningUserNS returns a new descriptor of the user namespace that owns
// the namespace open as fd.
func owningUserNS(fd int) (int, error) {
	u, err := unix.IoctlRetInt(fd, nsGetUserNS)
	return u, os.NewSyscallError("ioctl NS_GET_USERNS", err)
}

// userNSOwner returns the uid (in the caller's user namespace) that owns
// the user namespace open as fd.
func userNSOwner(fd int) (uint32, error) {
	var uid uint32
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), nsGetOwnerUID, uintptr(unsafe.Pointer(&uid)))
	if errno != 0 {
		return 0, os.NewSyscallError("ioctl NS_GET_OWNER_UID", errno)
	}
	return uid, nil
}

// isUserNS tells whether fd is an nsfs file of a user namespace.
func isUserNS(fd int) bool {
	fi, err := inspect(fd)
	return err == nil && fi.fsMagic == unix.NSFS_MAGIC && fi.nsType == unix.CLONE_NEWUSER
}

// createFile makes path as an empty file with mode perm, failing if it
// exists; it is a mount point for a namespace file.
func createFile(path string, perm uint32) error {
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, perm)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// holderAttr is how a delegated namespace's holder process starts: as
// uid:gid with no supplementary groups, in a session of its own (without
// our controlling terminal, which uid could reach through it), killed if
// we die.
func holderAttr(uid, gid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}},
		Setsid: true, Pdeathsig: syscall.SIGKILL}
}
