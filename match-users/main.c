/* match-users: add StrongDM accounts to a roster stream.
 *
 * Pass 1 reads and checks the whole input (record_read), keeping each
 * record's line in a temporary file and noting each distinct person to
 * look up; StrongDM is then read once, for those people only; pass 2 reads
 * the lines back and writes the records, each roster parsed again and
 * annotated. Memory grows with the people on call, not with the length of
 * the stream, and a cut or bad input is refused before StrongDM is asked
 * anything. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "match.h"
#include "record.h"
#include "roster.h"
#include "sdm.h"
#include "util.h"

#define STAGE "match-users"
#define IO_BUFFER (256 * 1024)

/* The temporary file holds each record's line, first a byte that says
 * whether pass 2 annotates it (a roster) or passes it on as it is. */
#define SPOOL_ROSTER 'R'
#define SPOOL_PASS 'P'
#define WARN_BATCH 4096     /* PIPE_BUF: one write of whole lines is atomic */

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: match-users [-b email|alias] [-i SET] [--accounts FILE] [--lookup-max N]\n"
	        "                   < roster.ndjson > matched.ndjson\n"
	        "       match-users --check-credentials\n"
	        "       match-users -h | -V\n"
	        "\n"
	        "  -b, --by email|alias      match by email (default) or by identity alias\n"
	        "  -i, --identity-set SET    identity set name or id (ig-...), for --by alias\n"
	        "      --accounts FILE       read StrongDM accounts from an NDJSON file\n"
	        "      --lookup-max N        look up at most N people one by one; more: list\n"
	        "                            all users (default %d)\n"
	        "      --check-credentials   check the StrongDM key pair (variables or files)\n"
	        "                            and exit\n"
	        "  -h, --help                this help\n"
	        "  -V, --version             print the version\n"
	        "\n"
	        "Environment: SDM_API_ACCESS_KEY, SDM_API_SECRET_KEY (or ..._FILE), SDM_API_HOST,\n"
	        "SDM_API_TIMEOUT, ONCALL_LOG. Exit: 0 done (unmatched people included), 1 failed,\n"
	        "2 usage or credentials, 3 refused.\n",
	        ACCOUNTS_LOOKUP_MAX);
}

struct opts {
	enum match_by by;
	const char *identity_set;
	const char *accounts_file;
	long lookup_max;
	int check_credentials;
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "identity-set", required_argument, NULL, 'i' },
		{ "accounts", required_argument, NULL, 'A' },
		{ "lookup-max", required_argument, NULL, 'M' },
		{ "check-credentials", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

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
				usage_error("--by %s: expected email or alias", optarg);
			}
			break;
		case 'i':
			if (!*optarg)
				usage_error("--identity-set: empty name");
			o->identity_set = optarg;
			break;
		case 'A':
			o->accounts_file = optarg;
			break;
		case 'M':
			if (parse_long_range(optarg, 0, 1000000, &o->lookup_max))
				usage_error("--lookup-max %s: expected a whole number from 0 to 1000000",
				            optarg);
			break;
		case 'C':
			o->check_credentials = 1;
			break;
		case 'h':
			usage(stdout);
			exit(fshut_stdout() ? EXIT_FAILED : EXIT_DONE);
		case 'V':
			printf("match-users %s\n", ONCALL_VERSION);
			exit(fshut_stdout() ? EXIT_FAILED : EXIT_DONE);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument: %s", argv[optind]);
	if (o->by == MATCH_BY_ALIAS && !o->identity_set)
		usage_error("--by alias needs --identity-set NAME|ID");
	if (o->by == MATCH_BY_EMAIL && o->identity_set)
		usage_error("--identity-set is for --by alias");
}

/* ------------------------------------------------------------ warnings
 * One per unmatched person, maybe a hundred thousand: written in batches
 * of whole lines, each batch one write of at most PIPE_BUF bytes, so lines
 * from processes sharing stderr still never interleave. Each line is what
 * weprintf would print. Anything else printed while a batch is pending
 * flushes it first (warn_flush). */
