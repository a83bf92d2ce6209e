/* Ending a container whose command left processes behind (see leftovers.c). */
#ifndef NX_STACKER_LEFTOVERS_H
#define NX_STACKER_LEFTOVERS_H

#include <stdbool.h>

#include "runner.h"

#include <sys/types.h>

/* Forks the watcher that stops a container once its command has exited; returns the fd to
 * hand it the monitor's pid with, or -1 when it could not start (a warning, not an error).
 * Must run before the runner unshares its mount and pid namespaces. */
int start_leftover_watcher(bool debug);

/* Tells the watcher (fd from start_leftover_watcher, -1 ignored) which process is liblxc's
 * monitor, whose child is the container's init; closes the fd. */
void follow_monitor(int watcher, pid_t monitor);

#endif
