/* test_util.c: messages, buffers, secret files, clocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	buf_free(&b);
	ok(b.data == NULL && b.len == 0, "buf_free resets");

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
	ok(strstr(err, path) && strstr(err, "0640") && !strstr(err, "sekrit"),
	   "message names file and mode, not the secret: %s", err);
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
	ok(strstr(err, "TEST_CRED_FILE: ") && strstr(err, "0644"), "credential: names the variable: %s", err);
	unsetenv("TEST_CRED_FILE");
	unlink(path);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "missing file refused");
	ok(strstr(err, "No such file") != NULL, "missing file says why: %s", err);
	is_int(read_secret_file(dir, &s, err, sizeof err), -1, "directory refused");
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
