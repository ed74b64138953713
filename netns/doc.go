// Package netns creates, opens, deletes, lists and enters named Linux
// network namespaces, with the same files and mounts as iproute2's
// "ip netns", so namespaces made by either are used by both.
//
// # Named namespaces on disk
//
// A named namespace NAME is the file RunDir/NAME (/run/netns/NAME) with a
// network namespace bind-mounted onto it (an nsfs mount); the mount keeps
// the namespace alive with no process in it. RunDir is itself made a mount
// point with shared propagation, so a namespace created later also appears
// in mount namespaces made earlier (containers, "ip netns exec" shells).
// Per-namespace configuration lives in EtcDir/NAME (/etc/netns/NAME): each
// entry there is mounted over /etc/ENTRY for commands run with Exec or
// Start, e.g. a resolv.conf of its own.
//
// # Handles
//
// Open takes a name only (ValidName): a name that a daemon passes on from
// a client cannot reach a file outside RunDir, nor follow a symlink in it.
// OpenPath, OpenPID and Current open files by path. A handle is safe for
// concurrent use. Close never waits: a call already running on the handle
// (a Do, even the one Close is called from) finishes normally, the
// descriptors are closed when the last such call returns, and calls made
// after Close fail with an error wrapping os.ErrClosed. A handle dropped
// without Close has its descriptors closed by the garbage collector, at
// some unspecified time; Close is still the way to release them at once.
//
// # Threads
//
// A network namespace belongs to a thread, not to a process, and a Go
// program runs goroutines on many threads. Nothing in this package moves
// the calling goroutine's thread: Create and Do work on a private thread
// locked with runtime.LockOSThread, read its namespace from
// /proc/thread-self/ns/net (a handle keeps it, for the last few threads Do
// ran on, until Close), and move it back afterwards; if that fails the
// thread is destroyed rather than reused. Do's fn must not lock or unlock
// the thread, and goroutines it starts are not in the namespace. Exec and
// Start, which give the private thread a mount namespace of its own and
// maybe another user, never move it back: it is destroyed. Exec calls
// execve on it (the command takes over the process's PID), so a failed
// Exec returns with the caller exactly as it was. Start keeps it, parked,
// while a child that has SysProcAttr.Pdeathsig runs, since that signal
// follows the thread that forked the child, not the process.
//
// # Waiting
//
// Watcher.Next waits for an event without limit; Watcher.NextContext
// bounds the wait with a context, and Close ends it from another goroutine.
//
// # Privileges
//
// Creating, deleting and entering need CAP_SYS_ADMIN (in practice, root);
// Open needs read access to the file. A permission error wraps
// fs.ErrPermission.
//
// # Errors
//
// Operations on a namespace return *Error, which names the operation and
// the namespace ("create \"blue\": mount: operation not permitted") and
// unwraps to the cause. These errors.Is targets are guaranteed:
// fs.ErrNotExist (no such name), fs.ErrExist (name taken), fs.ErrPermission
// (not privileged), ErrNotNamespace (a file that is not a network
// namespace: a placeholder, junk, a directory or a symlink in RunDir),
// ErrInvalidName (a name ip would reject, or one with a NUL byte), and
// os.ErrClosed (a closed handle).
//
// # Compatibility with iproute2
//
// Create follows iproute2's netns_add step for step (shared run directory
// under flock, name reserved with O_EXCL before the namespace exists, bind
// mount, rollback on failure), following iproute2 7.0 in making the run
// directory private before shared; Reserve and (*Reservation).Create are
// its two halves, for callers that make many namespaces in parallel but
// want name conflicts found in order. Delete is netns_delete (lazy unmount,
// unlink). List is in the directory's own order, as "ip netns list"
// prints. Exec and Start give a command the environment of
// "ip netns exec" (netns_switch): a private mount namespace with "/" made
// rslave, a sysfs of the namespace on /sys and the EtcDir binds. Attach
// is netns_add for a process's namespace ("ip netns attach"). Identify and
// PIDs match namespaces by device and inode, as "ip netns identify" and
// "ip netns pids" do. IDConn reads and assigns nsids over rtnetlink
// (RTM_GETNSID, RTM_NEWNSID), as "ip netns list", "set" and "list-id" do,
// with the kernel's extended-ack explanations in *KernelError.
//
// # Beyond iproute2
//
//   - Ensure is create-if-needed that any number of processes, ours or
//     ip's, can race on: one namespace results, whatever the speed of
//     ip's create, and a name deleted meanwhile is looked at again.
//     EnsureContext bounds its wait with a context.
//   - The placeholder rule. A create reserves the name as an empty file
//     (a placeholder) and then mounts the namespace onto it; ip(8) takes
//     no lock and closes the file before it mounts, so nothing shows
//     whether its create is still at work. This package makes its own
//     placeholders marked (the S_ISVTX mode bit) and locked (flock) before
//     they get their name (O_TMPFILE, then linkat), and holds the lock
//     until the mount is made. A locked placeholder is a create in
//     progress: Ensure waits. A marked, unlocked one was left by a create
//     of ours that died: Ensure removes it at once and creates the
//     namespace. An unmarked one (ip's) is waited for up to
//     PlaceholderWait and never removed by Ensure: it fails with an error
//     that names the fix. Its age is wall-clock time, which a clock step
//     can make look old; Diagnose and Fix act on it only after StaleAge,
//     and only when asked to. Delete, DeleteIf and the doctor lock the
//     placeholder under the mounts while they work, so Ensure never takes
//     it for abandoned meanwhile.
//   - DeleteIf removes a name only while it refers to a given namespace,
//     detaching only mounts of that namespace, each by a descriptor of
//     the mount itself: what a program uses to undo its own creates
//     without destroying a namespace another tool made under the same
//     name meanwhile. A failed Create and (*Reservation).Release remove
//     the reserved file only while nothing is mounted on it.
//   - Diagnose looks for mounts on an entry in every mount namespace it
//     can reach, by the run directory's device and inode, so Fix never
//     unlinks a name a container uses at another path.
//   - Create brings loopback up (CreateOptions.NoLoopback keeps ip's way).
//   - Exec and Start keep the mounts below /sys (cgroup, bpf), mount
//     EtcDir entries onto a symlink itself so they survive renames of its
//     target, make DNS work when the host uses a loopback resolver
//     (ExecOptions.FixLoopbackDNS, DNS), and can drop to a user with no
//     capabilities, closing the descriptors the process inherited
//     (ExecOptions.Credential, PreserveFDs).
//   - Delete removes stacked mounts in one call; (*NS).SetSysctl sets
//     net.* sysctls inside a namespace.
//   - Watch reports a name as added only once it is a usable namespace
//     ("ip netns monitor" reports the placeholder, before the mount).
//   - IDConn.NamedIDs pipelines the nsid lookups of many names on one
//     socket.
package netns
