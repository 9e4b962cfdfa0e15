/* test_util.c: messages, buffers, secret files, clocks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tap.h"
#include "capture.h"
#include "util.h"

static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t w = write(fd, content, strlen(content));
	(void)w;
	fchmod(fd, mode);
	close(fd);
}

/* Sets a POSIX ACL as Linux stores it: version 2, then {tag, perm, id}
 * entries, little-endian (tags: 1 owner, 2 user, 4 group, 16 mask, 32
 * other). 0, or -1 when the file system has no ACLs. */
static int
set_acl(const char *path, const unsigned (*e)[3], size_t n)
{
	unsigned char a[4 + 8 * 8] = { 2, 0, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		unsigned char *p = a + 4 + 8 * i;
		p[0] = (unsigned char)e[i][0];
		p[1] = 0;
		p[2] = (unsigned char)e[i][1];
		p[3] = 0;
		for (int k = 0; k < 4; k++)
			p[4 + k] = (unsigned char)(e[i][2] >> (8 * k));
	}
	return setxattr(path, "system.posix_acl_access", a, 4 + 8 * n, 0);
}

/* A key file with an ACL: systemd's credential for a service's user is
 * root's, mode 0400, with an entry letting that user read it. */
static void
acl_key_files(const char *path)
{
	static const unsigned me_only[][3] = {
		{ 1, 4, 0xffffffffu }, { 2, 4, 0 }, { 4, 0, 0xffffffffu }, { 16, 4, 0xffffffffu },
		{ 32, 0, 0xffffffffu }
	};
	static const unsigned nobody_too[][3] = {
		{ 1, 4, 0xffffffffu }, { 2, 4, 65534 }, { 4, 0, 0xffffffffu }, { 16, 4, 0xffffffffu },
		{ 32, 0, 0xffffffffu }
	};
	static const unsigned masked[][3] = {
		{ 1, 4, 0xffffffffu }, { 2, 4, 65534 }, { 4, 4, 0xffffffffu }, { 16, 0, 0xffffffffu },
		{ 32, 0, 0xffffffffu }
	};
	char err[512], *s = NULL;
	unsigned mine[5][3];

	memcpy(mine, me_only, sizeof mine);
	mine[1][2] = (unsigned)geteuid();
	write_file(path, "acl-key\n", 0400);
	if (set_acl(path, (const unsigned (*)[3])mine, 5) != 0) {
		for (int i = 0; i < 5; i++)
			ok(1, "# SKIP no POSIX ACLs on this file system");
		return;
	}
	err[0] = '\0';
	is_int(read_secret_file(path, &s, err, sizeof err), 0,
	       "an ACL naming only the user running this: read, though the mode shows the mask %s", err);
	free(s);
	s = NULL;
	set_acl(path, nobody_too, 5);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "an ACL naming another user: refused");
	ok(strstr(err, "lets the user ") && strstr(err, "(an ACL entry) read it") &&
	   strstr(err, "setfacl -b"), "another user in the ACL: says who and the fix: %s", err);
	set_acl(path, masked, 5);
	err[0] = '\0';
	is_int(read_secret_file(path, &s, err, sizeof err), 0,
	       "entries the mask takes every right from give none: read %s", err);
	free(s);
	s = NULL;
	chmod(path, 0600);
	removexattr(path, "system.posix_acl_access");
	is_int(read_secret_file(path, &s, err, sizeof err), 0, "no ACL left: read");
	free(s);
}

