/* The overlay stack of one `run` (see overlay.c for the contract). */
#ifndef NX_STACKER_OVERLAY_H
#define NX_STACKER_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

struct overlay_stack {
  const char **lowers; /* absolute, top-first; at least one */
  size_t n_lowers;
  const char *upper;
  const char *work;
  const char *target; /* the rootfs directory the stack is mounted on */
};

/* Dies unless `path` is absolute and has no character that overlay options give a meaning. */
void overlay_check_path(const char *label, const char *path);
/* The option string mount(2) gets, for mounting and for --debug; caller frees. */
char *overlay_options(const struct overlay_stack *s);
/* Mounts the stack at s->target or dies; prints the options first when `debug`. */
void overlay_mount(const struct overlay_stack *s, bool debug);

#endif
