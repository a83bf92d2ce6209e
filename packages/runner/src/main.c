/*
 * Entry point: picks the mode from argv[1] and parses the command line of `run`.
 *
 * Contract: an unknown or missing mode prints the usage on stderr and exits 2. A malformed
 * `run` command line is a runner failure (exit 125 with one error line), because the engine
 * builds it and a mistake there is a bug to report, not a usage question.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static const char usage_text[] =
    "usage:\n"
    "  nx-stacker-runner run --name N --lxcpath DIR --config FILE --rootfs DIR --upper DIR\n"
    "      --work DIR [--lower DIR ...] [--log FILE] [--log-level LEVEL] [--debug]\n"
    "      [--interactive] [--lxc-cgroups] -- CMD [ARGS...]\n"
    "  nx-stacker-runner userns [u NSID HOSTID COUNT]... [g NSID HOSTID COUNT]... -- CMD\n"
    "      [ARGS...]   (CMD as root of a new user namespace, mapped by newuidmap/newgidmap)\n"
    "  nx-stacker-runner fsops ROOT [--verbose]   (operations on stdin, NUL-separated)\n"
    "  nx-stacker-runner xattrs ROOT [--strip-overlay]\n"
    "  nx-stacker-runner version\n";

static int usage(void)
{
  fputs(usage_text, stderr);
  return EXIT_USAGE;
}

/* The value after option argv[*i]; advances *i past it. */
static const char *option_value(int argc, char **argv, int *i)
{
  if (*i + 1 >= argc)
    die_detail("missing value", "run: option %s", argv[*i]);
  *i += 1;
  return argv[*i];
}

/* Handles one `--opt value` option of run; false when `opt` is not one of them. */
static int parse_valued_option(struct run_options *o, int argc, char **argv, int *i)
{
  static const char *names[] = {"--name",   "--lxcpath", "--config", "--rootfs", "--upper",
                                "--work",   "--log",     "--log-level"};
  const char **fields[] = {&o->name,   &o->lxcpath,  &o->config,   &o->rootfs,
                           &o->upper,  &o->work,     &o->log_file, &o->log_level};

  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
    if (strcmp(argv[*i], names[k]) == 0) {
      *fields[k] = option_value(argc, argv, i);
      return 1;
    }
  }
  if (strcmp(argv[*i], "--lower") == 0) {
    o->lowers[o->n_lowers++] = option_value(argc, argv, i);
    return 1;
  }
  return 0;
}

/* Fills `o` from `run`'s arguments (argv[0] is "run"); dies on any mistake. */
static void parse_run_args(int argc, char **argv, struct run_options *o)
{
  int i;

  memset(o, 0, sizeof(*o));
  o->lowers = calloc((size_t)argc, sizeof(*o->lowers));
  if (!o->lowers)
    die_errno(ENOMEM, "run: parse arguments");

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (parse_valued_option(o, argc, argv, &i))
      continue;
    if (strcmp(argv[i], "--debug") == 0)
      o->debug = true;
    else if (strcmp(argv[i], "--interactive") == 0)
      o->interactive = true;
    else if (strcmp(argv[i], "--lxc-cgroups") == 0)
      o->lxc_cgroups = true;
    else
      die_detail("unknown option (see usage)", "run: option %s", argv[i]);
  }

  if (i >= argc || i + 1 >= argc)
    die_detail("no command given after '--'", "run: parse arguments");
  o->command = &argv[i + 1];

  if (!o->name || !o->lxcpath || !o->config || !o->rootfs || !o->upper || !o->work)
    die_detail("--name, --lxcpath, --config, --rootfs, --upper and --work are required",
               "run: parse arguments");
}

int main(int argc, char **argv)
{
  struct run_options opts;

  if (argc < 2)
    return usage();
  if (strcmp(argv[1], "run") == 0) {
    parse_run_args(argc - 1, argv + 1, &opts);
    return run_main(&opts);
  }
  if (strcmp(argv[1], "userns") == 0)
    return userns_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "fsops") == 0)
    return fsops_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "xattrs") == 0)
    return xattrs_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "version") == 0)
    return version_main();
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage_text, stdout);
    return 0;
  }
  fprintf(stderr, "nx-stacker-runner: unknown mode '%s'\n", argv[1]);
  return usage();
}
