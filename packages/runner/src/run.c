/*
 * `run`: private namespaces, the overlay mount, and supervision of the container.
 *
 * Process layout:
 *   runner      host pid namespace, its own mount namespace (made recursively private);
 *               waits for the child and handles signals;
 *   └ child     PID 1 of a new pid namespace; mounts a fresh /proc and the overlay stack,
 *               then acts as the LXC monitor (container.c);
 *     └ LXC's init, then the command.
 *
 * Guarantees:
 *   - nothing is ever mounted in the host's mount namespace: the overlay, /proc and every
 *     LXC mount live in namespaces that die with the runner and its child, whether the
 *     command succeeds, fails, or the runner is killed (even with SIGKILL: the child has
 *     PR_SET_PDEATHSIG(SIGKILL), and killing PID 1 of a pid namespace kills all of it);
 *   - the runner gets SIGTERM when its caller dies (PR_SET_PDEATHSIG);
 *   - SIGTERM, SIGINT or SIGHUP to the runner kill the child (and so the container) with
 *     SIGKILL; the runner waits for it and exits 128+signal;
 *   - otherwise the runner exits with the command's code, or 128+N when it died of signal N;
 *   - no cgroup is created on the host unless --lxc-cgroups (see hide_cgroups), so a killed
 *     run leaves no lxc.monitor.<name> / lxc.payload.<name> cgroup dirs behind either.
 * The lower dirs are given top-first; with none, an empty "<work>/../workaround" dir
 * (created) is the only lower dir, as overlayfs needs at least one. Upper and work dirs are
 * created when missing (their parents must exist).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "leftovers.h"
#include "overlay.h"
#include "runner.h"

/* The canonical form of an existing directory (created first when `create`). */
static char *absolute_dir(const char *label, const char *path, bool create)
{
  char *abs;

  if (create && mkdir(path, 0755) < 0 && errno != EEXIST)
    die_errno(errno, "create %s dir %s", label, path);
  abs = realpath(path, NULL);
  if (!abs)
    die_errno(errno, "%s dir %s", label, path);
  overlay_check_path(label, abs);
  return abs;
}

/* Resolves and checks every directory of the stack before anything is mounted. */
static void prepare_stack(const struct run_options *o, struct overlay_stack *s)
{
  s->target = absolute_dir("rootfs", o->rootfs, false);
  s->upper = absolute_dir("upper", o->upper, true);
  s->work = absolute_dir("work", o->work, true);

  s->n_lowers = o->n_lowers ? o->n_lowers : 1;
  s->lowers = calloc(s->n_lowers, sizeof(*s->lowers));
  if (!s->lowers)
    die_errno(ENOMEM, "prepare overlay stack");
  for (size_t i = 0; i < o->n_lowers; i++)
    s->lowers[i] = absolute_dir("lower", o->lowers[i], false);

  if (o->n_lowers == 0) {
    char *work_copy = strdup(s->work);
    char path[4096];
    snprintf(path, sizeof(path), "%s/workaround", dirname(work_copy));
    s->lowers[0] = absolute_dir("empty lower", path, true);
    free(work_copy);
  }
}

/* Makes the runner get SIGTERM (handled like any SIGTERM) when the process that started it
 * dies, so a killed build never leaves its container running. Linux ties this to the
 * thread that forked us: a caller must not start the runner from a short-lived thread. */
static void follow_caller(void)
{
  pid_t caller = getppid();

  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
    die_errno(errno, "set parent death signal of the runner");
  if (getppid() != caller)
    exit(128 + SIGTERM); /* the caller died before prctl took effect */
}

/* Exit status of the runner for a wait status: the code, or 128+N for signal N. */
static int exit_code_of(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return EXIT_RUNNER_FAILURE;
}

/* Unless --lxc-cgroups, unmounts /sys/fs/cgroup in our namespace so liblxc finds no cgroup
 * hierarchy and creates none: LXC removes its lxc.monitor.<name> and lxc.payload.<name>
 * cgroups only when its monitor exits normally, so a killed run would leave them on the
 * host. The price: the container sees an empty /sys/fs/cgroup, and lxc.cgroup* limits in
 * the config cannot work. In a user namespace (rootless builds) the host's mounts are
 * locked and cannot be unmounted (EINVAL): an empty read-only tmpfs is mounted over them
 * instead, which hides them just as well (a user's delegated cgroup would otherwise be
 * filled with LXC's cgroups). */
