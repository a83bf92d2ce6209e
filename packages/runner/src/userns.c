/*
 * `userns [u NSID HOSTID COUNT]... [g NSID HOSTID COUNT]... -- CMD [ARGS...]`: runs CMD as
 * uid/gid 0 of a new user namespace (with a new, recursively private mount namespace), so
 * that a user without privileges builds as "root": extraction with chown, whiteouts,
 * overlay mounts with userxattr and LXC all work inside it.
 *
 * Process layout and protocol:
 *   runner      stays in the caller's namespaces; writes the maps, then waits and forwards
 *               SIGINT, SIGTERM, SIGHUP and SIGQUIT to the child;
 *   └ child     unshare(CLONE_NEWUSER | CLONE_NEWNS), tells the runner (pipe "ready"), waits
 *               until the runner has written the maps (pipe "go"), drops supplementary
 *               groups, becomes 0:0, makes / recursively private and execs CMD (PATH search).
 * The maps are written by newuidmap and newgidmap (Debian package uidmap), which are setuid
 * root and accept only ranges /etc/subuid and /etc/subgid grant to the caller (plus its own
 * id): the engine builds the ranges from those files. They must run from the runner, outside
 * the new namespace: a setuid program started inside it would not gain host root.
 *
 * Exit status: CMD's code, or 128+N when it died of signal N; 125 with one error line when
 * the namespace cannot be made (unshare refused, newuidmap/newgidmap missing or refusing the
 * ranges, exec failed). newuidmap and newgidmap print their own reason on stderr first.
 * The child gets SIGTERM when the runner dies (PR_SET_PDEATHSIG), so a killed runner lets
 * CMD clean up rather than leaving it orphaned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

/* The parsed command line: newuidmap/newgidmap argument lists and the command. */
struct userns_options {
  char **uid_args; /* "NSID HOSTID COUNT" triples, flattened */
  size_t n_uid;
  char **gid_args;
  size_t n_gid;
  char **command;
};

/* Dies unless `text` is a decimal number below 2^32 (what uid_map takes). */
static void check_id(const char *text)
{
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull(text, &end, 10);
  if (!*text || *end || errno || v > 0xffffffffULL || text[0] == '-')
    die_detail("not a valid id or count", "userns: map value '%s'", text);
}

/* Fills `o` from userns's arguments (argv[0] is "userns"); dies on any mistake. */
static void parse_userns_args(int argc, char **argv, struct userns_options *o)
{
  int i;

  memset(o, 0, sizeof(*o));
  o->uid_args = calloc((size_t)argc, sizeof(char *));
  o->gid_args = calloc((size_t)argc, sizeof(char *));
  if (!o->uid_args || !o->gid_args)
    die_errno(ENOMEM, "userns: parse arguments");

  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 4) {
    bool uid = strcmp(argv[i], "u") == 0;
    char **list = uid ? o->uid_args : o->gid_args;
    size_t *n = uid ? &o->n_uid : &o->n_gid;

    if (!uid && strcmp(argv[i], "g") != 0)
      die_detail("expected u or g followed by NSID HOSTID COUNT", "userns: argument '%s'",
                 argv[i]);
    if (i + 3 >= argc)
      die_detail("a map needs NSID HOSTID COUNT", "userns: map '%s'", argv[i]);
    for (int k = 1; k <= 3; k++) {
      check_id(argv[i + k]);
      list[(*n)++] = argv[i + k];
    }
  }
  if (i >= argc || i + 1 >= argc)
    die_detail("no command given after '--'", "userns: parse arguments");
  if (o->n_uid == 0 || o->n_gid == 0)
    die_detail("at least one u and one g map are required", "userns: parse arguments");
  o->command = &argv[i + 1];
}

/* The signal mask the runner was started with, restored in every process it execs. */
static sigset_t initial_mask;

/* Runs `tool <pid> <triples...>` and returns its wait status (or -1 if it cannot start). */
static int run_map_tool(const char *tool, pid_t pid, char **triples, size_t n)
{
  char pid_text[32];
  char **args = calloc(n + 3, sizeof(char *));
  pid_t helper;
  int status;

  if (!args)
    die_errno(ENOMEM, "userns: %s arguments", tool);
  snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
  args[0] = (char *)tool;
  args[1] = pid_text;
  memcpy(args + 2, triples, n * sizeof(char *));

  helper = fork();
  if (helper < 0)
    die_errno(errno, "userns: fork %s", tool);
  if (helper == 0) {
    sigprocmask(SIG_SETMASK, &initial_mask, NULL);
    execvp(tool, args);
    _exit(errno == ENOENT ? 127 : 126); /* as shells report it; the runner says which */
  }
  free(args);
  while (waitpid(helper, &status, 0) < 0) {
    if (errno != EINTR)
      return -1;
  }
  return status;
}

