package netns

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// UserNSDir holds the user namespaces of delegated namespaces (see
// CreateOwned), one bind-mounted nsfs file per name. It is not RunDir,
// whose every entry "ip netns list" shows.
const UserNSDir = "/run/setns/userns"

// ErrNotOwner is the cause when a user who does not own a delegated
// namespace tries to enter it: the kernel lets only the owner of its user
// namespace (and root) in.
var ErrNotOwner = errors.New("permission denied")

// CreateOwned makes NAME like Create, but delegated to the user uid: the
// network namespace is owned by a new user namespace whose owner is uid,
// which maps uid (and gid) to 0 inside and nothing else. That user can
// then enter it without privileges (joining the user namespace first,
// which setns does) and configure it with the capabilities root has
// inside; files the user's programs create stay owned by uid:gid on the
// host; other unprivileged users are refused by the kernel. The network
// namespace is mounted at RunDir/NAME as usual, the user namespace at
// UserNSDir/NAME. No process stays running.
//
// The user namespace is made by a short-lived holder process started as
// uid:gid ("unshare --user --map-root-user --net" from util-linux), since
// a user namespace's owner is the effective uid of its creator. What the
// holder made is checked before anything is mounted: its user namespace
// must be owned by uid and must own its network namespace. Needs root.
//
// The owner holds every capability in the user namespace, so can take on
// gid (setgid to 0 inside) on the host: gid is a grant of that group, and
// neither uid nor gid may be 0.
func CreateOwned(name string, uid, gid uint32, opts *CreateOptions) (*NS, error) {
	if uid == 0 {
		return nil, newError("create", name, errors.New("owner must not be root"))
	}
	if gid == 0 {
		// The owner can setgid to the group gid 0 inside maps to: with
		// gid 0 that would be the host's root group.
		return nil, newError("create", name, errors.New("owner's group must not be root (gid 0)"))
	}
	r, err := reserveName("create", name)
	if err != nil {
		return nil, err
	}
	return r.fill(func(file int) (*NS, error) {
		user, net, err := makeOwned(uid, gid)
		if err != nil {
			return nil, err
		}
		defer closeFd(user)
		defer closeFd(net)
		// The network namespace first: a user namespace in UserNSDir
		// without its pair is an orphan-owner, which doctor --fix
		// removes.
		if err := bindOnto(fdPath(net), file); err != nil {
			return nil, err
		}
		detach := func() {
			if fi, ierr := inspect(net); ierr == nil {
				detachMounts(r.path, fi.id)
			}
		}
		hook("owned-half")
		if err := placeUserNS(name, user); err != nil {
			detach()
			return nil, fmt.Errorf("user namespace: %w", err)
		}
		ns, err := openMade("create", name, r.path, net)
		if err != nil {
			detach()
			RemoveOwner(name)
			return nil, err
		}
		if opts.loopback() {
			if err := ns.Do(loopbackUp); err != nil {
				opts.warn(newError("create", name, fmt.Errorf("loopback up: %w", err)))
			}
		}
		return ns, nil
	})
}

// holderTimeout bounds the wait for the holder's answer: the holder runs
// as the owner, who can stop it.
var holderTimeout = 30 * time.Second

