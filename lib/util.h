/* util.h: one error and log helper for every program, and allocation that
 * cannot fail silently.
 *
 * Messages are "prog: message"; a format ending in ':' appends ": strerror(errno)".
 * No trailing newline in formats: the helper adds it. */
#ifndef ONCALL_UTIL_H
#define ONCALL_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Exit statuses shared by every program (DESIGN.md). */
enum {
	EXIT_DONE = 0,
	EXIT_FAILED = 1,   /* API, network, some change failed */
	EXIT_USAGE = 2,    /* usage or configuration */
	EXIT_REFUSED = 3   /* refused for safety */
};

extern const char *progname;

/* Log levels: ONCALL_LOG=debug|info|warn|error (default warn), or log_set_level. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets progname, reads ONCALL_LOG, and makes cJSON's allocations die with
 * "out of memory" as emalloc's do. */
void log_init(const char *name);
void log_set_level(enum log_level lvl);
int log_enabled(enum log_level lvl);

void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define weprintf warnx_
/* print then exit(status) */
void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void logmsg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error, the same in every program: "prog: message", then
 * "Try 'prog --help'.", and exit 2 (EXIT_USAGE). */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* An option's whole number: text is a decimal number (strtol's syntax, all
 * of it) from min to max. 0 and *out; -1, *out untouched, when it is
 * empty, has anything after the digits, overflows a long, or lies out of
 * range. */
int parse_long_range(const char *text, long min, long max, long *out);

/* Log lines carry text from outside (schedule and user names, emails,
 * servers' messages): escaped, one log line can never pass for two, and
 * the escaping is unambiguous. A backslash becomes \\, a newline \n, a
 * carriage return \r, a tab \t, any other control character (C0, DEL and
 * C1) and U+2028/U+2029 \u00XX or \u20XX, a byte that is not UTF-8 \xNN;
 * everything else is kept. Every message printed by weprintf, die, logmsg
 * and ndjson_error is escaped so; log_escape is for text written to stderr
 * any other way. It writes at most dstlen - 1 bytes and a NUL into dst
 * (never cutting an escape or a character) and returns the bytes written. */
size_t log_escape(char *dst, size_t dstlen, const char *s, size_t n);

void *emalloc(size_t n);
void *ecalloc(size_t nmemb, size_t size);
void *erealloc(void *p, size_t n);
char *estrdup(const char *s);
char *estrndup(const char *s, size_t n);
char *easprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer.
 *
 * Names, here and in every program: x_free(p) frees p itself (and what it
 * holds); x_clear(p) frees what p holds and leaves it empty, for a struct
 * the caller owns (on the stack, in an array, inside another). */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(struct buf *b);

/* The one wipe of secrets (keys, derived keys, text holding them) before
 * their memory is freed: explicit_bzero, which the compiler may not drop as
 * a dead store (a plain memset before free may be). secret_free wipes a
 * string up to its NUL and frees it; NULL is fine. */
void secret_wipe(void *p, size_t n);
void secret_free(char *s);

/* fflush+ferror+fclose of stdout; returns 0 or prints an error and returns -1. */
int fshut_stdout(void);

/* Read a whole secret file, trailing whitespace trimmed. Refuses (returns -1
 * with a message in err that starts with the path) a file that
 * secret_file_check refuses; a FIFO or a device is refused before it is
 * opened, and never waited on. */
int read_secret_file(const char *path, char **out, char *err, size_t errlen);

/* A credential from the environment: the variable NAME, or the file that
 * NAME_FILE names (read with read_secret_file). Surrounding white space is
 * trimmed; white space or a control character inside is refused. Returns 0
 * and *out (the caller wipes and frees it); 1 when neither is set; -1 when
 * both are set, the file is refused, or the value is empty or malformed.
 * On 1 and -1, err holds a message naming the variable or file, never the
 * value. */
int read_credential(const char *name, char **out, char *err, size_t errlen);

/* UTF-8 as RFC 3629 has it: no overlong forms, no surrogates, nothing above
 * U+10FFFF. utf8_check returns the length of the longest valid prefix of
 * p[0..n) (n when all of it is valid; NUL bytes count as valid here) and,
 * when it is shorter, sets *why (if not NULL) to what is wrong there. */
size_t utf8_check(const void *p, size_t n, const char **why);
/* The length (2 to 4) of the valid multi-byte UTF-8 sequence that starts p
 * (n bytes available), or 0 when it is not one, with the reason in *why
 * (why may be NULL). */
size_t utf8_seq(const void *p, size_t n, const char **why);
/* Replace every byte that is not part of a valid UTF-8 sequence with '?',
 * in place; returns how many were replaced. */
size_t utf8_sanitize(char *s, size_t n);
/* n less an incomplete sequence at the end of s[0..n): where to cut text
 * that was cut short so that no character is split. */
size_t utf8_cut(const char *s, size_t n);

/* Monotonic milliseconds. */
long long now_ms_monotonic(void);

#endif
