/* Starting the container through liblxc (see container.c for the contract). */
#ifndef NX_STACKER_CONTAINER_H
#define NX_STACKER_CONTAINER_H

#include "runner.h"

/* Runs o->command in a container whose rootfs is the mounted `rootfs`; returns its wait
 * status or dies when the container cannot start. */
int container_run(const struct run_options *o, const char *rootfs);

#endif
