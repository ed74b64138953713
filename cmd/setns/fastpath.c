//go:build cgo && linux && (amd64 || arm64)

// The fast path of setns: a C constructor that enters the namespace and
// executes COMMAND before the Go runtime starts, the way runc's nsexec
// does, because Go's start-up (about 0.6 ms) is most of the time setns
// takes. It is strictly an accelerator for the plain cases
//
//	setns NAME COMMAND [ARG]...
//	setns --bare NAME COMMAND [ARG]...
//
// with NAME an existing namespace in /run/netns. Before it changes any
// state it checks everything it can and returns to the Go path (which then
// does the whole job and reports any error) on anything else: other
// options, a missing, invalid or placeholder NAME, a COMMAND it cannot
// resolve exactly as exec.LookPath would, an /etc/netns/NAME directory, a
// resolv.conf that may name only loopback resolvers (the Go path's
// FixLoopbackDNS), /sys submounts it cannot list (no listmount(2) before
// Linux 6.8) or more than it keeps, or SETNS_NO_FASTPATH set in the
// environment.
//
// The steps are those of netns.(*NS).Exec with the options the Go path
// uses (see netns/exec.go, enterMounts and remountSys), in the same order
// and with the same arguments, and the environment is the Go path's:
// os.Environ() with NETNS_NAME=NAME. If a step fails once the state has
// changed (a mount refused, a /sys submount it cannot keep, execve(2)
// failing), it first undoes everything: back into the network and mount
// namespaces it saved, root and working directory as they were, checked
// against the saved ones. Only then does it return to the Go path, which
// starts from the caller's state, redoes the whole job and prints its own
// error or warning. The Go path never runs in a changed state: if the undo
// fails, setns prints why and exits 1.
//
// Before anything else, setns refuses to run setuid or setgid or with file
// capabilities (AT_SECURE, or real and effective ids differ): it would
// let any user enter namespaces and mount as root. That check is here,
// before any Go runs, and in the Go path too, for builds without this file.
//
// This file has the constructor and the steps; fastpath_go.c has the
// checks that redo the Go path's decisions. TestFastPathMatchesGoPath runs
// both paths and compares what COMMAND sees. Raw system calls live in
// netns/sys_linux.go for Go code; these files are the one exception, as
// they run before there is any Go.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fastpath.h"
#include "fastpath_errno.h"

// Must equal netns.RunDir and netns.EtcDir (checked by a test).
#define RUN_DIR "/run/netns"
#define ETC_DIR "/etc/netns"
// Must equal netns.UserNSDir (checked by a test).
#define USERNS_DIR "/run/setns/userns"
#define NSFS_MAGIC_ 0x6e736673
#define MAX_KEEP 32

// The kernel ABI of statx (mount ids), open_tree, move_mount, listmount,
// statmount and NS_GET_NSTYPE, spelt out so that the file builds with any
// C library (glibc, musl) and without kernel headers.
#define STATX_MNT_ID_UNIQUE_ 0x4000U
#define STATX_ATTR_MOUNT_ROOT_ 0x2000
#define AT_RECURSIVE_ 0x8000
#define OPEN_TREE_CLONE_ 1
#define MOVE_MOUNT_F_EMPTY_PATH_ 0x4
#define STATMOUNT_MNT_BASIC_ 0x2
#define STATMOUNT_MNT_POINT_ 0x10
#define NS_GET_NSTYPE_ 0xb703 // _IO(0xb7, 0x3)
#if defined(__x86_64__) || defined(__aarch64__)
#define SYS_open_tree_ 428
#define SYS_move_mount_ 429
#define SYS_statmount_ 457
#define SYS_listmount_ 458
#else
#error "fastpath.c: system call numbers only known for x86_64 and arm64 (see the build constraint)"
#endif

// struct statx from <linux/stat.h>, as far as it is read here.
struct statx_ {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	uint64_t times[8]; // atime, btime, ctime, mtime: {s64 sec; u32 nsec; s32}
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t mnt_id;
	uint64_t spare[13];
};

struct mnt_id_req_ {
	uint32_t size, spare;
	uint64_t mnt_id, param;
};

// The parts of struct statmount read here; strings start at offset 512.
struct statmount_head_ {
	uint32_t size, mnt_opts;
	uint64_t mask;
	uint32_t sb_dev_major, sb_dev_minor;
	uint64_t sb_magic;
	uint32_t sb_flags, fs_type;
	uint64_t mnt_id, mnt_parent_id;
	uint32_t mnt_id_old, mnt_parent_id_old;
	uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
	uint32_t mnt_root, mnt_point;
};