// makeOwned starts the holder as uid:gid, waits until it is in its new
// user and network namespaces, and returns descriptors of both, checked.
func makeOwned(uid, gid uint32) (user, net int, err error) {
	prog, err := exec.LookPath("unshare")
	if err != nil {
		return -1, -1, fmt.Errorf("user namespace: %v (install util-linux)", err)
	}
	// cat echoes a line once unshare has made the namespaces and exec'd
	// it, and exits when we close its input.
	cmd := exec.Command(prog, "--user", "--map-root-user", "--net", "cat")
	cmd.Dir, cmd.Env = "/", []string{"PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = holderAttr(uid, gid)
	in, err := cmd.StdinPipe()
	if err != nil {
		return -1, -1, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return -1, -1, err
	}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	// The holder runs as uid, who may read its descriptors (it is theirs,
	// and they have every capability in its user namespace): none of
	// ours but the pipes may reach it, even ones the caller left open
	// without close-on-exec.
	startErr, err := inheritOnlyFrom(3, cmd.Start)
	if err != nil {
		return -1, -1, fmt.Errorf("user namespace: %w", err)
	}
	if err := startErr; err != nil {
		// %v: newError would replace a wrapped *fs.PathError by its errno.
		return -1, -1, fmt.Errorf("user namespace: start %s as uid %d: %v", prog, uid, unwrapPath(err))
	}
	// The owner controls the holder: it may stop, write without end, or
	// leave its output open in another process. The answer is bounded
	// in time and size, the holder is killed once done with, and Wait
	// does not wait for its output to be closed for long.
	cmd.WaitDelay = time.Second
	stop := func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}
	defer stop()
	line, rerr := func() (string, error) {
		if f, ok := out.(*os.File); ok {
			f.SetReadDeadline(time.Now().Add(holderTimeout))
		}
		if _, err := io.WriteString(in, "ready\n"); err != nil {
			return "", err
		}
		return bufio.NewReader(io.LimitReader(out, 64)).ReadString('\n')
	}()
	if rerr != nil || line != "ready\n" {
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			return -1, -1, fmt.Errorf("user namespace: holder (%s as uid %d) gave no answer in %v", prog, uid, holderTimeout)
		}
		stop()
		if b := UserNSBlocker("/proc/sys"); b != "" {
			return -1, -1, fmt.Errorf("user namespace: %s", b)
		}
		if msg := stderr.line(); msg != "" {
			return -1, -1, fmt.Errorf("user namespace: %s", msg)
		}
		if rerr == nil || rerr == io.EOF {
			return -1, -1, fmt.Errorf("user namespace: holder (%s as uid %d) answered %q, not \"ready\"", prog, uid, line)
		}
		return -1, -1, fmt.Errorf("user namespace: holder failed: %v", rerr)
	}
	// The holder is our child, not yet waited for: its PID is its own.
	dir := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/"
	if user, err = openFollow(dir + "user"); err != nil {
		return -1, -1, os.NewSyscallError("open", err)
	}
	if net, err = openFollow(dir + "net"); err != nil {
		closeFd(user)
		return -1, -1, os.NewSyscallError("open", err)
	}
	if err := checkOwned(user, net, uid); err != nil {
		closeFd(user)
		closeFd(net)
		return -1, -1, err
	}
	return user, net, nil
}

// checkOwned verifies that user is a user namespace owned by uid, other
// than ours, and that it owns the network namespace net: the holder runs
// as that user, who could have tampered with it.
func checkOwned(user, net int, uid uint32) error {
	ufi, err := inspect(user)
	if err != nil {
		return err
	}
	if !isUserNS(user) {
		return errors.New("user namespace: holder gave no user namespace")
	}
	if self, err := statID("/proc/self/ns/user"); err != nil || self == ufi.id {
		return errors.New("user namespace: holder made none")
	}
	if owner, err := userNSOwner(user); err != nil || owner != uid {
		return fmt.Errorf("user namespace: not owned by uid %d", uid)
	}
	nfi, err := inspect(net)
	if err != nil || !nfi.isNetNS() {
		return errors.New("user namespace: holder gave no network namespace")
	}
	o, err := owningUserNS(net)
	if err != nil {
		return err
	}
	defer closeFd(o)
	ofi, err := inspect(o)
	if err != nil || ofi.id != ufi.id {
		return errors.New("user namespace: network namespace not owned by it")
	}
	return nil
}

// placeUserNS bind-mounts the user namespace open as fd at UserNSDir/NAME,
// replacing a stale one of ours there.
func placeUserNS(name string, fd int) error {
	for _, d := range []string{filepath.Dir(UserNSDir), UserNSDir} {
		if err := mkdirShared(d, 0o755); err != nil && err != errEEXIST {
			return os.NewSyscallError("mkdir", err)
		}
		fi, err := lstatEntry(d)
		if err != nil || !fi.isDir() {
			return fmt.Errorf("%s is not a directory", d)
		}
	}
	path := filepath.Join(UserNSDir, name)
	RemoveOwner(name)
	if err := createFile(path, 0o444); err != nil {
		return os.NewSyscallError("create", err)
	}
	if err := bindMount(fdPath(fd), path); err != nil {
		unlink(path)
		return err
	}
	return nil
}