static char warn_buf[WARN_BATCH];
static size_t warn_len;

static void
warn_flush(void)
{
	size_t off = 0;

	while (off < warn_len) {
		ssize_t n = write(STDERR_FILENO, warn_buf + off, warn_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* stderr is gone: nowhere to say so */
		off += (size_t)n;
	}
	warn_len = 0;
}

static void
warn_unmatched(void *user, const char *warning)
{
	char line[WARN_BATCH];
	size_t plen = strlen(progname), n = 0;

	(void)user;
	/* weprintf's line: "PROG: " and the text escaped (it holds names and
	 * emails from incident.io), cut to 4095 bytes */
	if (plen + 2 < WARN_BATCH / 2) {
		memcpy(line, progname, plen);
		memcpy(line + plen, ": ", 2);
		n = plen + 2;
	}
	n += log_escape(line + n, sizeof line - n, warning, strlen(warning));
	if (warn_len + n + 1 > sizeof warn_buf)
		warn_flush();
	memcpy(warn_buf + warn_len, line, n);
	warn_buf[warn_len + n] = '\n';
	warn_len += n + 1;
}

/* ------------------------------------------------------------ pass 1 */

/* Pass 1: read, check and keep stdin in spool, noting who to look up.
 * Returns 0, EXIT_REFUSED for input that is cut or breaks the contract
 * (said with its line number), or EXIT_FAILED when the temporary file
 * fails. */
static int
read_input(FILE *spool, struct match_index *idx, char **selection)
{
	struct record_reader r;
	struct buf scratch = { 0 };
	enum record_status st;
	enum record_type type;
	cJSON *rec;
	int rc = 0;

	record_reader_init(&r, stdin, "<stdin>", 0);
	while (!rc && (st = record_read(&r, &rec, &type)) == RECORD_READ) {
		if (type == RECORD_ROSTER)
			roster_need(idx, rec, &scratch);
		cJSON_Delete(rec);
		/* the reader leaves the line, without its newline, in r.nd.line */
		if (putc(type == RECORD_ROSTER ? SPOOL_ROSTER : SPOOL_PASS, spool) == EOF ||
		    fputs(r.nd.line, spool) == EOF || putc('\n', spool) == EOF) {
			weprintf("temporary file:");
			rc = EXIT_FAILED;
		}
	}
	if (!rc && st == RECORD_ERR)
		rc = EXIT_REFUSED;
	/* passed on in our own end record: reconcile-groups needs it */
	*selection = r.end_selection ? estrdup(r.end_selection) : NULL;
	record_reader_clear(&r);
	buf_clear(&scratch);
	return rc;
}

/* ------------------------------------------------------------ pass 2 */

/* One roster annotated and written. Returns 1 if it became an error
 * record. */
static int
write_roster(const struct match_index *idx, const char *line, size_t len,
             struct record_writer *w, struct buf *scratch)
{
	cJSON *rec, *err;
	const char *msg, *code = NULL;
	int failed = 0;

	if (!(rec = cJSON_ParseWithLength(line, len)))
		die(EXIT_FAILED, "temporary file: cannot parse a record read before");
	msg = roster_annotate(idx, rec, scratch, warn_unmatched, NULL, &code);
	warn_flush();
	if (msg) {
		/* A failure of every call was said once already. */
		if (!match_failed_all(idx))
			weprintf("%s: StrongDM: %s", roster_schedule_label(rec), msg);
		err = roster_error(rec, code, msg);
		record_write(w, err);
		cJSON_Delete(err);
		failed = 1;
	} else {
		record_write(w, rec);
	}
	cJSON_Delete(rec);
	return failed;
}

/* Pass 2: annotate and write. Returns 1 if a roster became an error. */
static int
write_output(FILE *spool, const struct match_index *idx, struct record_writer *w)
{
	struct buf scratch = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int failed = 0;

	if (fflush(spool) == EOF || ferror(spool) || fseek(spool, 0, SEEK_SET) != 0)
		die(EXIT_FAILED, "temporary file:");
	while (!w->failed && (n = getline(&line, &cap, spool)) > 0) {
		size_t len = (size_t)n - 1;    /* the kind byte and the line, then '\n' */
		if (line[0] == SPOOL_ROSTER)
			failed |= write_roster(idx, line + 1, len - 1, w, &scratch);
		else
			record_write_text(w, line + 1, len - 1);
	}
	if (ferror(spool))
		die(EXIT_FAILED, "temporary file: read error");
	warn_flush();
	free(line);
	buf_clear(&scratch);
	return failed;
}

static char inbuf[IO_BUFFER], spoolbuf[IO_BUFFER], outbuf[IO_BUFFER], accbuf[256 * 1024];

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct accounts_opts ao;
	struct accounts_report rep = { 0 };
	struct sdm_config cfg = { 0 };
	struct sdm_client *client = NULL;
	struct match_index *idx = NULL;
	struct record_writer w;
	FILE *accounts = NULL, *spool = NULL;
	char err[512], *selection = NULL;
	int status = EXIT_DONE, rc;

	log_init(argv[0]);
	atexit(warn_flush);   /* on die(): the warnings before its message are not lost */
	parse_opts(argc, argv, &o);

	if (o.check_credentials) {
		/* the wrapper's check of the keys: exactly what a run would do */
		rc = sdm_config_from_env(&cfg, err, sizeof err);
		if (rc)
			weprintf("%s", err);
		sdm_config_clear(&cfg);
		return rc ? EXIT_USAGE : EXIT_DONE;
	}
	/* Set up: everything that can fail for configuration, before input. */
	if (o.accounts_file) {
		if (strcmp(o.accounts_file, "-") == 0)
			die(EXIT_USAGE, "--accounts: stdin carries the roster; name a file");
		if (!(accounts = fopen(o.accounts_file, "r")))
			die(EXIT_USAGE, "%s:", o.accounts_file);
		setvbuf(accounts, accbuf, _IOFBF, sizeof accbuf);
	} else {
		if (sdm_config_from_env(&cfg, err, sizeof err)) {
			weprintf("%s", err);
			sdm_config_clear(&cfg);
			return EXIT_USAGE;
		}
		if (!(client = sdm_client_new(&cfg, err, sizeof err))) {
			weprintf("%s", err);
			sdm_config_clear(&cfg);
			return EXIT_USAGE;
		}
	}
	if (!(spool = tmpfile()))
		die(EXIT_FAILED, "temporary file:");
	/* Large buffers: a big stream goes through these twice. */
	/* (glibc ignores the size unless given the buffer: static, as the
	 * streams may outlive main's frame at exit) */
	setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
	setvbuf(spool, spoolbuf, _IOFBF, sizeof spoolbuf);
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	idx = match_index_new(o.by);

	if ((rc = read_input(spool, idx, &selection))) {
		status = rc;
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
		       rep.listed ? (rep.probed ? "one page of every user (all of them)" : "a listing") :
		       rep.probed ? "one page of every user (not all of them), then filtered look-ups" :
		       "filtered look-ups", st.calls, st.attempts,
		       st.rate_limited);
	}
	if (match_failed_all(idx))
		weprintf("StrongDM: %s; every roster becomes an error record", match_failed_all(idx));

	record_writer_init(&w, stdout);
	if (write_output(spool, idx, &w))
		status = EXIT_FAILED;
	if (w.failed || record_write_end(&w, STAGE, selection, 0))
		status = EXIT_FAILED;
out:
	free(selection);
	if (fshut_stdout())
		status = EXIT_FAILED;
	if (spool)
		fclose(spool);
	if (accounts)
		fclose(accounts);
	match_index_free(idx);
	if (client)
		sdm_client_free(client);
	sdm_config_clear(&cfg);
	return status;
}