// sys_submounts lists the mounts directly below the top mount at /sys, as
// netns.listSubmounts does. It returns -1 if the kernel cannot tell or
// there are more than max.
static int sys_submounts(char paths[][4096], int max)
{
	struct statx_ stx;
	if (syscall(SYS_statx, AT_FDCWD, "/sys", 0, STATX_MNT_ID_UNIQUE_, &stx) != 0 ||
	    !(stx.mask & STATX_MNT_ID_UNIQUE_) || !(stx.attributes_mask & STATX_ATTR_MOUNT_ROOT_))
		return -1;
	if (!(stx.attributes & STATX_ATTR_MOUNT_ROOT_))
		return 0;
	uint64_t ids[256];
	struct mnt_id_req_ req = {.size = 24, .mnt_id = stx.mnt_id};
	long n = syscall(SYS_listmount_, &req, ids, 256, 0);
	if (n < 0 || n == 256)
		return -1;
	static char sm[512 + 8192];
	int found = 0;
	for (long i = 0; i < n; i++) {
		struct mnt_id_req_ r = {.size = 24, .mnt_id = ids[i],
					.param = STATMOUNT_MNT_BASIC_ | STATMOUNT_MNT_POINT_};
		if (syscall(SYS_statmount_, &r, sm, sizeof sm, 0) != 0)
			return -1;
		struct statmount_head_ *h = (void *)sm;
		if ((h->mask & r.param) != r.param || 512 + h->mnt_point >= sizeof sm)
			return -1;
		if (h->mnt_parent_id != stx.mnt_id)
			continue;
		const char *p = sm + 512 + h->mnt_point;
		if (found == max || strlen(p) >= 4096)
			return -1;
		strcpy(paths[found++], p);
	}
	return found;
}

// say writes msg to stderr; nothing is left to do if stderr is gone.
static void say(const char *msg, size_t n)
{
	(void)!write(2, msg, n);
}

// refuse_privileged exits unless setns runs with the ids and capabilities
// of whoever started it: installed setuid, setgid or with file
// capabilities, it would let anyone enter and mount as root. The Go path
// (for builds without this file) prints the same line.
static void refuse_privileged(void)
{
	if (getauxval(AT_SECURE) == 0 && getuid() == geteuid() && getgid() == getegid())
		return;
	static const char msg[] = "setns: refusing to run setuid or with file capabilities; use sudo\n";
	say(msg, sizeof msg - 1);
	_exit(1);
}

// saved is what undo needs to put the thread back: descriptors of the
// network and mount namespaces, the root and the working directory it had
// before the first change (-1 where the fast path does not change them).
struct saved {
	int net, mnt, root, cwd;
};

static int save(struct saved *s, int bare)
{
	s->mnt = s->root = s->cwd = -1;
	s->net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->net < 0)
		return -1;
	if (bare)
		return 0;
	s->mnt = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	s->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	s->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return s->mnt < 0 || s->root < 0 || s->cwd < 0 ? -1 : 0;
}

