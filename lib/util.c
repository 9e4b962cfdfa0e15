/* util.c: errors, logging, allocation, buffers, secret files, clocks. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"

const char *progname = "oncall-sync";
static enum log_level log_level = LOG_WARN;

#define SECRET_MAX (64 * 1024)

/* cJSON's allocations fail as ours do: "out of memory", exit 1. Without
 * this a parse that ran out of memory would be reported as invalid JSON. */
static void *
cjson_malloc(size_t n)
{
	return emalloc(n);
}

void
log_init(const char *name)
{
	static cJSON_Hooks hooks = { cjson_malloc, free };
	const char *slash, *env;

	/* here, the first thing every program does, before any thread starts */
	cJSON_InitHooks(&hooks);

	if (name && *name) {
		slash = strrchr(name, '/');
		progname = slash && slash[1] ? slash + 1 : name;
	}
	env = getenv("ONCALL_LOG");
	if (!env || !*env)
		return;
	if (!strcasecmp(env, "debug"))
		log_level = LOG_DEBUG;
	else if (!strcasecmp(env, "info"))
		log_level = LOG_INFO;
	else if (!strcasecmp(env, "warn") || !strcasecmp(env, "warning"))
		log_level = LOG_WARN;
	else if (!strcasecmp(env, "error"))
		log_level = LOG_ERROR;
	else
		weprintf("ONCALL_LOG=%s is not debug, info, warn or error; using warn", env);
}

void
log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

int
log_enabled(enum log_level lvl)
{
	return lvl >= log_level;
}

/* The escape of the character that starts s (n bytes left) into e (room
 * for 7 bytes), with its length in *len; 0 when it is kept as it is. */
static size_t
escape_one(const unsigned char *s, size_t n, char e[8], size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = s[0];
	size_t k;

	*len = 1;
	switch (c) {
	case '\\': memcpy(e, "\\\\", 2); return 2;
	case '\n': memcpy(e, "\\n", 2); return 2;
	case '\r': memcpy(e, "\\r", 2); return 2;
	case '\t': memcpy(e, "\\t", 2); return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(e, "\\u00", 4);
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		return 6;
	}
	if (c < 0x80)
		return 0;
	if (!(k = utf8_seq(s, n, NULL))) {
		e[0] = '\\';
		e[1] = 'x';
		e[2] = hex[c >> 4];
		e[3] = hex[c & 15];
		return 4;
	}
	*len = k;
	if (k == 2 && c == 0xc2 && s[1] < 0xa0) {
		/* C1 controls U+0080..U+009F (NEL among them) */
		memcpy(e, "\\u00", 4);
		e[4] = hex[(s[1] & 0x3f) >> 4 | 8];
		e[5] = hex[s[1] & 15];
		return 6;
	}
	if (k == 3 && c == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
		/* the line and paragraph separators */
		memcpy(e, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		return 6;
	}
	return 0;
}

size_t
log_escape(char *dst, size_t dstlen, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, len, elen;
	char e[8];

	if (dstlen == 0)
		return 0;
	while (i < n) {
		elen = escape_one(s + i, n - i, e, &len);
		if (o + (elen ? elen : len) > dstlen - 1)
			break;
		if (elen)
			memcpy(dst + o, e, elen);
		else
			memcpy(dst + o, s + i, len);
		o += elen ? elen : len;
		i += len;
	}
	dst[o] = '\0';
	return o;
}

/* "prog: [prefix]message[: strerror]\n" in one write, so that lines from
 * concurrent processes sharing stderr do not interleave. The message is
 * escaped (log_escape): whatever text from outside it holds, it stays one
 * line. */
static void
vprint(const char *prefix, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[4096], out[4096 * 2];
	size_t flen = strlen(fmt);
	int n, m;

	n = 0;
	m = vsnprintf(msg, sizeof msg, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	if (flen > 0 && fmt[flen - 1] == ':') {
		m = snprintf(msg + n, sizeof msg - n, " %s", strerror(saved));
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof msg)
			n = sizeof msg - 1;
	}
	/* a message cut at the buffer's end is not cut inside a character */
	n = (int)utf8_cut(msg, (size_t)n);
	m = snprintf(out, sizeof out, "%s: %s", progname, prefix);
	if (m < 0 || (size_t)m >= sizeof out / 2)
		m = 0;
	m += (int)log_escape(out + m, sizeof out - (size_t)m - 1, msg, (size_t)n);
	out[m++] = '\n';
	fwrite(out, 1, (size_t)m, stderr);
	errno = saved;
}

void
warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("", fmt, ap);
	va_end(ap);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("", fmt, ap);
	va_end(ap);
	exit(status);
}

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("", fmt, ap);   /* escaped: it may quote an argument */
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", progname);
	exit(EXIT_USAGE);
}

