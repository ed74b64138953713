// Shared by fastpath.c and fastpath_go.c: see fastpath.c.

#define MAX_NAME 255

int fp_valid_name(const char *n);
const char *fp_first_env(char **envp, const char *key);
char *fp_look_path(const char *file, char **envp);
int fp_resolv_plain(void);
char **fp_go_env(char **envp, const char *name);
char **fp_read_args(int *argc);
