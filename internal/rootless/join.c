//go:build cgo && linux

// The C stage of rootless mode: it moves a re-executed setns or netns into
// the user and mount namespaces of the user's keeper (see rootless.go)
// before the Go runtime starts, because setns(2) refuses CLONE_NEWUSER to
// a threaded process, which every Go program is. It acts only when the Go
// side asked for it by setting SETNS_ROOTLESS=FD:DIR (DIR the runtime
// directory whose setns/keeper file names the keeper) and the process is
// not uid 0 already; it runs before the setns fast path's constructor
// (priority 101). A failure changes nothing: the Go side sees it is still
// not uid 0 and says so. Only the kernel decides: the keeper's namespaces
// can be joined only by the user who owns them.

#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

// read_small reads at most n-1 bytes of the file at path below dirfd.
static int read_small(int dirfd, const char *path, char *buf, size_t n)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, buf, n - 1);
	close(fd);
	if (got <= 0)
		return -1;
	buf[got] = 0;
	return 0;
}

// start_time returns field 22 of /proc/PID/stat (below dirfd), the
// process's start time, which tells a keeper from a later process that
// got its PID; 0 when it cannot be read.
static unsigned long long start_time(int dirfd)
{
	static char st[4096];
	if (read_small(dirfd, "stat", st, sizeof st) != 0)
		return 0;
	char *p = strrchr(st, ')'); // the command name may hold anything
	if (!p)
		return 0;
	p++;
	for (int field = 2; field < 21 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

// setns_rootless_join joins the user and mount namespaces of the keeper
// recorded in DIR/setns/keeper, keeping the working directory; it returns
// 0 once joined. setns's fast path (cmd/setns/fastpath.c) calls it too.
int setns_rootless_join(const char *dir)
{
	char path[4096], rec[128];
	if (snprintf(path, sizeof path, "%s/setns/keeper", dir) >= (int)sizeof path ||
	    read_small(AT_FDCWD, path, rec, sizeof rec) != 0)
		return -1;
	char *end;
	unsigned long pid = strtoul(rec, &end, 10);
	unsigned long long start = strtoull(end, NULL, 10);
	if (pid == 0 || start == 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%lu", pid);
	int proc = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return -1;
	// The directory fd stays with this process even if the PID is reused,
	// so what is checked here is what is joined below.
	struct stat st;
	int user = -1, mnt = -1;
	if (fstat(proc, &st) == 0 && st.st_uid == getuid() && start_time(proc) == start) {
		user = openat(proc, "ns/user", O_RDONLY | O_CLOEXEC);
		mnt = openat(proc, "ns/mnt", O_RDONLY | O_CLOEXEC);
	}
	close(proc);
	// setns(2) into a mount namespace moves to its root: keep the
	// working directory by name (the keeper's mounts are a copy of ours).
	char cwd[4096];
	int here = -1, named = 0;
	if (user >= 0 && mnt >= 0) { // only then: a dead keeper costs nothing more
		here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		named = getcwd(cwd, sizeof cwd) != NULL;
	}
	if (user >= 0 && mnt >= 0 && setns(user, CLONE_NEWUSER) == 0) {
		// In the user namespace but not its mount namespace, the Go side
		// would act on the host's run directory: stop here.
		if (setns(mnt, CLONE_NEWNS) != 0) {
			static const char msg[] = "setns: rootless: joined the keeper's user namespace but not its mount namespace\n";
			(void)!write(2, msg, sizeof msg - 1);
			_exit(1);
		}
		if (!named || chdir(cwd) != 0)
			if (here < 0 || fchdir(here) != 0)
				(void)!chdir("/");
	}
	int joined = geteuid() == 0;
	if (here >= 0)
		close(here);
	if (user >= 0)
		close(user);
	if (mnt >= 0)
		close(mnt);
	return joined ? 0 : -1;
}

__attribute__((constructor(101))) static void rootless_join(void)
{
	const char *v = getenv("SETNS_ROOTLESS");
	if (!v)
		return;
	// The lock descriptor the Go side handed over (see Joined): it must
	// not reach COMMAND, which the fast path may execute before Go runs,
	// whether or not the join below happens.
	int lockfd = atoi(v);
	if (lockfd > 2)
		(void)fcntl(lockfd, F_SETFD, FD_CLOEXEC);
	if (geteuid() == 0 || getauxval(AT_SECURE) || getuid() != geteuid())
		return;
	const char *dir = strchr(v, ':');
	if (!dir || dir[1] != '/')
		return;
	(void)setns_rootless_join(dir + 1);
}