static void drop(struct saved *s)
{
	int *fds[] = {&s->net, &s->mnt, &s->root, &s->cwd};
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

// same reports whether path is the file fd is open on.
static int same(const char *path, int fd)
{
	struct stat a, b;
	return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// quote writes name to out (4 * MAX_NAME + 3 bytes) in double quotes, as
// Go's %q does for ASCII; other bytes as \xNN, so the line stays one line.
static void quote(char *out, const char *name)
{
	static const char hex[] = "0123456789abcdef";
	*out++ = '"';
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		switch (*p) {
		case '"': case '\\': *out++ = '\\'; *out++ = *p; continue;
		case '\a': *out++ = '\\'; *out++ = 'a'; continue;
		case '\b': *out++ = '\\'; *out++ = 'b'; continue;
		case '\f': *out++ = '\\'; *out++ = 'f'; continue;
		case '\n': *out++ = '\\'; *out++ = 'n'; continue;
		case '\r': *out++ = '\\'; *out++ = 'r'; continue;
		case '\t': *out++ = '\\'; *out++ = 't'; continue;
		case '\v': *out++ = '\\'; *out++ = 'v'; continue;
		}
		if (*p >= 0x20 && *p < 0x7f) {
			*out++ = *p;
		} else {
			*out++ = '\\', *out++ = 'x', *out++ = hex[*p >> 4], *out++ = hex[*p & 15];
		}
	}
	*out++ = '"';
	*out = 0;
}

// undo_failed prints why undo failed and exits 1: the Go path must not
// start in a state the fast path changed and could not change back.
static void undo_failed(const char *name, const char *what, int err)
{
	char msg[4 * MAX_NAME + 256], q[4 * MAX_NAME + 3], num[32];
	const char *text = "not restored";
	if (err > 0 && err < (int)(sizeof go_errno / sizeof *go_errno) && go_errno[err]) {
		text = go_errno[err];
	} else if (err > 0) {
		snprintf(num, sizeof num, "errno %d", err);
		text = num;
	}
	quote(q, name);
	int n = snprintf(msg, sizeof msg, "setns: enter %s: undo fast path: %s: %s\n", q, what, text);
	if (n > 0 && (size_t)n < sizeof msg)
		say(msg, n);
	_exit(1);
}

// undo puts the thread back where save found it, checks that it got
// there, and closes the saved descriptors. mnt says whether the mount
// namespace was unshared. setns(2) into a mount namespace resets root and
// working directory to that namespace's root, so both are restored too.
static void undo(struct saved *s, int mnt, const char *name)
{
	if (mnt) {
		if (setns(s->mnt, CLONE_NEWNS) != 0)
			undo_failed(name, "setns mount namespace", errno);
		if (fchdir(s->root) != 0 || chroot(".") != 0)
			undo_failed(name, "root directory", errno);
		if (fchdir(s->cwd) != 0)
			undo_failed(name, "working directory", errno);
	}
	if (setns(s->net, CLONE_NEWNET) != 0)
		undo_failed(name, "setns network namespace", errno);
	if (!same("/proc/thread-self/ns/net", s->net))
		undo_failed(name, "network namespace", 0);
	if (s->mnt >= 0 && !same("/proc/thread-self/ns/mnt", s->mnt))
		undo_failed(name, "mount namespace", 0);
	if (s->root >= 0 && !same("/", s->root))
		undo_failed(name, "root directory", 0);
	if (s->cwd >= 0 && !same(".", s->cwd))
		undo_failed(name, "working directory", 0);
	drop(s);
}

// remount_sys is netns.remountSys: a fresh sysfs named NAME on /sys, with
// the old one's submounts (paths, listed before the mount namespace was
// unshared; it is a copy) cloned first and attached again. It returns -1
// when the Go path must take over, also where the Go path would only warn,
// so that its warning is printed once, by the Go path, in its words.
static int remount_sys(const char *name, char paths[][4096], int n)
{
	int fds[MAX_KEEP], ok = 1;
	for (int i = 0; i < n; i++) {
		fds[i] = syscall(SYS_open_tree_, AT_FDCWD, paths[i],
				 OPEN_TREE_CLONE_ | O_CLOEXEC | AT_RECURSIVE_ | AT_SYMLINK_NOFOLLOW);
		ok &= fds[i] >= 0;
	}
	if (ok) {
		unsigned long flags = 0;
		if (umount2("/sys", MNT_DETACH) != 0) {
			struct statvfs sv;
			if (statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY))
				flags = MS_RDONLY;
		}
		ok = mount(name, "/sys", "sysfs", flags, NULL) == 0;
	}
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (ok && syscall(SYS_move_mount_, fds[i], "", AT_FDCWD, paths[i], MOVE_MOUNT_F_EMPTY_PATH_) != 0)
			ok = 0;
		close(fds[i]);
	}
	return ok ? 0 : -1;
}

// join_owner moves setns into the user namespace of the delegated
// namespace NAME (netns add --owner), if there is one and setns is not in
// it yet: the network namespace can only be entered from there. The Go
// runtime cannot do it (setns(2) refuses CLONE_NEWUSER to a threaded
// process), so it happens here, single-threaded, before the runtime
// starts. The step cannot be undone and needs none: whatever follows,
// the fast path or the Go path, runs as the owner's root in that user
// namespace, with no more privilege in the host's than before. A refusal
// (another user's namespace) is left to the Go path to explain.
static void join_owner(const char *name)
{
	char path[sizeof USERNS_DIR + MAX_NAME + 1];
	snprintf(path, sizeof path, USERNS_DIR "/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC_ &&
	    ioctl(fd, NS_GET_NSTYPE_) == CLONE_NEWUSER && !same("/proc/self/ns/user", fd))
		(void)setns(fd, CLONE_NEWUSER);
	close(fd);
}