// RemoveOwner removes the user namespace of the delegated namespace NAME
// from UserNSDir: the user namespace mounts at UserNSDir/NAME (only those)
// and then the empty file they were on. Everything in UserNSDir is ours;
// a name with nothing there is not an error. "netns delete" calls it after
// Delete.
func RemoveOwner(name string) error {
	if err := ValidName(name); err != nil {
		return newError("delete", name, err)
	}
	path := filepath.Join(UserNSDir, name)
	for range 64 {
		fd, err := openNoFollow(path)
		if err != nil {
			break
		}
		isUser := isUserNS(fd)
		if isUser {
			err = umountFd(fd)
		}
		closeFd(fd)
		if !isUser || err != nil {
			break
		}
	}
	fi, err := lstatEntry(path)
	if err != nil {
		return nil
	}
	if !fi.isRegular() || fi.size != 0 {
		return newError("delete", name, fmt.Errorf("%s is not ours: left alone", path))
	}
	if err := unlink(path); err != nil && err != errENOENT {
		return newError("delete", name, os.NewSyscallError("unlink", err))
	}
	return nil
}

// Owner describes the delegation of a named namespace.
type Owner struct {
	UID    uint32 // owner of the user namespace, as seen by the caller
	Path   string // the user namespace file, UserNSDir/NAME
	Paired bool   // the user namespace owns the network namespace RunDir/NAME
	Joined bool   // the caller is in that user namespace
}

// LookupOwner returns the delegation of NAME, or nil (and no error) when
// NAME is not delegated: nothing at UserNSDir/NAME.
func LookupOwner(name string) (*Owner, error) {
	if err := ValidName(name); err != nil {
		return nil, newError("open", name, err)
	}
	path := filepath.Join(UserNSDir, name)
	fd, err := openNoFollow(path)
	if err == errENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, newError("open", name, os.NewSyscallError("open", err))
	}
	defer closeFd(fd)
	if !isUserNS(fd) {
		return nil, nil
	}
	fi, err := inspect(fd)
	if err != nil {
		return nil, newError("open", name, err)
	}
	uid, err := userNSOwner(fd)
	if err != nil {
		return nil, newError("open", name, err)
	}
	o := &Owner{UID: uid, Path: path}
	if self, err := statID("/proc/self/ns/user"); err == nil && self == fi.id {
		o.Joined = true
	}
	if nfd, err := openNoFollow(filepath.Join(RunDir, name)); err == nil {
		if u, err := owningUserNS(nfd); err == nil {
			if ufi, err := inspect(u); err == nil && ufi.id == fi.id {
				o.Paired = true
			}
			closeFd(u)
		}
		closeFd(nfd)
	}
	return o, nil
}

// UserNSBlocker reads the sysctls under procSys (normally /proc/sys) that
// can keep unprivileged users from making user namespaces, and returns
// one line naming the first that does and its fix, or "" when none does:
// user.max_user_namespaces 0 (hardened hosts; the value read is that of
// the caller's user namespace), kernel.unprivileged_userns_clone 0 (older
// Debian kernels), kernel.apparmor_restrict_unprivileged_userns 1 (Ubuntu
// 23.10 and later).
func UserNSBlocker(procSys string) string {
	read := func(key string) string {
		b, err := os.ReadFile(filepath.Join(procSys, key))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	switch {
	case read("user/max_user_namespaces") == "0":
		return "user namespaces are disabled: user.max_user_namespaces is 0 " +
			"(fix: sysctl -w user.max_user_namespaces=10000)"
	case read("kernel/unprivileged_userns_clone") == "0":
		return "unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone is 0 " +
			"(fix: sysctl -w kernel.unprivileged_userns_clone=1)"
	case read("kernel/apparmor_restrict_unprivileged_userns") == "1":
		return "AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns is 1 " +
			"(fix: an AppArmor profile granting \"userns,\" to unshare, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)"
	}
	return ""
}

// limitedBuffer keeps the first line a holder writes to stderr.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b) < 512 {
		l.b = append(l.b, p[:min(len(p), 512-len(l.b))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) line() string {
	s, _, _ := strings.Cut(string(l.b), "\n")
	return s
}
