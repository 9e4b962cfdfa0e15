/* match-users: add StrongDM accounts to a roster stream.
 *
 * Pass 1 reads and checks the whole input, spooling each line to a
 * temporary file and noting each distinct person to look up; StrongDM is
 * then read once, for those people only; pass 2 re-reads the spool and
 * writes the annotated records. Memory grows with the people on call, not
 * with the length of the stream, and a cut or bad input is refused before
 * StrongDM is asked anything. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "match.h"
#include "ndjson.h"
#include "roster.h"
#include "sdm.h"
#include "util.h"

#define STAGE "match-users"
#define IO_BUFFER (256 * 1024)

/* Spool records: a kind byte, a uint32 length, the input line (without
 * its newline); a fast roster adds a uint32 count, that many int32 key
 * indexes, a uint32 length and the schedule's label. */
#define SPOOL_PASS 'P'      /* not a roster: passed on byte for byte */
#define SPOOL_ROSTER 'R'    /* a roster for the cJSON path */
#define SPOOL_FAST 'F'      /* a roster for the splicing path */

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: match-users [-b email|alias] [-i SET] [--accounts FILE] [--lookup-max N]\n"
	        "                   < roster.ndjson > matched.ndjson\n"
	        "       match-users -h | -V\n"
	        "\n"
	        "  -b, --by email|alias      match by email (default) or by identity alias\n"
	        "  -i, --identity-set SET    identity set name or id (ig-...), for --by alias\n"
	        "      --accounts FILE       read StrongDM accounts from an NDJSON file\n"
	        "      --lookup-max N        look up at most N people one by one; more: list\n"
	        "                            all users (default %d)\n"
	        "  -h, --help                this help\n"
	        "  -V, --version             print the version\n",
	        ACCOUNTS_LOOKUP_MAX);
}

