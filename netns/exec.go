package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// ExecOptions adjusts the environment Exec and Start give a command. A nil
// *ExecOptions gives the environment of "ip netns exec".
type ExecOptions struct {
	// Bare only switches the network namespace, like "nsenter --net":
	// no mount namespace, no fresh /sys, no /etc/netns binds.
	Bare bool

	// Warn, if set, receives problems that do not stop the command, such
	// as an /etc/netns entry that could not be bound (ip prints those and
	// goes on too). By default they are dropped.
	Warn func(error)

	// DNS, if not empty, gives the command a resolv.conf naming these
	// servers (IP addresses), for this run only; the host's files are not
	// touched. It needs the mount namespace (not Bare).
	DNS []string

	// FixLoopbackDNS makes DNS work when the host's resolv.conf names only
	// loopback resolvers, such as systemd-resolved's 127.0.0.53, which do
	// not answer inside another namespace: unless EtcDir/NAME/resolv.conf
	// exists, resolved's upstream list /run/systemd/resolve/resolv.conf
	// is bound over /etc/resolv.conf, and without one a warning is given.
	FixLoopbackDNS bool

	// Credential, if set, is the user the command runs as (see Credential).
	Credential *Credential

	// PreserveFDs, with a Credential, keeps descriptors 3 to 3+PreserveFDs-1
	// open for the command, like systemd-run's and runc's --preserve-fds.
	// Every other descriptor from 3 on is closed when the command starts, so
	// that it cannot read what root had open (sudo's closefrom). Without a
	// Credential nothing is closed: the command is root anyway, and inherits
	// descriptors as under "ip netns exec" and nsenter.
	PreserveFDs int
}

// check refuses options that cannot be applied, before anything changes.
func (o *ExecOptions) check() error {
	if o == nil {
		return nil
	}
	if o.PreserveFDs < 0 {
		return fmt.Errorf("preserve fds: negative count %d", o.PreserveFDs)
	}
	if o.Credential != nil {
		return o.Credential.check()
	}
	return nil
}

// closeFrom is the first descriptor the command must not inherit, or -1
// when it inherits them all (no Credential).
func (o *ExecOptions) closeFrom() int {
	if o == nil || o.Credential == nil {
		return -1
	}
	return 3 + o.PreserveFDs
}

func (o *ExecOptions) warn(err error) {
	if o != nil && o.Warn != nil {
		o.Warn(err)
	}
}

// Exec replaces the calling process with the program at path, run inside
// the namespace in the environment of "ip netns exec": a private mount
// namespace with "/" made rslave, a fresh sysfs on /sys and the EtcDir
// binds (the package documentation has the details), adjusted by opts.
// argv and env are passed to execve(2) unchanged; path
// must already be resolved (exec.LookPath). The PID stays the same.
//
// With a Credential, descriptors from 3+PreserveFDs on are made
// close-on-exec just before execve(2) and put back if it fails.
//
// Exec does not move the calling goroutine's thread. It enters the
// namespace and calls execve on a private thread (Linux lets any thread
// exec: it takes over the process's PID, and the others end). It returns
// only on failure, and then leaves the caller exactly as it was: the
// private thread, with whatever namespaces, mounts or user it had got to,
// is destroyed, and the calling thread was never touched. The parent-death
// signal (PR_SET_PDEATHSIG) of the calling thread is carried over to the
// command, as an execve on that thread would keep it; call Exec from the
// main goroutine locked to the main thread (runtime.LockOSThread in an
// init function) for it to be the process's. Needs CAP_SYS_ADMIN.
func (ns *NS) Exec(path string, argv, env []string, opts *ExecOptions) error {
	if err := opts.check(); err != nil {
		return newError("enter", ns.String(), err)
	}
	sig := parentDeathSignal()
	done := make(chan error, 1)
	goLocked(func() {
		// Never unlocked: on failure this thread has been moved and
		// maybe lost its privileges, so it must die with this goroutine.
		done <- ns.execHere(sig, path, argv, env, opts)
	})
	return <-done
}

// execHere is Exec on the (private, locked) calling thread.
func (ns *NS) execHere(deathSig int, path string, argv, env []string, opts *ExecOptions) error {
	// Before enter: a change of user clears the signal, as it would have.
	if err := setParentDeathSignal(deathSig); err != nil {
		return newError("enter", ns.String(), err)
	}
	if err := ns.enter(opts); err != nil {
		return err
	}
	execErr, err := inheritOnlyFrom(opts.closeFrom(), func() error { return execve(path, argv, env) })
	if err != nil {
		return newError("enter", ns.String(), err)
	}
	return newError("exec", path, execErr)
}

