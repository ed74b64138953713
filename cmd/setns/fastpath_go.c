//go:build cgo && linux && (amd64 || arm64)

// What the Go path of setns would decide, for the fast path (fastpath.c):
// name checks, exec.LookPath, os.Environ and the resolv.conf test of
// FixLoopbackDNS, each redone in C for the cases where the answer is
// certain. Everything here only reads; nothing changes any state.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastpath.h"

// fp_valid_name is netns.ValidName, plus: it must not look like an option.
int fp_valid_name(const char *n)
{
	size_t len = strlen(n);
	return len > 0 && len <= MAX_NAME && n[0] != '-' && !strchr(n, '/') &&
	       strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

// find_executable is os/exec's findExecutable: 0 if path can be run.
static int find_executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || S_ISDIR(st.st_mode))
		return -1;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
		return 0;
	if ((errno == ENOSYS || errno == EPERM) && (st.st_mode & 0111))
		return 0;
	return -1;
}

// clean_dir reports whether dir is an absolute path that filepath.Join
// would leave as it is (so that dir + "/" + file is what Join returns).
static int clean_dir(const char *d)
{
	size_t n = strlen(d);
	if (n < 2 || d[0] != '/' || d[n - 1] == '/')
		return 0;
	return !strstr(d, "//") && !strstr(d, "/./") && !strstr(d, "/../") &&
	       !(n >= 2 && strcmp(d + n - 2, "/.") == 0) &&
	       !(n >= 3 && strcmp(d + n - 3, "/..") == 0);
}

// fp_first_env is os.Getenv: the first entry for key.
const char *fp_first_env(char **envp, const char *key)
{
	size_t k = strlen(key);
	for (char **e = envp; *e; e++)
		if (strncmp(*e, key, k) == 0 && (*e)[k] == '=')
			return *e + k + 1;
	return NULL;
}

// fp_look_path is exec.LookPath for the cases it can decide alone: an
// absolute path, or a name found in an absolute, clean PATH directory.
// It returns NULL (the Go path decides) for everything else.
char *fp_look_path(const char *file, char **envp)
{
	static char buf[4096];
	if (file[0] == '/')
		return find_executable(file) == 0 ? (char *)file : NULL;
	if (!file[0] || strchr(file, '/') || !strcmp(file, ".") || !strcmp(file, ".."))
		return NULL;
	const char *path = fp_first_env(envp, "PATH");
	if (!path || !*path)
		return NULL;
	while (1) {
		const char *end = strchrnul(path, ':');
		size_t n = end - path;
		if (n + 1 + strlen(file) + 1 > sizeof buf)
			return NULL;
		memcpy(buf, path, n);
		buf[n] = 0;
		if (!clean_dir(buf))
			return NULL; // "", relative, "/" or unclean: leave it to Go
		buf[n] = '/';
		strcpy(buf + n + 1, file);
		if (find_executable(buf) == 0)
			return buf;
		if (!*end)
			return NULL;
		path = end + 1;
	}
}

// simple_ip classifies a resolv.conf address the way netip.ParseAddr and
// Addr.IsLoopback would: 1 loopback, 0 not loopback, -1 not sure.
static int simple_ip(const char *a)
{
	int dots = 0, v = -1, first = -1;
	for (const char *p = a;; p++) {
		if (*p >= '0' && *p <= '9') {
			if (v == 0 && p[-1] == '0')
				return -1; // leading zero: netip refuses
			v = (v < 0 ? 0 : v * 10) + (*p - '0');
			if (v > 255)
				return -1;
		} else if ((*p == '.' || !*p) && v >= 0) {
			if (first < 0)
				first = v;
			if (!*p)
				break;
			dots++, v = -1;
		} else {
			return -1; // IPv6 or junk: not decided here
		}
	}
	if (dots != 3)
		return -1;
	return first == 127;
}

// fp_resolv_plain reports whether the Go path's FixLoopbackDNS would leave
// /etc/resolv.conf alone without a word: the file cannot be read, or it
// names no servers, or it names one that is surely not loopback. Anything
// it is not sure about returns 0.
int fp_resolv_plain(void)
{
	static char buf[16384];
	int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; // os.ReadFile fails: nothing to fix
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	if (r < 0 || n == sizeof buf - 1)
		return 0; // Go reads what it cannot here; let it decide
	buf[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == 0 || (unsigned char)buf[i] >= 0x80)
			return 0; // strings.Fields knows Unicode spaces
	int servers = 0, plain = 0;
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *save, *f0 = strtok_r(line, " \t\r\v\f", &save);
		char *f1 = f0 ? strtok_r(NULL, " \t\r\v\f", &save) : NULL;
		if (!f0 || !f1 || strcmp(f0, "nameserver") != 0)
			continue;
		int c = simple_ip(f1);
		if (c < 0)
			return 0;
		servers++;
		plain |= c == 0;
	}
	return servers == 0 || plain;
}

// fp_go_env is os.Environ() with NETNS_NAME=name: empty entries and later
// duplicates of a key are dropped (syscall.copyenv), NETNS_NAME removed
// and appended (withName in setns.go).
char **fp_go_env(char **envp, const char *name)
{
	size_t n = 0;
	while (envp[n])
		n++;
	char **out = calloc(n + 2, sizeof *out);
	char *nn = malloc(sizeof "NETNS_NAME=" + strlen(name));
	if (!out || !nn)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		if (!*e || strncmp(e, "NETNS_NAME=", 11) == 0)
			continue;
		int dup = 0;
		for (size_t j = 0; eq && j < i && !dup; j++)
			dup = strncmp(envp[j], e, eq - e + 1) == 0;
		if (!dup)
			out[k++] = (char *)e;
	}
	strcpy(nn, "NETNS_NAME=");
	strcat(nn, name);
	out[k] = nn;
	return out;
}

// fp_read_args returns the command line from /proc/self/cmdline: musl calls
// constructors without glibc's (argc, argv, envp), so they are read here
// the same way for every C library. NULL if it is unusually long.
char **fp_read_args(int *argc)
{
	static char buf[65536];
	static char *argv[256];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, sizeof buf - n)) > 0)
		n += r;
	close(fd);
	if (r < 0 || n == sizeof buf || n == 0 || buf[n - 1] != 0)
		return NULL;
	int c = 0;
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		if (c == 255)
			return NULL;
		argv[c++] = buf + i;
	}
	argv[c] = NULL;
	*argc = c;
	return argv;
}
