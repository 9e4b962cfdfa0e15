/* test_util.c: messages, buffers, secret files, clocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static int saved_fd = -1;
static FILE *cap;

static void
capture_start(void)
{
	fflush(stderr);
	cap = tmpfile();
	saved_fd = dup(2);
	dup2(fileno(cap), 2);
}

/* Returns what was written to stderr since capture_start (caller frees). */
static char *
capture_end(void)
{
	struct buf b = { 0 };
	char chunk[512];
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(cap);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof chunk, cap)) > 0)
		buf_append(&b, chunk, n);
	fclose(cap);
	return b.data;
}

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
	unlink(path);
	is_int(read_secret_file(path, &s, err, sizeof err), -1, "missing file refused");
	ok(strstr(err, "No such file") != NULL, "missing file says why: %s", err);
	is_int(read_secret_file(dir, &s, err, sizeof err), -1, "directory refused");
	rmdir(dir);

	{
		long long a = now_ms_monotonic();
		usleep(20000);
		long long d = now_ms_monotonic() - a;
		ok(d >= 19 && d < 1000, "monotonic clock advances (%lld ms)", d);
	}
	return tap_done();
}
