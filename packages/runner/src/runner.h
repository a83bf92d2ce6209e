/*
 * Shared declarations of nx-stacker-runner, the one native executable of nx-stacker.
 *
 * It is a separate process because Node is multithreaded and a multithreaded process cannot
 * unshare a mount or pid namespace. Modes (see main.c for the command lines):
 *   run     mounts an overlay stack in private namespaces and runs one command in LXC (run.c,
 *           overlay.c, container.c);
 *   userns  runs a command as root of a new user namespace, for rootless builds (userns.c);
 *   fsops   creates device nodes and sets xattrs that Node cannot (fsops.c);
 *   xattrs  lists (and optionally strips) the xattrs of a tree (xattrs.c);
 *   version prints the liblxc version, for `nx-stacker check` (container.c).
 *
 * Exit status contract shared by all modes: a failure of the runner itself prints exactly one
 * line "nx-stacker-runner: error: <what failed>: <detail>" on stderr and exits 125
 * (EXIT_RUNNER_FAILURE); an unknown mode or a malformed command line for a mode other than run
 * exits 2 after printing the usage.
 */
#ifndef NX_STACKER_RUNNER_H
#define NX_STACKER_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>

#define EXIT_RUNNER_FAILURE 125
#define EXIT_USAGE 2

/* Everything `run` needs; filled by parse_run_args() in main.c. Paths are as given. */
struct run_options {
  const char *name;
  const char *lxcpath;
  const char *config;
  const char *rootfs;
  const char *upper;
  const char *work;
  const char **lowers; /* top-first, overlayfs order; n_lowers may be 0 */
  size_t n_lowers;
  const char *log_file;  /* NULL: no LXC log file */
  const char *log_level; /* NULL: LXC's default */
  bool debug;
  bool interactive;
  bool lxc_cgroups; /* let liblxc create cgroups (see run.c) */
  char **command; /* NULL-terminated, at least one element */
};

/* Mode entry points; each returns the process exit status. */
int run_main(const struct run_options *opts);
int userns_main(int argc, char **argv);
int fsops_main(int argc, char **argv);
int xattrs_main(int argc, char **argv);
/* `version`: prints "liblxc <version>" (the library the runner was linked with). */
int version_main(void);

/* Prints "<what>: <strerror(err)>" as the runner's error line and exits 125. */
noreturn void die_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "<what>: <detail>" as the runner's error line and exits 125. */
noreturn void die_detail(const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "nx-stacker-runner: warning: <message>" on stderr: something the user should know
 * that did not stop the mode (the engine passes these lines on to its logger). */
void warning_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "nx-stacker-runner: debug: <message>" on stderr. */
void debug_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lowercase hex of `len` bytes onto `out` (no separator, no terminator). */
void hex_write(FILE *out, const unsigned char *data, size_t len);
/* Decodes hex text in place; returns the byte count, or -1 if `text` is not even-length hex. */
long hex_decode_inplace(char *text);

#endif
