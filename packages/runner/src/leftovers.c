/*
 * Ends a container once its command has exited, even when the command left processes behind.
 *
 * LXC's init (PID 1 of the container) keeps the container alive until every process in it has
 * exited, so a `run` script that started a daemon (`service foo start`, `cmd &`) would hold
 * the build until that daemon ends by itself. Like a Dockerfile RUN step, a run step ends with
 * its command: a watcher process polls the container and, once the command (PID 2 in the
 * container, the first process LXC's init forks) is gone while other processes remain, sends
 * SIGTERM to LXC's init. LXC's init then sends SIGTERM to everything, SIGKILL a second later,
 * and still exits with the command's status.
 *
 * The watcher is a child of the runner, forked before the runner enters its own mount and pid
 * namespaces so that it sees the host's /proc: it cannot be a thread (liblxc refuses to start
 * a foreground container in a threaded process) nor a child of liblxc's monitor (which waits
 * for every child it has). It dies with the runner (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "leftovers.h"

/* How often the watcher looks, in milliseconds: a short run step waits at most this long. */
#define POLL_MS 50
#define MAX_PIDS 256

/* Reads a small /proc file into buf (NUL-terminated); returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return n;
}

/* The children of `pid`'s main thread; returns how many were stored in `out`. */
static size_t children_of(pid_t pid, pid_t *out, size_t max)
{
  char path[64], buf[4096], *p, *end;
  size_t n = 0;

  snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
  if (read_small(path, buf, sizeof(buf)) < 0)
    return 0;
  for (p = buf; n < max; p = end) {
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    out[n++] = (pid_t)v;
  }
  return n;
}

/* The pid of `pid` in its innermost pid namespace (last NSpid field), or -1. */
static long inner_pid(pid_t pid)
{
  char path[64], buf[2048], *line, *p, *end;
  long last = -1;

  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  if (read_small(path, buf, sizeof(buf)) < 0)
    return -1;
  line = strstr(buf, "\nNSpid:");
  if (!line)
    return -1;
  for (p = line + strlen("\nNSpid:");; p = end) {
    long v = strtol(p, &end, 10);
    if (end == p || *p == '\n')
      break;
    last = v;
  }
  return last;
}

/* Whether the container whose init is `init` has lost its command but not all its processes. */
static int only_leftovers(pid_t init)
{
  pid_t kids[MAX_PIDS];
  size_t n = children_of(init, kids, MAX_PIDS);

  if (n == 0)
    return 0; /* not started yet, or already empty: LXC's init ends by itself */
  for (size_t i = 0; i < n; i++) {
    if (inner_pid(kids[i]) == 2)
      return 0;
  }
  return 1;
}

static void watch(pid_t monitor)
{
  const struct timespec pause = { 0, POLL_MS * 1000000L };
  pid_t stopped = 0;

  for (;;) {
    pid_t kids[MAX_PIDS];
    size_t n = children_of(monitor, kids, MAX_PIDS);

    for (size_t i = 0; i < n; i++) {
      /* The container's init is the monitor's child that is PID 1 of its own namespace. */
      if (kids[i] == stopped || inner_pid(kids[i]) != 1 || !only_leftovers(kids[i]))
        continue;
      kill(kids[i], SIGTERM);
      stopped = kids[i];
    }
    nanosleep(&pause, NULL);
  }
}

int start_leftover_watcher(bool debug)
{
  int channel[2];
  pid_t pid, monitor;

  if (pipe2(channel, O_CLOEXEC) < 0) {
    warning_line("cannot watch for processes a run step leaves behind: %s", strerror(errno));
    return -1;
  }
  pid = fork();
  if (pid < 0) {
    warning_line("cannot watch for processes a run step leaves behind: %s", strerror(errno));
    close(channel[0]);
    close(channel[1]);
    return -1;
  }
  if (pid > 0) {
    close(channel[0]);
    if (debug)
      debug_line("watching for processes the command leaves behind (watcher pid %d)", (int)pid);
    return channel[1];
  }

  /* The watcher: dies with the runner, holds none of its stdio, waits for the monitor's pid
   * (nothing arrives when the runner fails before starting it). */
  close(channel[1]);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    _exit(0);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  if (read(channel[0], &monitor, sizeof(monitor)) != sizeof(monitor))
    _exit(0);
  watch(monitor);
  _exit(0);
}

void follow_monitor(int watcher, pid_t monitor)
{
  if (watcher < 0)
    return;
  if (write(watcher, &monitor, sizeof(monitor)) != sizeof(monitor))
    warning_line("cannot watch for processes a run step leaves behind: %s", strerror(errno));
  close(watcher);
}