int
parse_long_range(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
vlogmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "debug: ", "info: ", "", "" };

	if (!log_enabled(lvl))
		return;
	vprint(prefix[lvl], fmt, ap);
}

void
logmsg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlogmsg(lvl, fmt, ap);
	va_end(ap);
}

void *
emalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EXIT_FAILED, "out of memory");
	return p;
}

void *
ecalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die(EXIT_FAILED, "out of memory");
	return p;
}

void *
erealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die(EXIT_FAILED, "out of memory");
	return q;
}

char *
estrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die(EXIT_FAILED, "out of memory");
	return p;
}

char *
estrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		die(EXIT_FAILED, "out of memory");
	return p;
}

static char *
evasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		die(EXIT_FAILED, "formatting failed");
	p = emalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
easprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = evasprintf(fmt, ap);
	va_end(ap);
	return p;
}

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > (size_t)-1 - b->len - 1)
		die(EXIT_FAILED, "out of memory");
	need = b->len + extra + 1; /* always room for a NUL terminator */
	if (need <= b->cap)
		return;
	if (b->cap < 64)
		b->cap = 64;
	while (b->cap < need)
		b->cap = b->cap > (size_t)-1 / 2 ? need : b->cap * 2;
	b->data = erealloc(b->data, b->cap);
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		die(EXIT_FAILED, "formatting failed");
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	va_end(ap);
}

void
buf_clear(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
secret_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

void
secret_free(char *s)
{
	if (s) {
		secret_wipe(s, strlen(s));
		free(s);
	}
}

int
fshut_stdout(void)
{
	int ret = 0;

	if (fflush(stdout) == EOF || ferror(stdout)) {
		weprintf("write error on standard output:");
		ret = -1;
	}
	if (fclose(stdout) == EOF && ret == 0) {
		weprintf("write error on standard output:");
		ret = -1;
	}
	return ret;
}

/* What a file that is not regular is, in the words of ls -l's first letter. */
static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

/* The mode as ls -l writes it, e.g. "-rw-r-----". */
static void
mode_string(mode_t m, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = S_ISREG(m) ? '-' : S_ISDIR(m) ? 'd' : S_ISFIFO(m) ? 'p' : S_ISCHR(m) ? 'c' :
	         S_ISBLK(m) ? 'b' : S_ISSOCK(m) ? 's' : S_ISLNK(m) ? 'l' : '?';
	for (int i = 0; i < 9; i++)
		out[1 + i] = m & (0400 >> i) ? rwx[i] : '-';
	out[10] = '\0';
}

/* "read", "read and write", ... what the bits in p (rwx as 4, 2, 1) allow. */
static const char *
perm_words(unsigned p)
{
	static const char *const w[8] = {
		"", "run", "write", "write and run", "read", "read and run", "read and write",
		"read, write and run"
	};
	return w[p & 7];
}

static void
user_name(uid_t uid, char *out, size_t n)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(out, n, "%s", pw->pw_name);
	else
		snprintf(out, n, "uid %lu", (unsigned long)uid);
}

/* POSIX ACLs as Linux stores them (the system.posix_acl_access extended
 * attribute): a little-endian version 2 header, then {tag, perm, id}
 * entries. systemd hands a credential to a service that does not run as
 * root as a root-owned file of mode 0400 with an ACL entry letting the
 * service's user read it; ls -l shows it -r--r-----+, the group bits being
 * the ACL's mask. Such a file is private to that user: the entries, not the
 * mode bits, say who may read it. */
#define ACL_XATTR "system.posix_acl_access"
enum { ACL_T_USER_OBJ = 1, ACL_T_USER = 2, ACL_T_GROUP_OBJ = 4, ACL_T_GROUP = 8,
       ACL_T_MASK = 16, ACL_T_OTHER = 32 };

