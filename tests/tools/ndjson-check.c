/* ndjson-check: read an NDJSON stream with lib/record as every stage does;
 * exit 0 when it is complete (a valid end record last), 3 when it is cut
 * short or malformed (the reader has printed why). Prints the number of
 * records read. A test driver: usage: ndjson-check [FILE] */
#include <stdio.h>

#include "record.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct record_reader r;
	enum record_status st;
	FILE *fp = stdin;
	cJSON *rec;
	long n = 0;

	log_init("ndjson-check");
	if (argc > 2)
		die(EXIT_USAGE, "usage: ndjson-check [FILE]");
	if (argc == 2 && !(fp = fopen(argv[1], "r")))
		die(EXIT_USAGE, "%s:", argv[1]);
	record_reader_init(&r, fp, argc == 2 ? argv[1] : "<stdin>", 0);
	while ((st = record_read(&r, &rec, NULL)) == RECORD_READ) {
		cJSON_Delete(rec);
		n++;
	}
	record_reader_clear(&r);
	if (fp != stdin)
		fclose(fp);
	if (st != RECORD_END)
		return EXIT_REFUSED;
	printf("%ld\n", n);
	return fshut_stdout() ? EXIT_FAILED : EXIT_DONE;
}
