/*
 * `fsops ROOT [--verbose]`: applies the file system operations Node cannot do.
 *
 * Input on stdin, every field NUL-terminated (binary-safe: paths may contain newlines):
 *   mknod\0<relpath>\0<mode octal>\0<c|b|p>\0<major>\0<minor>\0
 *   setxattr\0<relpath>\0<name>\0<value hex>\0
 * Contract:
 *   - paths are relative to ROOT; "." (or "") in setxattr means ROOT itself;
 *   - every operation is checked before the first one is applied; a path that is absolute,
 *     has a ".." component, or whose parent is reached through a symlink, and a mknod whose
 *     target is an existing directory, are refused (exit 125, nothing written);
 *   - each parent directory is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 *     RESOLVE_NO_MAGICLINKS) relative to ROOT, and the operation acts on that directory fd,
 *     so nothing can be redirected outside ROOT;
 *   - mknod replaces an existing non-directory (unlink first); its mode is used as given
 *     (no umask), so a whiteout is "c 0 0" with mode 0, as overlayfs makes them; kind p
 *     makes a FIFO and ignores major/minor. Owner is the runner's (root);
 *   - where device nodes cannot be made (EPERM: a user namespace, where only whiteouts are
 *     allowed), a character or block device other than 0:0 becomes an empty regular file
 *     with the same mode, and a warning line names it. An image built on it still runs;
 *     the device only matters if a run step uses it, and is then only missing. Whiteouts
 *     never fall back: without them lower files would show through;
 *   - setxattr acts on the entry itself, never through a final symlink. Linux refuses
 *     user.* xattrs on anything but regular files and directories, so such requests are
 *     skipped (counted under --verbose) instead of failing: they cannot exist on Linux;
 *   - a system call that fails while applying stops the run with exit 125; operations
 *     before it stay applied.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runner.h"

enum op_kind { OP_MKNOD, OP_SETXATTR };

struct fs_op {
  enum op_kind kind;
  const char *path;
  mode_t mode; /* mknod: file type | permission bits */
  dev_t dev;
  const char *name; /* setxattr */
  const char *value;
  size_t value_len;
};

/* A relpath split into the parent to open beneath ROOT and the final name (NULL: ROOT). */
struct split_path {
  char parent[4096];
  const char *base;
};

/* Reads all of stdin; the input ends with a NUL unless it is empty. */
static char *read_input(size_t *len)
{
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  ssize_t n;

  *len = 0;
  while (buf) {
    if (*len == cap)
      buf = realloc(buf, cap *= 2);
    if (!buf)
      break;
    n = read(STDIN_FILENO, buf + *len, cap - *len);
    if (n == 0)
      return buf;
    if (n < 0 && errno != EINTR)
      die_errno(errno, "fsops: read operations from stdin");
    if (n > 0)
      *len += (size_t)n;
  }
  die_errno(ENOMEM, "fsops: read operations from stdin");
}

/* Next NUL-terminated field at *pos; dies when the input ends inside an operation. */
static char *next_field(char *buf, size_t len, size_t *pos, const char *what)
{
  char *field = buf + *pos;
  char *end = memchr(field, '\0', len - *pos);

  if (*pos >= len || !end)
    die_detail("input ends inside an operation", "fsops: read %s", what);
  *pos = (size_t)(end - buf) + 1;
  return field;
}

/* Parses an unsigned number in `base`, dying unless the whole field is a number <= max. */
static unsigned long parse_number(const char *text, int base, unsigned long max, const char *what,
                                  const char *path)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul(text, &end, base);
  if (!*text || *end || errno || v > max)
    die_detail("not a valid number", "fsops: %s '%s' for %s", what, text, path);
  return v;
}