static void hide_cgroups(const struct run_options *o)
{
  const char *dir = "/sys/fs/cgroup";

  if (o->lxc_cgroups)
    return;
  if (umount2(dir, MNT_DETACH) < 0) {
    if (errno != EINVAL && errno != ENOENT)
      die_errno(errno, "hide %s from liblxc", dir);
    if (errno == EINVAL &&
        mount("none", dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") <
            0 &&
        errno != ENOENT)
      die_errno(errno, "hide %s from liblxc (cover it with an empty tmpfs)", dir);
  }
  if (o->debug)
    debug_line("cgroups hidden from liblxc (no cgroup is created)");
}

/* PID 1 of the new pid namespace: mounts, then runs the container. Never returns. */
static noreturn void child_main(const struct run_options *o, const struct overlay_stack *s,
                                int lifeline, const sigset_t *old_mask)
{
  struct pollfd pfd = {.fd = lifeline, .events = POLLIN};
  int status;

  /* Die with the runner. The runner may already be gone before prctl took effect: then
   * its end of the lifeline pipe is closed (getppid() says nothing here: it is 0 in a new
   * pid namespace either way). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    die_errno(errno, "set parent death signal");
  if (poll(&pfd, 1, 0) != 0)
    _exit(EXIT_RUNNER_FAILURE);
  close(lifeline);
  sigprocmask(SIG_SETMASK, old_mask, NULL);

  /* The container must inherit stdio and nothing else the runner's caller left open. */
  close_range(3, ~0U, 0);

  /* Non-interactive: no stdin, and a session of our own so a terminal's Ctrl-C reaches
   * only the runner (which then kills us), never LXC's terminal handling. */
  if (!o->interactive) {
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0)
      die_errno(errno, "open /dev/null as stdin");
    close(null);
    setsid();
  }

  /* LXC reads /proc/<pid> of processes it created: /proc must show this pid namespace. */
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    die_errno(errno, "mount /proc for the new pid namespace");
  hide_cgroups(o);
  overlay_mount(s, o->debug);

  status = container_run(o, s->target);
  exit(exit_code_of(status));
}

/* Waits for the child, turning termination signals into SIGKILL for it. */
static int supervise(pid_t child, const sigset_t *signals)
{
  for (;;) {
    int sig = sigwaitinfo(signals, NULL);
    int status;

    if (sig < 0) {
      if (errno == EINTR)
        continue;
      die_errno(errno, "wait for signals");
    }
    if (sig == SIGCHLD) {
      if (waitpid(child, &status, WNOHANG) == child)
        return exit_code_of(status);
      continue;
    }
    kill(child, SIGKILL);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
      ;
    return 128 + sig;
  }
}

int run_main(const struct run_options *o)
{
  struct overlay_stack stack;
  sigset_t signals, old_mask;
  int lifeline[2], watcher;
  pid_t child;

  /* What a run step creates must not depend on the umask of whoever started the build: the
   * container gets the usual 022, as under Docker. */
  umask(022);
  prepare_stack(o, &stack);

  /* Block the signals we handle before anything can go wrong, so none is lost. */
  sigemptyset(&signals);
  sigaddset(&signals, SIGCHLD);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigprocmask(SIG_BLOCK, &signals, &old_mask);
  follow_caller();
  watcher = start_leftover_watcher(o->debug);

  /* New namespaces: the mount one for this process, the pid one for the next child. */
  if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0)
    die_errno(errno, "unshare mount and pid namespaces");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die_errno(errno, "make / recursively private");
  if (pipe2(lifeline, O_CLOEXEC) < 0)
    die_errno(errno, "create lifeline pipe");

  fflush(NULL);
  child = fork();
  if (child < 0)
    die_errno(errno, "fork the container monitor");
  if (child == 0) {
    close(lifeline[1]);
    child_main(o, &stack, lifeline[0], &old_mask);
  }
  close(lifeline[0]);
  follow_monitor(watcher, child);
  return supervise(child, &signals);
}