// Start starts cmd inside the namespace, in the same environment as Exec,
// without moving the caller: the child is forked from a private thread.
// Use cmd.Wait as usual.
//
// The command gets cmd's Stdin, Stdout, Stderr and ExtraFiles, as with
// cmd.Start. With a Credential, any other descriptor of the process that
// lacks close-on-exec (Go opens none, but a process can inherit some) is
// kept from the command too: descriptors from 3+PreserveFDs on are made
// close-on-exec while the child is forked, then restored. A command
// started at that moment by another goroutine does not inherit them either.
//
// The private thread is in the namespace, so it is never given back to
// the Go scheduler but destroyed once it is of no more use: at once,
// unless cmd.SysProcAttr.Pdeathsig is set. The kernel sends that signal
// when the thread that forked the child ends, not the process, so the
// thread then stays, parked in poll(2) on a pidfd of the child (which
// does not reap it), until the child exits. The child thus gets the
// signal when the process ends, as with exec.Cmd.Start alone.
//
// With a Credential, the child switches to it itself, between fork and
// exec (cmd.SysProcAttr.Credential, which must then be unset); the
// forking thread only empties the capability sets the child inherits and
// sets no_new_privs. No thread of the calling process ever runs as the
// user: one that did could be signalled, stopped or have the process's
// resource limits changed by any process of that user.
func (ns *NS) Start(cmd *exec.Cmd, opts *ExecOptions) error {
	if err := opts.check(); err != nil {
		return newError("enter", ns.String(), err)
	}
	if opts != nil && opts.Credential != nil && cmd.SysProcAttr != nil && cmd.SysProcAttr.Credential != nil {
		return newError("enter", ns.String(), errTwoCredentials)
	}
	done := make(chan error, 1)
	goLocked(func() {
		// Never unlocked: this thread's namespaces (and, after
		// unshare(CLONE_NEWNS), its fs_struct) are no longer the process's,
		// so it must die with this goroutine.
		ns.startHere(cmd, opts, done)
	})
	return <-done
}

// startHere is Start on the (private, locked) calling thread. It reports
// on done, then, if the child has a parent-death signal, waits for it to
// exit before returning.
func (ns *NS) startHere(cmd *exec.Cmd, opts *ExecOptions, done chan<- error) {
	if err := ns.enterMounts(opts); err != nil {
		done <- err
		return
	}
	if opts != nil && opts.Credential != nil {
		if err := childCredential(cmd, opts.Credential); err != nil {
			done <- newError("enter", ns.String(), err)
			return
		}
	}
	startErr, err := inheritOnlyFrom(opts.closeFrom(), cmd.Start)
	if err != nil {
		done <- newError("enter", ns.String(), err)
		return
	}
	if startErr != nil {
		done <- startErr
		return
	}
	if cmd.SysProcAttr == nil || cmd.SysProcAttr.Pdeathsig == 0 {
		done <- nil
		return
	}
	// No one can have reaped the child yet: cmd.Wait comes after Start.
	pidfd, err := pidfdOpen(cmd.Process.Pid)
	if err != nil {
		// Without it this thread cannot stay for the child, whose
		// Pdeathsig would kill it at once: do not leave it half-started.
		cmd.Process.Kill()
		cmd.Wait()
		done <- newError("start", ns.String(), err)
		return
	}
	done <- nil
	waitReadable(pidfd)
	closeFd(pidfd)
}

// childCredential makes the child of cmd switch to c between fork and
// exec, after the forking thread has emptied the capability sets the
// child inherits (limitForChild). cmd.SysProcAttr is copied, not changed.
func childCredential(cmd *exec.Cmd, c *Credential) error {
	if err := limitForChild(c.UID); err != nil {
		return err
	}
	var attr syscall.SysProcAttr
	if cmd.SysProcAttr != nil {
		attr = *cmd.SysProcAttr
	}
	groups := c.Groups
	if groups == nil {
		groups = []uint32{} // none: setgroups(0, NULL) in the child
	}
	attr.Credential = &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: groups}
	cmd.SysProcAttr = &attr
	return nil
}

// errTwoCredentials refuses a Start given a user twice.
var errTwoCredentials = errors.New("both ExecOptions.Credential and cmd.SysProcAttr.Credential are set")