/* Writes the child's maps with newuidmap and newgidmap; on failure kills it and dies. */
static void write_maps(const struct userns_options *o, pid_t child)
{
  static const char *tools[] = {"newuidmap", "newgidmap"};
  char **lists[] = {o->uid_args, o->gid_args};
  size_t counts[] = {o->n_uid, o->n_gid};

  for (int k = 0; k < 2; k++) {
    int status = run_map_tool(tools[k], child, lists[k], counts[k]);
    int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (status == 0)
      continue;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    if (status < 0)
      die_errno(errno, "userns: wait for %s", tools[k]);
    if (code == 127)
      die_detail("not found in PATH (Debian: apt-get install uidmap)", "userns: %s", tools[k]);
    if (code == 126)
      die_detail("cannot be executed (check its permissions)", "userns: %s", tools[k]);
    die_detail("it refused the ranges (see its message above; /etc/subuid and /etc/subgid "
               "must grant them to this user)",
               "userns: %s", tools[k]);
  }
}

/* Reads one byte from `fd`; false on end of file (the other side is gone). */
static bool read_byte(int fd)
{
  char c;
  ssize_t n;

  do
    n = read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

/* The child: new namespaces, wait for the maps, become root there, exec. Never returns. */
static noreturn void child_main(const struct userns_options *o, pid_t runner, int ready, int go)
{
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
    die_errno(errno, "userns: set parent death signal");
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
    die_errno(errno, "userns: unshare user and mount namespaces (are unprivileged user "
                     "namespaces enabled? see nx-stacker check)");
  if (write(ready, "r", 1) != 1)
    die_errno(errno, "userns: tell the runner the namespace exists");
  close(ready);
  if (!read_byte(go))
    _exit(EXIT_RUNNER_FAILURE); /* the runner failed to map us and said why */
  close(go);

  /* Root of the namespace: no supplementary groups of the host user (newgidmap may have
   * denied setgroups, then there is nothing to drop), uid and gid 0. */
  if (setgroups(0, NULL) < 0 && errno != EPERM)
    die_errno(errno, "userns: drop supplementary groups");
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
    die_errno(errno, "userns: become root of the user namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die_errno(errno, "userns: make / recursively private");

  /* A change of credentials may clear the parent death signal: set it again, and make
   * sure the runner did not die in between. */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
    die_errno(errno, "userns: set parent death signal");
  if (getppid() != runner)
    _exit(128 + SIGTERM);

  sigprocmask(SIG_SETMASK, &initial_mask, NULL);
  execvp(o->command[0], o->command);
  die_errno(errno, "userns: exec %s", o->command[0]);
}

/* Waits for the child, forwarding termination signals; returns the exit status to use. */
static int supervise(pid_t child, const sigset_t *signals)
{
  for (;;) {
    int sig = sigwaitinfo(signals, NULL);
    int status;

    if (sig < 0) {
      if (errno == EINTR)
        continue;
      die_errno(errno, "userns: wait for signals");
    }
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    if (waitpid(child, &status, WNOHANG) != child)
      continue;
    if (WIFEXITED(status))
      return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_RUNNER_FAILURE;
  }
}

int userns_main(int argc, char **argv)
{
  struct userns_options opts;
  sigset_t signals;
  int ready[2], go[2];
  pid_t runner = getpid();
  pid_t caller, child;

  parse_userns_args(argc, argv, &opts);

  /* Block the signals we forward before the child exists, so none is lost. */
  sigemptyset(&signals);
  sigaddset(&signals, SIGCHLD);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGQUIT);
  sigprocmask(SIG_BLOCK, &signals, &initial_mask);
  caller = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
    die_errno(errno, "userns: set parent death signal");
  if (getppid() != caller)
    return 128 + SIGTERM; /* the caller died before prctl took effect */
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
    die_errno(errno, "userns: create pipes");

  fflush(NULL);
  child = fork();
  if (child < 0)
    die_errno(errno, "userns: fork");
  if (child == 0) {
    close(ready[0]);
    close(go[1]);
    child_main(&opts, runner, ready[1], go[0]);
  }
  close(ready[1]);
  close(go[0]);

  /* The child has unshared (or died saying why): map it, then let it go. */
  if (read_byte(ready[0])) {
    write_maps(&opts, child);
    if (write(go[1], "g", 1) != 1)
      die_errno(errno, "userns: let the child go on");
  }
  close(ready[0]);
  close(go[1]);
  return supervise(child, &signals);
}
