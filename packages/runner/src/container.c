/*
 * Starts the command in an LXC application container through liblxc and waits for it.
 *
 * Contract: the overlay stack is already mounted at `rootfs`, so LXC sees a plain directory
 * rootfs. The lxcpath dir is created when missing (its parent must exist); LXC keeps
 * nothing in it for these containers (its command socket is abstract). The config file
 * holds every lxc.* item except the rootfs path and the log, which are set here; nothing
 * else (no Debian common.conf: its lxcfs hook costs 0.5 s a start).
 * LXC runs in the foreground in this process (this process becomes the LXC monitor) with
 * LXC's init as PID 1 of the container, and the command inherits this process's stdio:
 *   - lxc.console.path = none is not needed for that: in application mode LXC only puts a
 *     pty between the command and stdin/stdout/stderr when those are terminals;
 *   - the engine's config must not set lxc.console.* or lxc.tty.* to anything else.
 * Returns the wait status of the command as LXC's init reports it (a command killed by
 * signal N appears as an exit with 128+N; a command that cannot be executed, e.g. missing
 * from the rootfs, appears as exit 255 and LXC's init says nothing about it). A failure to
 * start dies with LXC's first ERROR line as the detail, taken from the log file (or from an
 * in-memory log when none is given).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <lxc/lxccontainer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "runner.h"

/* Where LXC logs and from which offset this run's lines start. */
struct log_target {
  char path[4096];
  off_t start;
};

/* Sets one config item, with --debug echo; dies when LXC refuses it. */
static void set_item(struct lxc_container *c, const char *key, const char *value, bool debug)
{
  if (debug)
    debug_line("lxc config %s = %s", key, value);
  if (!c->set_config_item(c, key, value))
    die_detail("liblxc refused the value", "set %s = %s", key, value);
}

/* Chooses the log: the caller's file, or a memfd kept only to explain a failed start. */
static void choose_log(const struct run_options *o, struct log_target *log)
{
  struct stat st;
  int fd;

  if (o->log_file) {
    snprintf(log->path, sizeof(log->path), "%s", o->log_file);
    log->start = stat(o->log_file, &st) == 0 ? st.st_size : 0;
    return;
  }
  fd = memfd_create("nx-stacker-lxc-log", MFD_CLOEXEC);
  if (fd < 0)
    die_errno(errno, "create in-memory lxc log");
  snprintf(log->path, sizeof(log->path), "/proc/self/fd/%d", fd);
  log->start = 0;
}

/* Copies the message of the first ERROR line written since log->start into `out`. */
static void first_log_error(const struct log_target *log, char *out, size_t size)
{
  FILE *f = fopen(log->path, "re");
  char *line = NULL;
  size_t cap = 0;

  snprintf(out, size, "liblxc gave no reason (run with a log file at level TRACE)");
  if (!f)
    return;
  fseeko(f, log->start, SEEK_SET);
  while (getline(&line, &cap, f) > 0) {
    char *msg;
    if (!strstr(line, " ERROR "))
      continue;
    /* "lxc NAME TIME ERROR category - file.c:func:line - message": keep the message. */
    msg = strstr(line, " - ");
    msg = msg ? strstr(msg + 3, " - ") : NULL;
    snprintf(out, size, "%s", msg ? msg + 3 : line);
    out[strcspn(out, "\n")] = '\0';
    break;
  }
  free(line);
  fclose(f);
}

int container_run(const struct run_options *o, const char *rootfs)
{
  struct lxc_container *c;
  struct log_target log;
  char reason[1024];
  int status;

  /* Define the container from the engine's config file only, logging from the start so a
   * refused config item is explained. */
  if (mkdir(o->lxcpath, 0755) < 0 && errno != EEXIST)
    die_errno(errno, "create lxcpath %s", o->lxcpath);
  c = lxc_container_new(o->name, o->lxcpath);
  if (!c)
    die_detail("liblxc could not create the container object", "lxc container '%s' in %s",
               o->name, o->lxcpath);
  c->clear_config(c);
  choose_log(o, &log);
  set_item(c, "lxc.log.file", log.path, o->debug && o->log_file);
  if (o->log_level)
    set_item(c, "lxc.log.level", o->log_level, o->debug);
  else if (!o->log_file)
    set_item(c, "lxc.log.level", "ERROR", false);
  if (!c->load_config(c, o->config)) {
    first_log_error(&log, reason, sizeof(reason));
    die_detail(reason, "load lxc config %s", o->config);
  }
  if (o->debug)
    debug_line("lxc config loaded from %s", o->config);

  /* The rootfs is the overlay mounted by the runner: a plain directory for LXC. */
  set_item(c, "lxc.rootfs.path", rootfs, o->debug);

  /* Run in the foreground with LXC's init as PID 1 (application container); leftovers.c
   * ends the run with the command, not with the last process it left behind. */
  c->want_daemonize(c, false);
  if (!c->start(c, 1, o->command)) {
    first_log_error(&log, reason, sizeof(reason));
    die_detail(reason, "start lxc container '%s'", o->name);
  }
  status = c->error_num;
  lxc_container_put(c);
  return status;
}

int version_main(void)
{
  printf("liblxc %s\n", lxc_get_version());
  return 0;
}
