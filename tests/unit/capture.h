/* capture.h: what a unit test's code writes to stderr (file descriptor 2,
 * so stdio and direct writes alike), for tests that check messages. */
#ifndef ONCALL_TEST_CAPTURE_H
#define ONCALL_TEST_CAPTURE_H

#include <stdio.h>
#include <unistd.h>

#include "util.h"

static int capture_saved_fd = -1;
static FILE *capture_file;

__attribute__((unused))
static void
capture_start(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	capture_saved_fd = dup(2);
	dup2(fileno(capture_file), 2);
}

/* Returns what was written to stderr since capture_start (caller frees). */
__attribute__((unused))
static char *
capture_end(void)
{
	struct buf b = { 0 };
	char chunk[512];
	size_t n;

	fflush(stderr);
	dup2(capture_saved_fd, 2);
	close(capture_saved_fd);
	rewind(capture_file);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof chunk, capture_file)) > 0)
		buf_append(&b, chunk, n);
	fclose(capture_file);
	return b.data;
}

#endif