static unsigned
le16_at(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 1 and who else may use the file in *who (what in *perm) when the ACL lets
 * anyone but the owner and the user running this; 0 when it does not; -1
 * when the file has no ACL (or it cannot be read: the mode bits decide). */
static int
acl_others(const char *path, int fd, char *who, size_t wlen, unsigned *perm)
{
	unsigned char a[1024];
	ssize_t n = fd >= 0 ? fgetxattr(fd, ACL_XATTR, a, sizeof a) : getxattr(path, ACL_XATTR, a, sizeof a);
	unsigned mask = 7, p;
	size_t i;

	if (n < 4 || (n - 4) % 8 != 0 || le32_at(a) != 2)
		return -1;
	for (i = 4; i + 8 <= (size_t)n; i += 8)
		if (le16_at(a + i) == ACL_T_MASK)
			mask = le16_at(a + i + 2) & 7;
	for (i = 4; i + 8 <= (size_t)n; i += 8) {
		unsigned tag = le16_at(a + i);
		uint32_t id = le32_at(a + i + 4);
		p = le16_at(a + i + 2) & 7;
		if (tag == ACL_T_USER && id != geteuid() && (p & mask)) {
			char name[64];
			user_name((uid_t)id, name, sizeof name);
			snprintf(who, wlen, "the user %s (an ACL entry)", name);
		} else if ((tag == ACL_T_GROUP_OBJ || tag == ACL_T_GROUP) && (p & mask)) {
			snprintf(who, wlen, "group members (an ACL entry)");
		} else if (tag == ACL_T_OTHER && p) {
			snprintf(who, wlen, "others");
		} else {
			continue;
		}
		*perm = tag == ACL_T_OTHER ? p : p & mask;
		return 1;
	}
	return 0;
}

/* The one check of a key file, for every program and the wrapper (through
 * the programs' --check-credentials): a regular file, owned by the user
 * running this or root, that neither group nor others may read, write or
 * run. A file with a POSIX ACL (as systemd hands credentials to a service's
 * user) is judged by its entries: it may name the user running this, no
 * one else. st is the file's stat; fd its open descriptor, or -1 (the ACL
 * is then read by path). 0, or -1 with "PATH: what is wrong; what to run"
 * in err, in the words of ls -l ("mode -rw-r----- lets group members read
 * it"). */
static int
secret_file_check(const char *path, int fd, const struct stat *st, char *err, size_t errlen)
{
	char mode[11], owner[64], me[64], who[96];
	unsigned perm = 0;
	int acl;

	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: is %s, not a regular file; a key must be in a file", path,
		         file_kind(st->st_mode));
		return -1;
	}
	/* its owner could replace the key: only the user running this, or root */
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		user_name(st->st_uid, owner, sizeof owner);
		user_name(geteuid(), me, sizeof me);
		snprintf(err, errlen, "%s: owned by %s, not by %s (who runs this)%s: another user "
		         "could replace the key; run: chown %s %s", path, owner, me,
		         geteuid() ? " or root" : "", me, path);
		return -1;
	}
	acl = acl_others(path, fd, who, sizeof who, &perm);
	if (acl > 0) {
		mode_string(st->st_mode, mode);
		snprintf(err, errlen, "%s: mode %s+ lets %s %s it; a key file must be private: "
		         "run: setfacl -b %s && chmod 600 %s", path, mode, who, perm_words(perm),
		         path, path);
		return -1;
	}
	if (acl < 0 && (st->st_mode & 077)) {
		unsigned g = (st->st_mode >> 3) & 7, o = st->st_mode & 7;
		mode_string(st->st_mode, mode);
		snprintf(err, errlen, "%s: mode %s lets %s%s%s %s it; a key file must be private: "
		         "run: chmod 600 %s", path, mode,
		         g ? "group members" : "", g && o ? " and " : "", o ? "others" : "",
		         perm_words(g | o), path);
		return -1;
	}
	return 0;
}

