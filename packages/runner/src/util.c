/*
 * Error lines, debug lines and hex coding shared by every mode.
 *
 * Contract: an error line is always a single line, whatever bytes the paths in it contain,
 * because the engine finds it by its prefix and shows it to the user as the failure message.
 * Control characters are therefore written as \xHH.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define PREFIX "nx-stacker-runner: "

/* Writes `prefix` + the formatted message + `suffix` as one sanitised line on stderr. */
static void emit_line(const char *prefix, const char *suffix, const char *fmt, va_list ap)
{
  char msg[4096];
  char line[sizeof(msg) * 4 + 64];
  size_t n = 0;

  vsnprintf(msg, sizeof(msg), fmt, ap);
  n += (size_t)snprintf(line, sizeof(line), "%s", prefix);
  for (const unsigned char *p = (const unsigned char *)msg; *p && n + 8 < sizeof(line); p++) {
    if (*p < 0x20 || *p == 0x7f)
      n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", *p);
    else
      line[n++] = (char)*p;
  }
  line[n] = '\0';
  fflush(stdout);
  fprintf(stderr, "%s%s\n", line, suffix ? suffix : "");
  fflush(stderr);
}

noreturn void die_errno(int err, const char *fmt, ...)
{
  char suffix[256];
  va_list ap;

  snprintf(suffix, sizeof(suffix), ": %s", strerror(err));
  va_start(ap, fmt);
  emit_line(PREFIX "error: ", suffix, fmt, ap);
  va_end(ap);
  exit(EXIT_RUNNER_FAILURE);
}

noreturn void die_detail(const char *detail, const char *fmt, ...)
{
  char suffix[1024];
  va_list ap;
  size_t n;

  /* The detail may come from a log file; keep only its first line. */
  snprintf(suffix, sizeof(suffix), ": %s", detail);
  n = strcspn(suffix, "\r\n");
  suffix[n] = '\0';
  va_start(ap, fmt);
  emit_line(PREFIX "error: ", suffix, fmt, ap);
  va_end(ap);
  exit(EXIT_RUNNER_FAILURE);
}

void warning_line(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  emit_line(PREFIX "warning: ", NULL, fmt, ap);
  va_end(ap);
}

void debug_line(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  emit_line(PREFIX "debug: ", NULL, fmt, ap);
  va_end(ap);
}

void hex_write(FILE *out, const unsigned char *data, size_t len)
{
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < len; i++) {
    putc_unlocked(digits[data[i] >> 4], out);
    putc_unlocked(digits[data[i] & 0xf], out);
  }
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

long hex_decode_inplace(char *text)
{
  size_t len = strlen(text);

  if (len % 2 != 0)
    return -1;
  for (size_t i = 0; i < len; i += 2) {
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    text[i / 2] = (char)(hi << 4 | lo);
  }
  return (long)(len / 2);
}
