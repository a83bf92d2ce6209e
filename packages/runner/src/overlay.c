/*
 * Mounts the overlay stack of a `run` at the rootfs directory.
 *
 * Contract: the caller is already in its private mount namespace, so the mount disappears
 * with the namespace and never shows on the host. Paths must be absolute and free of ':',
 * ',' and '\' (overlay_check_path), because those separate or escape overlay options; the
 * engine never produces such paths (stacker bans ':' in layer names and roots dirs too).
 * Options are always lowerdir=<top>:...:<bottom>,upperdir=..,workdir=..,userxattr, so
 * whiteouts and opaque markers use user.overlay.* xattrs: the format our extractor writes.
 *
 * The stack is mounted through the file system context API (fsopen), whose errors carry the
 * kernel's explanation, when each option value fits its 255-byte limit; otherwise, or on
 * kernels without fsopen (< 5.2), through mount(2), whose option string holds one page.
 * A stack beyond one page gets one "lowerdir+" per layer, which needs Linux >= 6.8.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "overlay.h"
#include "runner.h"

void overlay_check_path(const char *label, const char *path)
{
  if (path[0] != '/')
    die_detail("path must be absolute", "overlay %s '%s'", label, path);
  if (strpbrk(path, ":,\\"))
    die_detail("overlay paths cannot contain ':', ',' or '\\'", "overlay %s '%s'", label, path);
}

char *overlay_options(const struct overlay_stack *s)
{
  size_t len = strlen("lowerdir=,upperdir=,workdir=,userxattr") + strlen(s->upper) +
               strlen(s->work) + 1;
  char *text;
  char *p;

  for (size_t i = 0; i < s->n_lowers; i++)
    len += strlen(s->lowers[i]) + 1;
  text = malloc(len);
  if (!text)
    die_errno(ENOMEM, "overlay options");

  p = text + sprintf(text, "lowerdir=");
  for (size_t i = 0; i < s->n_lowers; i++)
    p += sprintf(p, "%s%s", i ? ":" : "", s->lowers[i]);
  sprintf(p, ",upperdir=%s,workdir=%s,userxattr", s->upper, s->work);
  return text;
}

/* The kernel's explanation queued on a file system context, or "" when there is none. */
static const char *context_message(int fd, char *buf, size_t size)
{
  ssize_t n = read(fd, buf, size - 1);

  if (n <= 0)
    return "";
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  /* Messages start with "e " (error), "w " or "i "; drop that marker. */
  return n > 2 && buf[1] == ' ' ? buf + 2 : buf;
}

/* Dies with the failing step, errno and the kernel's message (or where to find it). */
static noreturn void context_fail(int fd, int err, const char *step, const char *target)
{
  char buf[512];
  const char *message = fd >= 0 ? context_message(fd, buf, sizeof(buf)) : "";
  char detail[800];

  snprintf(detail, sizeof(detail), "%s (%s)", strerror(err),
           *message ? message : "the kernel log, dmesg, may say why");
  die_detail(detail, "mount overlay at %s (%s)", target, step);
}

/* Mounts through fsopen/fsconfig/fsmount. With `per_layer`, one "lowerdir+" per layer
 * lifts the one-page limit of the option list (Linux >= 6.8); otherwise "lowerdir" is the
 * joined list, which every kernel with fsopen takes. Returns -1 only when fsopen itself is
 * missing (Linux < 5.2); any other failure dies with the kernel's own explanation. */
static int mount_with_context(const struct overlay_stack *s, const char *joined, bool per_layer)
{
  int fd = fsopen("overlay", FSOPEN_CLOEXEC);
  int mnt;

  if (fd < 0 && errno == ENOSYS)
    return -1;
  if (fd < 0)
    context_fail(-1, errno, "fsopen", s->target);
  for (size_t i = 0; per_layer && i < s->n_lowers; i++) {
    if (fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", s->lowers[i], 0) < 0)
      context_fail(fd, errno, "lowerdir+, needs Linux >= 6.8 for this many layers", s->target);
  }
  if (!per_layer && fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir", joined, 0) < 0)
    context_fail(fd, errno, "lowerdir", s->target);
  if (fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", s->upper, 0) < 0)
    context_fail(fd, errno, "upperdir", s->target);
  if (fsconfig(fd, FSCONFIG_SET_STRING, "workdir", s->work, 0) < 0)
    context_fail(fd, errno, "workdir", s->target);
  if (fsconfig(fd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
    context_fail(fd, errno, "userxattr", s->target);
  if (fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    context_fail(fd, errno, "create", s->target);

  mnt = fsmount(fd, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    context_fail(fd, errno, "fsmount", s->target);
  if (move_mount(mnt, "", AT_FDCWD, s->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    context_fail(fd, errno, "move_mount", s->target);
  close(mnt);
  close(fd);
  return 0;
}

/* The lower dirs joined with ':' as "lowerdir" takes them; caller frees. */
static char *joined_lowers(const struct overlay_stack *s)
{
  size_t len = 1;
  char *text;

  for (size_t i = 0; i < s->n_lowers; i++)
    len += strlen(s->lowers[i]) + 1;
  text = calloc(1, len);
  if (!text)
    die_errno(ENOMEM, "overlay options");
  for (size_t i = 0; i < s->n_lowers; i++) {
    if (i)
      strcat(text, ":");
    strcat(text, s->lowers[i]);
  }
  return text;
}

/* The longest string value fsconfig() accepts: the kernel copies at most 256 bytes. */
#define FSCONFIG_VALUE_MAX 255

void overlay_mount(const struct overlay_stack *s, bool debug)
{
  char *options = overlay_options(s);
  char *joined = joined_lowers(s);
  bool fits_page = (long)strlen(options) < sysconf(_SC_PAGESIZE);
  bool short_values = strlen(joined) <= FSCONFIG_VALUE_MAX &&
                      strlen(s->upper) <= FSCONFIG_VALUE_MAX &&
                      strlen(s->work) <= FSCONFIG_VALUE_MAX;

  /* Best errors: the fs context with the joined list. Then mount(2), which takes one
   * page. Beyond a page only "lowerdir+" is left (each path at most 255 bytes). */
  if (debug)
    debug_line("overlay %s on %s%s", options, s->target,
               short_values || fits_page ? "" : " (one lowerdir+ per layer)");
  if (short_values) {
    if (mount_with_context(s, joined, false) == 0)
      goto done;
  } else if (!fits_page) {
    if (mount_with_context(s, joined, true) == 0)
      goto done;
    die_detail("needs Linux >= 6.8", "mount overlay at %s with %zu lower dirs", s->target,
               s->n_lowers);
  }
  if (mount("overlay", s->target, "overlay", 0, options) < 0)
    die_errno(errno, "mount overlay at %s (the kernel log, dmesg, says why)", s->target);

done:
  free(joined);
  free(options);
}