struct opts {
	enum match_by by;
	const char *identity_set;
	const char *accounts_file;
	long lookup_max;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "identity-set", required_argument, NULL, 'i' },
		{ "accounts", required_argument, NULL, 'A' },
		{ "lookup-max", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;
	char *end;

	o->by = MATCH_BY_EMAIL;
	o->lookup_max = ACCOUNTS_LOOKUP_MAX;
	while ((c = getopt_long(argc, argv, "b:i:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "email") == 0) {
				o->by = MATCH_BY_EMAIL;
			} else if (strcmp(optarg, "alias") == 0 || strcmp(optarg, "identity-alias") == 0) {
				o->by = MATCH_BY_ALIAS;
			} else {
				weprintf("--by %s: expected email or alias", optarg);
				return -1;
			}
			break;
		case 'i':
			if (!*optarg) {
				weprintf("--identity-set: empty name");
				return -1;
			}
			o->identity_set = optarg;
			break;
		case 'A':
			o->accounts_file = optarg;
			break;
		case 'M':
			o->lookup_max = strtol(optarg, &end, 10);
			if (end == optarg || *end || o->lookup_max < 0 || o->lookup_max > 1000000) {
				weprintf("--lookup-max %s: expected a whole number from 0 to 1000000", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(fshut_stdout() ? EXIT_FAILED : EXIT_DONE);
		case 'V':
			printf("match-users %s\n", ONCALL_VERSION);
			exit(fshut_stdout() ? EXIT_FAILED : EXIT_DONE);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		weprintf("unexpected argument: %s", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (o->by == MATCH_BY_ALIAS && !o->identity_set) {
		weprintf("--by alias needs --identity-set NAME|ID");
		return -1;
	}
	if (o->by == MATCH_BY_EMAIL && o->identity_set) {
		weprintf("--identity-set is for --by alias");
		return -1;
	}
	return 0;
}

static int
spool_put(FILE *spool, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, spool) != n) {
		weprintf("temporary file:");
		return -1;
	}
	return 0;
}

static int
spool_put_len(FILE *spool, size_t n)
{
	uint32_t u = (uint32_t)n;

	return spool_put(spool, &u, sizeof u);
}

/* Pass 1: read, check and spool stdin, noting who to look up. */
static int
read_input(FILE *spool, struct match_index *idx)
{
	struct ndjson_reader r;
	struct buf scratch = { 0 }, keys = { 0 };
	enum ndjson_status st;
	cJSON *rec;
	int rc = 0;

	ndjson_reader_init(&r, stdin, "<stdin>");
	while ((st = ndjson_read(&r, &rec)) == NDJSON_RECORD) {
		char kind = SPOOL_PASS;
		const char *label = NULL;
		size_t len;
		if (strcmp(json_str(rec, "type"), "roster") == 0) {
			if (roster_check(&r, rec)) {
				cJSON_Delete(rec);
				rc = -1;
				break;
			}
			keys.len = 0;
			kind = roster_need(idx, rec, &scratch, &keys) ? SPOOL_FAST : SPOOL_ROSTER;
			label = roster_schedule_label(rec);
		}
		/* The reader leaves the line, without its newline, in r.line. */
		len = strlen(r.line);
		rc = spool_put(spool, &kind, 1) || spool_put_len(spool, len) ||
		     spool_put(spool, r.line, len);
		if (!rc && kind == SPOOL_FAST)
			rc = spool_put_len(spool, keys.len / sizeof(int32_t)) ||
			     spool_put(spool, keys.data, keys.len) ||
			     spool_put_len(spool, strlen(label)) ||
			     spool_put(spool, label, strlen(label));
		cJSON_Delete(rec);
		if (rc)
			break;
	}
	if (st == NDJSON_ERR)
		rc = -1;
	ndjson_reader_free(&r);
	buf_free(&scratch);
	buf_free(&keys);
	return rc;
}

static void
warn_unmatched(void *user, const char *warning)
{
	(void)user;
	weprintf("%s", warning);
}

/* Reads n bytes of the spool into b (NUL-terminated). */
static void
spool_get(FILE *spool, struct buf *b, size_t n)
{
	if (b->cap < n + 1) {
		b->cap = n + 1 > 2 * b->cap ? n + 1 : 2 * b->cap;
		b->data = erealloc(b->data, b->cap);
	}
	if (n && fread(b->data, 1, n, spool) != n)
		die(EXIT_FAILED, "temporary file: short read");
	b->data[n] = '\0';
	b->len = n;
}

static size_t
spool_get_len(FILE *spool)
{
	uint32_t u;

	if (fread(&u, sizeof u, 1, spool) != 1)
		die(EXIT_FAILED, "temporary file: short read");
	return u;
}

/* The cJSON path: parse, annotate, print. Returns 1 if the roster became
 * an error record. */
static int
write_roster_slow(const struct match_index *idx, const char *line, struct ndjson_writer *w,
                  struct buf *scratch)
{
	cJSON *rec, *err;
	const char *msg;
	int failed = 0;

	if (!(rec = cJSON_Parse(line)))
		die(EXIT_FAILED, "temporary file: cannot parse a spooled record");
	msg = roster_annotate(idx, rec, scratch, warn_unmatched, NULL);
	if (msg) {
		/* A failure of every call was said once already. */
		if (!match_failed_all(idx))
			weprintf("%s: StrongDM: %s", roster_schedule_label(rec), msg);
		err = roster_error(rec, msg);
		ndjson_write(w, err);
		cJSON_Delete(err);
		failed = 1;
	} else {
		ndjson_write(w, rec);
	}
	cJSON_Delete(rec);
	return failed;
}

/* Pass 2: annotate and write. Returns 1 if a roster became an error. */
static int
write_output(FILE *spool, const struct match_index *idx, struct ndjson_writer *w)
{
	struct buf line = { 0 }, keys = { 0 }, label = { 0 }, scratch = { 0 };
	struct roster_verdicts v;
	int failed = 0, kind;

	roster_verdicts_init(&v, idx);
	rewind(spool);
	while (!w->failed && (kind = getc(spool)) != EOF) {
		spool_get(spool, &line, spool_get_len(spool));
		if (kind == SPOOL_PASS) {
			if (fwrite(line.data, 1, line.len, w->fp) != line.len ||
			    putc('\n', w->fp) == EOF) {
				weprintf("write error:");
				w->failed = 1;
			}
			w->records++;
			continue;
		}
		if (kind == SPOOL_FAST) {
			size_t n = spool_get_len(spool);
			int rc;
			spool_get(spool, &keys, n * sizeof(int32_t));
			spool_get(spool, &label, spool_get_len(spool));
			rc = roster_write_fast(w->fp, line.data, line.len, (const int32_t *)keys.data, n,
			                       label.data, &v, warn_unmatched, NULL);
			if (rc < 0) {
				weprintf("write error:");
				w->failed = 1;
			}
			if (rc <= 0) {
				w->records++;
				continue;
			}
		}
		failed |= write_roster_slow(idx, line.data, w, &scratch);
	}
	if (ferror(spool))
		die(EXIT_FAILED, "temporary file: read error");
	roster_verdicts_free(&v);
	buf_free(&line);
	buf_free(&keys);
	buf_free(&label);
	buf_free(&scratch);
	return failed;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct accounts_opts ao;
	struct accounts_report rep = { 0 };
	struct sdm_config cfg = { 0 };
	struct sdm_client *client = NULL;
	struct match_index *idx = NULL;
	struct ndjson_writer w;
	FILE *accounts = NULL, *spool = NULL;
	char err[512];
	int status = EXIT_DONE, rc;

	log_init(argv[0]);
	if (parse_opts(argc, argv, &o))
		return EXIT_USAGE;

	/* Set up: everything that can fail for configuration, before input. */
	if (o.accounts_file) {
		if (strcmp(o.accounts_file, "-") == 0)
			die(EXIT_USAGE, "--accounts: stdin carries the roster; name a file");
		if (!(accounts = fopen(o.accounts_file, "r")))
			die(EXIT_USAGE, "%s:", o.accounts_file);
	} else {
		if (sdm_config_from_env(&cfg, err, sizeof err)) {
			weprintf("%s", err);
			sdm_config_free(&cfg);
			return EXIT_USAGE;
		}
		if (!(client = sdm_client_new(&cfg, err, sizeof err))) {
			weprintf("%s", err);
			sdm_config_free(&cfg);
			return EXIT_USAGE;
		}
	}
	if (!(spool = tmpfile()))
		die(EXIT_FAILED, "temporary file:");
	/* Large buffers: a big stream goes through these three twice. */
	setvbuf(stdin, NULL, _IOFBF, IO_BUFFER);
	setvbuf(stdout, NULL, _IOFBF, IO_BUFFER);
	setvbuf(spool, NULL, _IOFBF, IO_BUFFER);
	idx = match_index_new(o.by);

	if (read_input(spool, idx)) {
		status = EXIT_FAILED;
		goto out;
	}

	ao = (struct accounts_opts){ o.identity_set, o.lookup_max };
	if (accounts)
		rc = accounts_read_file(idx, accounts, o.accounts_file, &ao);
	else
		rc = accounts_read_sdm(idx, client, &ao, &rep);
	if (rc) {
		status = rc;
		goto out;
	}
	if (client) {
		struct sdm_stats st;
		sdm_client_stats(client, &st);
		logmsg(LOG_INFO, "%zu people to look up; StrongDM read with %s: %ld calls, "
		       "%ld attempts, %ld rate-limited", match_key_count(idx),
		       rep.listed ? "a listing" : "filtered look-ups", st.calls, st.attempts,
		       st.rate_limited);
	}
	if (match_failed_all(idx))
		weprintf("StrongDM: %s; every roster becomes an error record", match_failed_all(idx));

	ndjson_writer_init(&w, stdout);
	if (write_output(spool, idx, &w))
		status = EXIT_FAILED;
	if (w.failed || ndjson_write_end(&w, STAGE))
		status = EXIT_FAILED;
out:
	if (fshut_stdout())
		status = EXIT_FAILED;
	if (spool)
		fclose(spool);
	if (accounts)
		fclose(accounts);
	match_index_free(idx);
	if (client)
		sdm_client_free(client);
	sdm_config_free(&cfg);
	return status;
}