/* Reads the fields of one mknod operation after its keyword. */
static void parse_mknod(char *buf, size_t len, size_t *pos, struct fs_op *op)
{
  const char *mode, *kind, *major, *minor;

  op->kind = OP_MKNOD;
  op->path = next_field(buf, len, pos, "mknod path");
  mode = next_field(buf, len, pos, "mknod mode");
  kind = next_field(buf, len, pos, "mknod kind");
  major = next_field(buf, len, pos, "mknod major");
  minor = next_field(buf, len, pos, "mknod minor");

  op->mode = (mode_t)parse_number(mode, 8, 07777, "mode", op->path);
  if (strcmp(kind, "c") == 0)
    op->mode |= S_IFCHR;
  else if (strcmp(kind, "b") == 0)
    op->mode |= S_IFBLK;
  else if (strcmp(kind, "p") == 0)
    op->mode |= S_IFIFO;
  else
    die_detail("expected c, b or p", "fsops: mknod kind '%s' for %s", kind, op->path);
  op->dev = makedev(parse_number(major, 10, 0xfffff, "major", op->path),
                    parse_number(minor, 10, 0xfffff, "minor", op->path));
}

/* Reads the fields of one setxattr operation after its keyword. */
static void parse_setxattr(char *buf, size_t len, size_t *pos, struct fs_op *op)
{
  char *value;
  long n;

  op->kind = OP_SETXATTR;
  op->path = next_field(buf, len, pos, "setxattr path");
  op->name = next_field(buf, len, pos, "setxattr name");
  value = next_field(buf, len, pos, "setxattr value");
  n = hex_decode_inplace(value);
  if (n < 0)
    die_detail("value is not hex", "fsops: setxattr %s on %s", op->name, op->path);
  if (!*op->name)
    die_detail("empty xattr name", "fsops: setxattr on %s", op->path);
  op->value = value;
  op->value_len = (size_t)n;
}

/* Parses the whole input into an array of operations. */
static struct fs_op *parse_ops(char *buf, size_t len, size_t *count)
{
  size_t cap = 64, pos = 0;
  struct fs_op *ops = malloc(cap * sizeof(*ops));

  *count = 0;
  while (ops && pos < len) {
    const char *keyword = next_field(buf, len, &pos, "operation");
    if (*count == cap)
      ops = realloc(ops, (cap *= 2) * sizeof(*ops));
    if (!ops)
      break;
    if (strcmp(keyword, "mknod") == 0)
      parse_mknod(buf, len, &pos, &ops[*count]);
    else if (strcmp(keyword, "setxattr") == 0)
      parse_setxattr(buf, len, &pos, &ops[*count]);
    else
      die_detail("expected mknod or setxattr", "fsops: operation '%s'", keyword);
    *count += 1;
  }
  if (!ops)
    die_errno(ENOMEM, "fsops: parse operations");
  return ops;
}

/* Splits `path` lexically, refusing absolute paths and ".." components. */
static void split_relpath(const struct fs_op *op, struct split_path *out)
{
  const char *p = op->path;
  size_t n = 0;

  if (p[0] == '/')
    die_detail("absolute paths are refused", "fsops: path '%s'", op->path);
  out->parent[0] = '\0';
  out->base = NULL;
  while (*p) {
    size_t len = strcspn(p, "/");
    if (len == 2 && p[0] == '.' && p[1] == '.')
      die_detail("'..' components are refused", "fsops: path '%s'", op->path);
    if (len > 0 && !(len == 1 && p[0] == '.')) {
      /* The previous final name becomes part of the parent. */
      if (out->base) {
        size_t blen = strcspn(out->base, "/");
        if (n + blen + 2 > sizeof(out->parent))
          die_detail("path too long", "fsops: path '%s'", op->path);
        n += (size_t)sprintf(out->parent + n, "%s%.*s", n ? "/" : "", (int)blen, out->base);
      }
      out->base = p;
    }
    p += len + (p[len] == '/');
  }
  if (!out->base && op->kind == OP_MKNOD)
    die_detail("mknod needs a name below ROOT", "fsops: path '%s'", op->path);
}

