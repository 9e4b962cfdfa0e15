/* replay: runs a fuzz target's LLVMFuzzerTestOneInput on each file named,
 * without libFuzzer, so make check replays the corpora (crash regressions
 * first) with the project's own build: plain, or with ASan and UBSan under
 * SANITIZE=1. A target that finds a broken property aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	struct buf b = { 0 };
	char chunk[65536];
	size_t n;
	FILE *f;
	int i, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			status = 1;
			continue;
		}
		b.len = 0;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&b, chunk, n);
		if (ferror(f)) {
			perror(argv[i]);
			status = 1;
		}
		fclose(f);
		/* an exactly sized copy, as libFuzzer gives, so ASan sees overreads */
		uint8_t *copy = emalloc(b.len ? b.len : 1);
		if (b.len)
			memcpy(copy, b.data, b.len);
		LLVMFuzzerTestOneInput(copy, b.len);
		free(copy);
	}
	buf_clear(&b);
	return status;
}