// enter moves the calling (locked) thread into ns and, unless opts.Bare,
// builds the environment of iproute2's netns_switch:
//
//  1. setns(2) into the network namespace;
//  2. unshare(CLONE_NEWNS), so the mounts below stay private to the command;
//  3. make "/" recursively a slave, so nothing propagates back to the host;
//  4. replace /sys with a sysfs of the new namespace (else /sys/class/net
//     shows the host's devices), its source string the namespace name;
//  5. bind each entry of EtcDir/NAME over /etc/ENTRY.
//
// Unlike ip, the mounts below /sys (cgroup, bpf, debugfs, ...) that the
// lazy unmount of the old /sys would drop are cloned first and attached
// again on the new one, so cgroup-aware tools keep working; and an /etc
// entry that is a symlink is covered itself rather than its target (see
// attachFile). Then come the DNS options and, last, the privilege drop
// (Exec; Start leaves that to the child, see limitForChild).
func (ns *NS) enter(opts *ExecOptions) error {
	if err := ns.enterMounts(opts); err != nil {
		return err
	}
	if opts != nil && opts.Credential != nil {
		c := opts.Credential
		if err := dropPrivileges(c.UID, c.GID, c.Groups); err != nil {
			return newError("enter", ns.String(), err)
		}
	}
	return nil
}

func (ns *NS) enterMounts(opts *ExecOptions) error {
	err := ns.use("enter", func(fd int) error {
		if err := setns(fd); err != nil {
			return newError("enter", ns.String(), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if opts != nil && opts.Bare {
		if len(opts.DNS) > 0 || opts.FixLoopbackDNS {
			return newError("enter", ns.String(), errNoMountNS)
		}
		return nil
	}
	if err := unshareMount(); err != nil {
		return newError("enter", ns.String(), err)
	}
	if err := setPropagation("/", propSlave); err != nil {
		return newError("enter", ns.String(), fmt.Errorf("make / rslave: %w", os.NewSyscallError("mount", err)))
	}
	source := ns.name
	if source == "" {
		source = "sysfs"
	}
	if err := remountSys(source, opts); err != nil {
		return newError("enter", ns.String(), err)
	}
	if ns.name != "" {
		bindEtc(ns.name, opts)
	}
	return ns.setupDNS(opts)
}

// setupDNS applies ExecOptions.DNS and FixLoopbackDNS.
func (ns *NS) setupDNS(opts *ExecOptions) error {
	var err error
	switch {
	case opts == nil:
	case len(opts.DNS) > 0:
		var conf []byte
		if conf, err = ResolvConf(opts.DNS); err == nil {
			err = attachContent(conf, hostResolvConf)
		}
	case opts.FixLoopbackDNS:
		err = fixDNS(ns, opts)
	}
	if err != nil {
		return newError("enter", ns.String(), fmt.Errorf("resolv.conf: %w", err))
	}
	return nil
}

// remountSys mounts a fresh sysfs on /sys and carries the old /sys's
// submounts over to it.
func remountSys(source string, opts *ExecOptions) error {
	var keep []keptMount
	if points, err := mountsBelow("/sys"); err == nil {
		for _, p := range points {
			fd, err := cloneTree(p)
			if err != nil {
				opts.warn(fmt.Errorf("keep %s: %w", p, err))
				continue
			}
			keep = append(keep, keptMount{p, fd})
		}
	}
	defer func() {
		for _, k := range keep {
			closeFd(k.fd)
		}
	}()
	readOnly := false
	if umountDetach("/sys") != nil {
		// Nothing to unmount, or a locked mount in a user namespace: the
		// new sysfs goes on top, read-only if the old one is (as ip).
		readOnly = isReadOnlyFS("/sys")
	}
	if err := mountSysfs(source, readOnly); err != nil {
		return fmt.Errorf("mount sysfs on /sys: %w", err)
	}
	for _, k := range keep {
		if err := attachTree(k.fd, k.path); err != nil {
			opts.warn(fmt.Errorf("keep %s: %w", k.path, err))
		}
	}
	return nil
}

type keptMount struct {
	path string
	fd   int
}

// bindEtc binds each entry of EtcDir/NAME over /etc/ENTRY, as iproute2's
// bind_etc does. A failed bind is a warning; a missing directory is fine.
func bindEtc(name string, opts *ExecOptions) {
	dir := EtcDir + "/" + name
	f, err := os.Open(dir)
	if err != nil {
		if !os.IsNotExist(err) {
			opts.warn(err)
		}
		return
	}
	entries, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		opts.warn(err)
		return
	}
	for _, e := range entries {
		src, dst := dir+"/"+e, "/etc/"+e
		if err := attachFile(src, dst); err != nil {
			opts.warn(fmt.Errorf("bind %s -> %s: %w", src, dst, err))
		}
	}
}