// join_rootless moves a user in rootless mode (NAME not delegated to
// them) into their keeper's user and mount namespaces, where /run/netns
// is their own $XDG_RUNTIME_DIR/netns (internal/rootless). It holds
// use.lock shared until execve(2) closes it, so that the keeper cannot
// exit under a command that may still make a namespace. No keeper, no
// join: the Go path starts one. Joining changes no privilege on the
// host, and what follows runs as uid 0 of the keeper's user namespace.
int setns_rootless_join(const char *dir); // internal/rootless/join.c

static void join_rootless(char **envp)
{
	char dir[4096], lock[4096 + 32];
	const char *xdg = fp_first_env(envp, "XDG_RUNTIME_DIR");
	if (xdg && *xdg == '/')
		snprintf(dir, sizeof dir, "%s", xdg);
	else if (!xdg)
		snprintf(dir, sizeof dir, "/run/user/%u", (unsigned)geteuid());
	else
		return;
	snprintf(lock, sizeof lock, "%s/setns/use.lock", dir);
	int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_SH) != 0 || setns_rootless_join(dir) != 0)
		close(fd);
}

__attribute__((constructor)) static void setns_fast_path(void)
{
	refuse_privileged();
	extern char **environ;
	char **envp = environ;
	int argc = 0;
	if (!envp)
		return;
	// SETNS_USERNS=NAME: the Go path re-executed setns to join NAME's
	// user namespace here; it does the rest itself.
	const char *owned = fp_first_env(envp, "SETNS_USERNS");
	if (owned) {
		if (geteuid() != 0 && fp_valid_name(owned))
			join_owner(owned);
		return;
	}
	if (fp_first_env(envp, "SETNS_NO_FASTPATH"))
		return;
	char **argv = fp_read_args(&argc);
	if (!argv || argc < 3)
		return;
	int bare = strcmp(argv[1], "--bare") == 0, i = 1 + bare;
	if (argc < i + 2 || !fp_valid_name(argv[i]))
		return;
	const char *name = argv[i];
	if (geteuid() != 0)
		join_owner(name);
	if (geteuid() != 0)
		join_rootless(envp);
	char **cmd = argv + i + 1;
	// The namespace first: a missing one (setns creates it) leaves at once.
	char path[sizeof RUN_DIR + MAX_NAME + 1], etc[sizeof ETC_DIR + MAX_NAME + 1];
	snprintf(path, sizeof path, RUN_DIR "/%s", name);
	snprintf(etc, sizeof etc, ETC_DIR "/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	static char keep[MAX_KEEP][4096];
	struct statfs sfs;
	struct stat st;
	struct saved saved = {-1, -1, -1, -1};
	char *prog = NULL;
	char **env = NULL;
	int nkeep = 0;
	if (fstatfs(fd, &sfs) != 0 || sfs.f_type != NSFS_MAGIC_ ||
	    ioctl(fd, NS_GET_NSTYPE_) != CLONE_NEWNET ||
	    !(prog = fp_look_path(cmd[0], envp)) ||
	    // /etc binds or a DNS fix: the Go path does those.
	    (!bare && (stat(etc, &st) == 0 || errno != ENOENT || !fp_resolv_plain())) ||
	    !(env = fp_go_env(envp, name)) ||
	    // Until unshare, this is the mount namespace the submounts are in.
	    (!bare && (nkeep = sys_submounts(keep, MAX_KEEP)) < 0) ||
	    save(&saved, bare) != 0) {
		close(fd);
		drop(&saved);
		return;
	}
	// From here on the state changes: a failure undoes what was done.
	int err = setns(fd, CLONE_NEWNET);
	close(fd);
	if (err != 0) {
		drop(&saved); // nothing changed
		return;
	}
	if (!bare && unshare(CLONE_NEWNS) != 0) {
		undo(&saved, 0, name);
		return;
	}
	if (!bare && (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0 ||
		      remount_sys(name, keep, nkeep) != 0)) {
		undo(&saved, 1, name);
		return;
	}
	execve(prog, cmd, env);
	undo(&saved, !bare, name);
}