int
read_secret_file(const char *path, char **out, char *err, size_t errlen)
{
	struct stat st, fst;
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;
	int fd;

	*out = NULL;
	/* Checked before it is opened: a FIFO or a device is refused at once,
	 * never opened (a FIFO would block until a writer came). */
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (secret_file_check(path, -1, &st, err, errlen))
		return -1;
	/* O_NONBLOCK: should it have become a FIFO since, open does not wait */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* fstat on the open file: what is checked is what is read. */
	if (fstat(fd, &fst) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (secret_file_check(path, fd, &fst, err, errlen)) {
		close(fd);
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > SECRET_MAX) {
			snprintf(err, errlen, "%s: larger than %d bytes; not a key", path, SECRET_MAX);
			goto fail;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
	                     b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.len--;
	if (b.len == 0) {
		snprintf(err, errlen, "%s: empty", path);
		buf_clear(&b);
		return -1;
	}
	if (memchr(b.data, '\0', b.len)) {
		snprintf(err, errlen, "%s: contains a NUL byte; not a key", path);
		secret_wipe(b.data, b.cap);
		buf_clear(&b);
		return -1;
	}
	b.data[b.len] = '\0';
	*out = b.data;
	return 0;
fail:
	close(fd);
	if (b.data)
		secret_wipe(b.data, b.cap);
	buf_clear(&b);
	return -1;
}

int
read_credential(const char *name, char **out, char *err, size_t errlen)
{
	char fname[128], why[512], *raw = NULL;
	const char *v, *path, *b, *e;
	size_t rawlen;
	int rc = -1;

	*out = NULL;
	snprintf(fname, sizeof fname, "%s_FILE", name);
	v = getenv(name);
	path = getenv(fname);
	if (v && *v && path && *path) {
		snprintf(err, errlen, "both %s and %s are set; set only one", name, fname);
		return -1;
	}
	if (v && *v) {
		raw = estrdup(v);
	} else if (path && *path) {
		if (read_secret_file(path, &raw, why, sizeof why) < 0) {
			/* "NAME_FILE=PATH: what is wrong": where the key came from */
			snprintf(err, errlen, "%s=%s", fname, why);
			return -1;
		}
	} else {
		snprintf(err, errlen, "%s is not set (nor %s): set %s to a file holding it (mode 600), "
		         "or %s", name, fname, fname, name);
		return 1;
	}
	rawlen = strlen(raw);
	for (b = raw; *b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'; b++)
		;
	for (e = raw + rawlen; e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	                                 e[-1] == '\r'); e--)
		;
	if (e == b) {
		snprintf(err, errlen, "%s is empty", name);
		goto out;
	}
	for (const char *p = b; p < e; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			snprintf(err, errlen, "%s contains white space or a control character", name);
			goto out;
		}
	}
	*out = estrndup(b, (size_t)(e - b));
	rc = 0;
out:
	secret_wipe(raw, rawlen);
	free(raw);
	return rc;
}

size_t
utf8_seq(const void *p, size_t n, const char **why)
{
	const unsigned char *s = p;
	unsigned int cp;
	size_t len, k;
	unsigned char c = n ? s[0] : 0;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		goto bad;
	}
	for (k = 1; k < len; k++) {
		if (k >= n) {
			if (why)
				*why = "invalid UTF-8 (truncated sequence)";
			return 0;
		}
		if ((s[k] & 0xc0) != 0x80)
			goto bad;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
		if (why)
			*why = "invalid UTF-8 (overlong encoding)";
		return 0;
	}
	if (cp >= 0xd800 && cp <= 0xdfff) {
		if (why)
			*why = "invalid UTF-8 (surrogate)";
		return 0;
	}
	if (cp > 0x10ffff) {
		if (why)
			*why = "invalid UTF-8 (beyond U+10FFFF)";
		return 0;
	}
	return len;
bad:
	if (why)
		*why = "invalid UTF-8";
	return 0;
}

size_t
utf8_check(const void *p, size_t n, const char **why)
{
	const unsigned char *s = p;
	size_t i = 0, len;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (!(len = utf8_seq(s + i, n - i, why)))
			return i;
		i += len;
	}
	return n;
}

size_t
utf8_sanitize(char *s, size_t n)
{
	size_t i = 0, bad = 0, ok;

	while (i < n) {
		ok = utf8_check(s + i, n - i, NULL);
		i += ok;
		if (i < n) {
			/* one byte at a time: the next may start a valid sequence */
			s[i++] = '?';
			bad++;
		}
	}
	return bad;
}

size_t
utf8_cut(const char *s, size_t n)
{
	size_t i = n, k = 0, len;
	unsigned char c;

	while (i > 0 && k < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		k++;
	}
	if (i == 0)
		return n;
	c = (unsigned char)s[i - 1];
	if (c < 0xc0)
		return n;
	len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	return len > k + 1 ? i - 1 : n;
}

long long
now_ms_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