/* Opens the parent of `op` beneath ROOT without following any symlink. */
static int open_parent(int root, const struct fs_op *op, const struct split_path *sp)
{
  struct open_how how = {
      .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  const char *parent = sp->parent[0] ? sp->parent : ".";
  long fd = syscall(SYS_openat2, root, parent, &how, sizeof(how));

  if (fd >= 0)
    return (int)fd;
  if (errno == ELOOP)
    die_detail("its parent is reached through a symlink", "fsops: path '%s'", op->path);
  if (errno == EXDEV)
    die_detail("it escapes ROOT", "fsops: path '%s'", op->path);
  die_errno(errno, "fsops: open parent of '%s'", op->path);
}

/* The final name as its own string (base points into the path, which may have a '/'). */
static const char *final_name(const struct split_path *sp, char *buf, size_t size)
{
  snprintf(buf, size, "%.*s", (int)strcspn(sp->base, "/"), sp->base);
  return buf;
}

/* Checks one operation without writing anything. */
static void check_op(int root, const struct fs_op *op)
{
  struct split_path sp;
  struct stat st;
  char name[4096];
  int dir;

  split_relpath(op, &sp);
  dir = open_parent(root, op, &sp);
  if (op->kind == OP_MKNOD &&
      fstatat(dir, final_name(&sp, name, sizeof(name)), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(st.st_mode))
    die_detail("a directory is in the way", "fsops: mknod '%s'", op->path);
  close(dir);
}

/* After mknod failed with errno: an empty file in place of a device we may not create (see
 * the file comment). False when that does not apply; errno is then mknod's again. */
static bool device_placeholder(int dir, const char *name, const struct fs_op *op)
{
  int err = errno;
  bool device = S_ISCHR(op->mode) || S_ISBLK(op->mode);
  int fd;

  if (err != EPERM || !device || op->dev == makedev(0, 0))
    return false;
  fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, op->mode & 07777);
  if (fd < 0)
    die_errno(errno, "fsops: create an empty file in place of device '%s'", op->path);
  close(fd);
  warning_line("fsops: device nodes cannot be created here (a user namespace?): '%s' "
               "(%c %u:%u) is an empty file instead",
               op->path, S_ISCHR(op->mode) ? 'c' : 'b', major(op->dev), minor(op->dev));
  return true;
}

/* Applies one checked operation; returns 1 when it was skipped (see the file comment). */
static int apply_op(int root, const struct fs_op *op)
{
  struct split_path sp;
  struct stat st;
  char name[4096], proc_path[4200];
  int dir, skipped = 0;

  split_relpath(op, &sp);
  dir = open_parent(root, op, &sp);
  if (op->kind == OP_MKNOD) {
    final_name(&sp, name, sizeof(name));
    if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
      die_errno(errno, "fsops: remove existing '%s'", op->path);
    if (mknodat(dir, name, op->mode, op->dev) < 0 && !device_placeholder(dir, name, op))
      die_errno(errno, "fsops: mknod '%s'", op->path);
  } else {
    /* The dir fd pins the parent; lsetxattr does not follow the final component. */
    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d/%s", dir,
             sp.base ? final_name(&sp, name, sizeof(name)) : ".");
    if (lsetxattr(proc_path, op->name, op->value, op->value_len, 0) < 0) {
      int err = errno;
      bool user = strncmp(op->name, "user.", 5) == 0;
      if (!(err == EPERM && user && lstat(proc_path, &st) == 0 && !S_ISREG(st.st_mode) &&
            !S_ISDIR(st.st_mode)))
        die_errno(err, "fsops: setxattr %s on '%s'", op->name, op->path);
      skipped = 1;
    }
  }
  close(dir);
  return skipped;
}

int fsops_main(int argc, char **argv)
{
  bool verbose = argc == 3 && strcmp(argv[2], "--verbose") == 0;
  size_t len, count, skipped = 0, mknods = 0;
  struct fs_op *ops;
  char *input;
  int root;

  if (argc < 2 || argc > 3 || (argc == 3 && !verbose)) {
    fputs("usage: nx-stacker-runner fsops ROOT [--verbose]\n", stderr);
    return EXIT_USAGE;
  }
  root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    die_errno(errno, "fsops: open ROOT %s", argv[1]);
  umask(0);

  input = read_input(&len);
  ops = parse_ops(input, len, &count);
  for (size_t i = 0; i < count; i++)
    check_op(root, &ops[i]);
  for (size_t i = 0; i < count; i++) {
    skipped += (size_t)apply_op(root, &ops[i]);
    mknods += ops[i].kind == OP_MKNOD;
  }

  if (verbose)
    fprintf(stderr, "nx-stacker-runner: fsops: %zu mknod, %zu setxattr, %zu skipped\n", mknods,
            count - mknods - skipped, skipped);
  return 0;
}
