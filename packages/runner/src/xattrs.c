/*
 * `xattrs ROOT [--strip-overlay]`: lists the xattrs of every entry of a tree.
 *
 * Output on stdout, for every xattr of every entry (ROOT itself is "."), three
 * NUL-terminated fields: <relpath>\0<name>\0<value hex>\0, in walk order (callers sort).
 * Contract:
 *   - the walk never follows symlinks and never crosses into another file system: entries
 *     whose device differs from ROOT's (mount points) are neither listed nor entered. ROOT
 *     should therefore be a plain directory tree (an upper dir), not an overlay mount,
 *     whose files may report the device of their lower layer;
 *   - with --strip-overlay, every xattr whose name contains ".overlay." is first REMOVED
 *     from disk and not listed, except names ending in ".overlay.opaque": overlayfs
 *     bookkeeping (origin, impure, redirect, ...) must not reach an image, opaque markers
 *     must;
 *   - file systems without xattr support list nothing; any other error is fatal (125).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "runner.h"

/* XATTR_LIST_MAX and XATTR_SIZE_MAX of Linux: a list or value never exceeds them. */
#define LIST_MAX 65536
#define VALUE_MAX 65536

struct walk {
  bool strip;
  size_t root_len;
  char names[LIST_MAX];
  unsigned char value[VALUE_MAX];
};

/* True for overlayfs bookkeeping that --strip-overlay removes. */
static bool is_overlay_bookkeeping(const char *name)
{
  static const char opaque[] = ".overlay.opaque";
  size_t len = strlen(name), olen = sizeof(opaque) - 1;

  if (!strstr(name, ".overlay."))
    return false;
  return !(len >= olen && strcmp(name + len - olen, opaque) == 0);
}

/* Writes one output record. */
static void emit(const char *relpath, const char *name, const unsigned char *value, size_t len)
{
  fputs(relpath, stdout);
  putchar_unlocked('\0');
  fputs(name, stdout);
  putchar_unlocked('\0');
  hex_write(stdout, value, len);
  putchar_unlocked('\0');
}

/* Lists (and maybe strips) the xattrs of one entry; `access` is the path to use for calls. */
static void visit(struct walk *w, const char *access, const char *relpath)
{
  ssize_t list_len = llistxattr(access, w->names, sizeof(w->names));

  if (list_len < 0) {
    if (errno == ENOTSUP)
      return;
    die_errno(errno, "xattrs: list xattrs of '%s'", relpath);
  }
  for (const char *name = w->names; name < w->names + list_len; name += strlen(name) + 1) {
    ssize_t n;

    if (w->strip && is_overlay_bookkeeping(name)) {
      if (lremovexattr(access, name) < 0 && errno != ENODATA)
        die_errno(errno, "xattrs: remove %s from '%s'", name, relpath);
      continue;
    }
    n = lgetxattr(access, name, w->value, sizeof(w->value));
    if (n < 0 && errno == ENODATA)
      continue; /* removed since it was listed */
    if (n < 0)
      die_errno(errno, "xattrs: read %s of '%s'", name, relpath);
    emit(relpath, name, w->value, (size_t)n);
  }
}

/* Walks the tree with fts (physical, one file system) and visits each entry once. */
static void walk_tree(struct walk *w, char *root)
{
  char *paths[] = {root, NULL};
  FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV, NULL);
  dev_t root_dev = 0;
  FTSENT *e;

  if (!fts)
    die_errno(errno, "xattrs: walk %s", root);
  while ((e = fts_read(fts)) != NULL) {
    if (e->fts_info == FTS_DP)
      continue;
    if (e->fts_info == FTS_ERR || e->fts_info == FTS_DNR || e->fts_info == FTS_NS)
      die_errno(e->fts_errno, "xattrs: walk '%s'", e->fts_path);
    if (e->fts_level == 0)
      root_dev = e->fts_statp->st_dev;
    else if (e->fts_statp->st_dev != root_dev) {
      fts_set(fts, e, FTS_SKIP);
      continue;
    }
    visit(w, e->fts_accpath, e->fts_level == 0 ? "." : e->fts_path + w->root_len + 1);
  }
  if (errno != 0)
    die_errno(errno, "xattrs: walk %s", root);
  fts_close(fts);
}

int xattrs_main(int argc, char **argv)
{
  static struct walk w;
  static char out_buf[1 << 16];
  char *root;

  w.strip = argc == 3 && strcmp(argv[2], "--strip-overlay") == 0;
  if (argc < 2 || argc > 3 || (argc == 3 && !w.strip)) {
    fputs("usage: nx-stacker-runner xattrs ROOT [--strip-overlay]\n", stderr);
    return EXIT_USAGE;
  }

  /* Child paths are ROOT + "/" + relpath; without trailing slashes that prefix is known. */
  root = strdup(argv[1]);
  if (!root)
    die_errno(ENOMEM, "xattrs: walk %s", argv[1]);
  w.root_len = strlen(root);
  while (w.root_len > 1 && root[w.root_len - 1] == '/')
    root[--w.root_len] = '\0';
  if (w.root_len == 1 && root[0] == '/')
    w.root_len = 0;

  setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
  errno = 0;
  walk_tree(&w, root);
  if (fflush(stdout) != 0)
    die_errno(errno, "xattrs: write the list");
  free(root);
  return 0;
}