int
main(void)
{
	char *s, *msg;
	char err[512], dir[] = "/tmp/test_util.XXXXXX", path[600];
	struct buf b = { 0 };

	unsetenv("ONCALL_LOG");
	log_init("/usr/lib/oncall-sync/fetch-oncall");
	is_str(progname, "fetch-oncall", "log_init takes the base name");

	capture_start();
	errno = ENOENT;
	weprintf("cannot open %s:", "x.json");
	weprintf("plain %d", 42);
	msg = capture_end();
	is_str(msg, "fetch-oncall: cannot open x.json: No such file or directory\n"
	            "fetch-oncall: plain 42\n", "trailing ':' appends strerror");
	free(msg);

	/* Text from outside cannot forge a log line, and the escape is unambiguous. */
	capture_start();
	weprintf("schedule %s: %s", "Ops\nfetch-oncall: all good", "a\x1b[31mred\\n\ttab\r");
	weprintf("%s", "nel\xc2\x85 ls\xe2\x80\xa8 bad\xff caf\xc3\xa9 \x7f");
	msg = capture_end();
	is_str(msg, "fetch-oncall: schedule Ops\\nfetch-oncall: all good: a\\u001b[31mred\\\\n\\ttab\\r\n"
	            "fetch-oncall: nel\\u0085 ls\\u2028 bad\\xff caf\xc3\xa9 \\u007f\n",
	       "weprintf escapes control characters, a backslash, C1, U+2028 and bad bytes");
	free(msg);
	{
		char small[8];
		is_int(log_escape(small, sizeof small, "ab\ncd", 5), 6, "log_escape: fits");
		is_str(small, "ab\\ncd", "log_escape: the newline escaped");
		is_int(log_escape(small, sizeof small, "abcdef\n", 7), 6, "log_escape: cut before an escape");
		is_str(small, "abcdef", "log_escape: never half an escape");
	}

	ok(!log_enabled(LOG_INFO) && log_enabled(LOG_WARN), "default level is warn");
	capture_start();
	logmsg(LOG_INFO, "hidden");
	logmsg(LOG_WARN, "shown");
	logmsg(LOG_ERROR, "error %s", "too");
	msg = capture_end();
	is_str(msg, "fetch-oncall: shown\nfetch-oncall: error too\n", "info hidden at warn");
	free(msg);

	setenv("ONCALL_LOG", "debug", 1);
	log_init("fetch-oncall");
	ok(log_enabled(LOG_DEBUG), "ONCALL_LOG=debug enables debug");
	capture_start();
	logmsg(LOG_DEBUG, "page %d", 2);
	logmsg(LOG_INFO, "fetched");
	msg = capture_end();
	is_str(msg, "fetch-oncall: debug: page 2\nfetch-oncall: info: fetched\n", "debug and info lines");
	free(msg);
	setenv("ONCALL_LOG", "error", 1);
	log_init("fetch-oncall");
	ok(!log_enabled(LOG_WARN) && log_enabled(LOG_ERROR), "ONCALL_LOG=error");
	setenv("ONCALL_LOG", "loud", 1);
	capture_start();
	log_init("fetch-oncall");
	msg = capture_end();
	ok(strstr(msg, "ONCALL_LOG=loud") != NULL, "unknown ONCALL_LOG is reported");
	free(msg);
	unsetenv("ONCALL_LOG");
	log_set_level(LOG_WARN);

	s = easprintf("%s-%d", "a", 7);
	is_str(s, "a-7", "easprintf");
	free(s);
	s = estrndup("abcdef", 3);
	is_str(s, "abc", "estrndup");
	free(s);

	buf_puts(&b, "hello");
	buf_append(&b, ", ", 2);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d", i % 10);
	is_int(b.len, 1007, "buf grows");
	ok(b.data[b.len] == '\0' && strncmp(b.data, "hello, 0123", 11) == 0, "buf content and NUL");
	buf_clear(&b);
	ok(b.data == NULL && b.len == 0, "buf_clear resets");
	{
		char key[] = "sk-secret";
		secret_wipe(key, sizeof key - 1);
		ok(memcmp(key, "\0\0\0\0\0\0\0\0\0", sizeof key) == 0, "secret_wipe zeroes every byte");
	}
	{
		long v = 7;
		ok(parse_long_range("42", 0, 100, &v) == 0 && v == 42, "parse_long_range: 42 in 0..100");
		ok(parse_long_range("0", 0, 100, &v) == 0 && v == 0, "parse_long_range: the bounds are in");
		v = 7;
		ok(parse_long_range("101", 0, 100, &v) == -1 && v == 7, "parse_long_range: above max refused, nothing stored");
		ok(parse_long_range("-1", 0, 100, &v) == -1, "parse_long_range: below min refused");
		ok(parse_long_range("", 0, 100, &v) == -1, "parse_long_range: empty refused");
		ok(parse_long_range("4x", 0, 100, &v) == -1, "parse_long_range: trailing text refused");
		ok(parse_long_range("99999999999999999999", 0, LONG_MAX, &v) == -1 && v == 7,
		   "parse_long_range: a number a long cannot hold is refused, not clamped");
	}
	secret_free(NULL);
	secret_free(estrdup("sk-secret"));
	ok(1, "secret_free takes NULL and a string");

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/key", dir);
	write_file(path, "sekrit-value \n\n", 0600);
	s = NULL;
	is_int(read_secret_file(path, &s, err, sizeof err), 0, "0600 secret file read");
	is_str(s, "sekrit-value", "trailing white space trimmed");
	free(s);

	write_file(path, "sekrit-value\n", 0640);
	s = NULL;
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "0640 secret file refused");
	ok(s == NULL, "nothing returned");
	ok(strstr(err, path) && strstr(err, "mode -rw-r----- lets group members read it") &&
	   strstr(err, "chmod 600") && !strstr(err, "sekrit"),
	   "message names file and mode as ls -l writes it, not the secret: %s", err);
	write_file(path, "sekrit-value\n", 0604);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "0604 refused");
	write_file(path, "sekrit-value\n", 0601);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "0601 refused");
	write_file(path, "\n  \n", 0600);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "empty secret refused");
	/* read_credential: NAME or NAME_FILE, one shared rule for every program */
	unsetenv("TEST_CRED");
	unsetenv("TEST_CRED_FILE");
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), 1, "credential: neither set");
	ok(strstr(err, "TEST_CRED is not set") != NULL, "credential: says which: %s", err);
	setenv("TEST_CRED", "  tok-123\n", 1);
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), 0, "credential: from the variable");
	is_str(s, "tok-123", "credential: trimmed");
	free(s);
	setenv("TEST_CRED", "tok 123", 1);
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), -1, "credential: inner space refused");
	ok(!strstr(err, "tok"), "credential: the message does not echo it: %s", err);
	setenv("TEST_CRED", " \t", 1);
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), -1, "credential: blank refused");
	write_file(path, "file-tok\n", 0600);
	setenv("TEST_CRED_FILE", path, 1);
	setenv("TEST_CRED", "x", 1);
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), -1, "credential: both set refused");
	unsetenv("TEST_CRED");
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), 0, "credential: from the file");
	is_str(s, "file-tok", "credential: file content trimmed");
	free(s);
	chmod(path, 0644);
	is_int(read_credential("TEST_CRED", &s, err, sizeof err), -1, "credential: open file refused");
	ok(strncmp(err, "TEST_CRED_FILE=", 15) == 0 && strstr(err, path) &&
	   strstr(err, "mode -rw-r--r-- lets group members and others read it"),
	   "credential: names the variable and the file: %s", err);
	unsetenv("TEST_CRED_FILE");
	unlink(path);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "missing file refused");
	ok(strstr(err, "No such file") != NULL, "missing file says why: %s", err);
	is_int(read_secret_file(dir, &s, err, sizeof err), -1, "directory refused");
	ok(strstr(err, "is a directory") != NULL, "directory: says so: %s", err);
	/* a FIFO is refused at once: never opened (it would wait for a writer) */
	if (mkfifo(path, 0600) == 0) {
		is_int(read_secret_file(path, &s, err, sizeof err), -1, "a FIFO is refused");
		ok(strstr(err, "is a FIFO (named pipe), not a regular file") != NULL, "FIFO: says so: %s", err);
		unlink(path);
	} else {
		ok(0, "mkfifo %s:", path);
		ok(0, "mkfifo");
	}
	is_int(read_secret_file("/dev/null", &s, err, sizeof err), -1, "a device is refused");
	ok(strstr(err, "/dev/null: is a character device") != NULL, "device: says so: %s", err);
	acl_key_files(path);
	unlink(path);
	/* owned by another user (only root can make such a file here) */
	write_file(path, "sekrit-value\n", 0600);
	if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
		is_int(read_secret_file(path, &s, err, sizeof err), -1, "a file of another user is refused");
		ok(strstr(err, "owned by ") && strstr(err, "not by root (who runs this)") &&
		   strstr(err, "chown root "), "another owner: says who and the fix: %s", err);
	} else {
		ok(1, "# SKIP not root: cannot give a file to another user");
		ok(1, "# SKIP not root");
	}
	unlink(path);
	rmdir(dir);

	{
		const char *why = NULL;
		char t1[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
		char t2[] = "ok\xc3";                 /* cut inside a character */
		char t3[] = "x\xc0\xafy\xed\xa0\x80z"; /* overlong, surrogate */
		char t4[] = "\xf4\x90\x80\x80!";       /* above U+10FFFF */

		is_int(utf8_check(t1, strlen(t1), &why), strlen(t1), "utf8_check: 1- to 4-byte characters");
		is_int(utf8_check(t2, strlen(t2), &why), 2, "utf8_check: a cut character ends the valid prefix");
		ok(why && strstr(why, "truncated"), "utf8_check says why: %s", why ? why : "");
		is_int(utf8_check(t3, strlen(t3), &why), 1, "utf8_check: overlong form refused");
		is_int(utf8_check(t3 + 4, strlen(t3 + 4), &why), 0, "utf8_check: surrogate refused");
		ok(why && strstr(why, "surrogate"), "utf8_check: %s", why ? why : "");
		is_int(utf8_check(t4, strlen(t4), &why), 0, "utf8_check: beyond U+10FFFF refused");
		is_int(utf8_check("a\0b", 3, NULL), 3, "utf8_check: NUL is valid UTF-8");
		is_int(utf8_sanitize(t1, strlen(t1)), 0, "utf8_sanitize: valid text untouched");
		is_int(utf8_sanitize(t2, strlen(t2)), 1, "utf8_sanitize: one byte replaced");
		is_str(t2, "ok?", "utf8_sanitize: cut character");
		is_int(utf8_sanitize(t3, strlen(t3)), 5, "utf8_sanitize: each bad byte replaced");
		is_str(t3, "x??y???z", "utf8_sanitize: keeps the good bytes around");
		is_int(utf8_cut("ab\xc3\xa9", 3), 2, "utf8_cut: a split 2-byte character goes");
		is_int(utf8_cut("ab\xc3\xa9", 4), 4, "utf8_cut: a whole one stays");
		is_int(utf8_cut("a\xf0\x9f\x98", 4), 1, "utf8_cut: 3 of 4 bytes go");
		is_int(utf8_cut("abc", 3), 3, "utf8_cut: ASCII untouched");
		is_int(utf8_cut("\x80\x80", 2), 2, "utf8_cut: stray continuation bytes left to utf8_sanitize");
	}
	{
		long long a = now_ms_monotonic();
		usleep(20000);
		long long d = now_ms_monotonic() - a;
		ok(d >= 19, "monotonic clock advances (%lld ms)", d);
	}
	return tap_done();
}
