/* match-users: add StrongDM accounts to a roster stream.
 *
 * Pass 1 reads and checks the whole input, spooling each line to a
 * temporary file and noting each distinct person to look up; StrongDM is
 * then read once, for those people only; pass 2 re-reads the spool and
 * writes the annotated records. Memory grows with the people on call, not
 * with the length of the stream, and a cut or bad input is refused before
 * StrongDM is asked anything. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "fastjson.h"
#include "match.h"
#include "ndjson.h"
#include "roster.h"
#include "sdm.h"
#include "util.h"

#define STAGE "match-users"
#define IO_BUFFER (256 * 1024)

/* Spool records: a header of four uint32 (kind, line length, entry
 * count, label length), then the entries, the input line (without its
 * newline) and a NUL, the schedule's label and a NUL, padded to a multiple
 * of four bytes. A fast roster's entries are struct roster_entry (key
 * index and offsets, from the fast scanner); a scanned one's are int32 key
 * indexes (roster_need), its offsets found again in pass 2. */
#define SPOOL_PASS 'P'      /* not a roster: passed on byte for byte */
#define SPOOL_ROSTER 'R'    /* a roster for the cJSON path */
#define SPOOL_SCAN 'F'      /* a roster for the splicing path, to be scanned */
#define SPOOL_FAST 'S'      /* a roster for the splicing path, offsets known */
#define SPOOL_ALIGN 4
#define OUT_FLUSH (256 * 1024)
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

struct pass1 {
	FILE *spool;
	struct match_index *idx;
	struct fj_roster fr;
	int failed;
};

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
spool_record(FILE *spool, int kind, const char *line, size_t len, const void *ents,
             size_t entsize, size_t n, const char *label, size_t label_len)
{
	static const char zeros[SPOOL_ALIGN + 2];
	uint32_t h[4] = { (uint32_t)kind, (uint32_t)len, (uint32_t)n, (uint32_t)label_len };
	size_t total = sizeof h + n * entsize + len + 1 + label_len + 1;
	size_t pad = (SPOOL_ALIGN - total % SPOOL_ALIGN) % SPOOL_ALIGN;

	if (len > UINT32_MAX - 2 * SPOOL_ALIGN || label_len > UINT32_MAX - 2 * SPOOL_ALIGN)
		die(EXIT_FAILED, "temporary file: record too long");
	return spool_put(spool, h, sizeof h) || spool_put(spool, ents, n * entsize) ||
	       spool_put(spool, line, len) || spool_put(spool, zeros, 1) ||
	       spool_put(spool, label, label_len) || spool_put(spool, zeros, 1 + pad);
}

/* The fast path of the reader (ndjson_read_fast): a common roster is
 * checked, noted and spooled here without cJSON. */
static int
fast_line(void *user, const char *line, size_t len)
{
	struct pass1 *p = user;

	if (p->failed || !fj_roster_parse(&p->fr, p->idx, line, len))
		return 0;
	if (spool_record(p->spool, SPOOL_FAST, line, len, p->fr.ents, sizeof *p->fr.ents,
	                 p->fr.n, p->fr.label.s, p->fr.label.n))
		p->failed = 1;
	return 1;
}

/* Pass 1: read, check and spool stdin, noting who to look up. Returns 0,
 * EXIT_REFUSED for input that is cut, malformed or too long (said with its
 * line number), or EXIT_FAILED when the temporary file fails. */
static int
read_input(FILE *spool, struct match_index *idx, char **selection)
{
	struct ndjson_reader r;
	struct pass1 p = { .spool = spool, .idx = idx };
	struct buf scratch = { 0 }, keys = { 0 };
	enum ndjson_status st;
	cJSON *rec;
	int rc = 0;

	ndjson_reader_init(&r, stdin, "<stdin>");
	while ((st = ndjson_read_fast(&r, &rec, fast_line, &p)) == NDJSON_RECORD) {
		char kind = SPOOL_PASS;
		const char *label = "";
		if (p.failed) {
			cJSON_Delete(rec);
			rc = EXIT_FAILED;
			break;
		}
		if (!rec)
			continue;   /* taken by fast_line */
		keys.len = 0;
		if (strcmp(json_str(rec, "type"), "roster") == 0) {
			if (roster_check(&r, rec)) {
				cJSON_Delete(rec);
				rc = EXIT_REFUSED;
				break;
			}
			kind = roster_need(idx, rec, &scratch, &keys) ? SPOOL_SCAN : SPOOL_ROSTER;
			label = roster_schedule_label(rec);
			if (kind == SPOOL_ROSTER)
				keys.len = 0;
		}
		/* The reader leaves the line, without its newline, in r.line. */
		if (spool_record(spool, kind, r.line, strlen(r.line), keys.data, sizeof(int32_t),
		                 keys.len / sizeof(int32_t), label, strlen(label)))
			rc = EXIT_FAILED;
		cJSON_Delete(rec);
		if (rc)
			break;
	}
	if (st == NDJSON_ERR && !rc)
		rc = EXIT_REFUSED;
	if (p.failed)
		rc = EXIT_FAILED;
	/* passed on in our own end record: reconcile-groups needs it */
	*selection = r.end_selection ? estrdup(r.end_selection) : NULL;
	ndjson_reader_free(&r);
	fj_roster_free(&p.fr);
	buf_clear(&scratch);
	buf_clear(&keys);
	return rc;
}

/* ------------------------------------------------------------ pass 2 */

/* The spool read back in large blocks; records are used in place. */
struct spool_reader {
	int fd;
	char *buf;
	size_t cap, pos, len;
};

static void
spool_fail(const char *what)
{
	warn_flush();
	die(EXIT_FAILED, "temporary file: %s", what);
}

/* n more bytes, or NULL at the end of the spool (n == 0 bytes left). */
static const char *
spool_take(struct spool_reader *sr, size_t n)
{
	const char *p;

	if (sr->len - sr->pos < n) {
		memmove(sr->buf, sr->buf + sr->pos, sr->len - sr->pos);
		sr->len -= sr->pos;
		sr->pos = 0;
		if (n > sr->cap) {
			sr->cap = n > 2 * sr->cap ? n : 2 * sr->cap;
			sr->buf = erealloc(sr->buf, sr->cap);
		}
		while (sr->len < n) {
			ssize_t got = read(sr->fd, sr->buf + sr->len, sr->cap - sr->len);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				spool_fail("read error");
			if (got == 0) {
				if (sr->len == 0)
					return NULL;
				spool_fail("short read");
			}
			sr->len += (size_t)got;
		}
	}
	p = sr->buf + sr->pos;
	sr->pos += n;
	return p;
}

/* The cJSON path: parse, annotate, print. Returns 1 if the roster became
 * an error record. */
static int
write_roster_slow(const struct match_index *idx, const char *line, struct ndjson_writer *w,
                  struct buf *scratch)
{
	cJSON *rec, *err;
	const char *msg, *code = NULL;
	int failed = 0;

	if (!(rec = cJSON_Parse(line)))
		spool_fail("cannot parse a spooled record");
	msg = roster_annotate(idx, rec, scratch, warn_unmatched, NULL, &code);
	warn_flush();
	if (msg) {
		/* A failure of every call was said once already. */
		if (!match_failed_all(idx))
			weprintf("%s: StrongDM: %s", roster_schedule_label(rec), msg);
		err = roster_error(rec, code, msg);
		ndjson_write(w, err);
		cJSON_Delete(err);
		failed = 1;
	} else {
		ndjson_write(w, rec);
	}
	cJSON_Delete(rec);
	return failed;
}

/* Writes out what pass 2 has gathered: straight to the file descriptor
 * (after what stdio holds), no copy into stdio's buffer. */
static void
out_flush(struct buf *out, struct ndjson_writer *w)
{
	size_t off = 0;

	if (out->len && !w->failed) {
		if (fflush(w->fp) == EOF) {
			off = out->len + 1;
		} else {
			while (off < out->len) {
				ssize_t n = write(fileno(w->fp), out->data + off, out->len - off);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					break;
				off += (size_t)n;
			}
		}
		if (off != out->len) {
			warn_flush();
			weprintf("write error:");
			w->failed = 1;
		}
	}
	out->len = 0;
}

/* Pass 2: annotate and write. Returns 1 if a roster became an error. */
static int
write_output(FILE *spool, const struct match_index *idx, struct ndjson_writer *w)
{
	struct spool_reader sr = { .fd = fileno(spool), .cap = IO_BUFFER };
	struct buf out = { 0 }, scratch = { 0 };
	struct roster_verdicts v;
	const char *rec;
	int failed = 0;

	if (fflush(spool) == EOF || ferror(spool))
		die(EXIT_FAILED, "temporary file:");
	if (lseek(sr.fd, 0, SEEK_SET) < 0)
		die(EXIT_FAILED, "temporary file:");
	roster_verdicts_init(&v, idx);
	sr.buf = emalloc(sr.cap);
	while (!w->failed && (rec = spool_take(&sr, 4 * sizeof(uint32_t)))) {
		uint32_t h[4];
		size_t entsize, total, pad;
		const char *ents, *line, *label;
		int rc;

		memcpy(h, rec, sizeof h);
		entsize = h[0] == SPOOL_FAST ? sizeof(struct roster_entry) :
		          h[0] == SPOOL_SCAN ? sizeof(int32_t) : 0;
		total = (size_t)h[2] * entsize + h[1] + 1 + h[3] + 1;
		pad = (SPOOL_ALIGN - (total + sizeof h) % SPOOL_ALIGN) % SPOOL_ALIGN;
		if (!(ents = spool_take(&sr, total + pad)))
			spool_fail("short read");
		line = ents + (size_t)h[2] * entsize;
		label = line + h[1] + 1;
		if (h[0] == SPOOL_PASS) {
			buf_append(&out, line, h[1]);
			buf_append(&out, "\n", 1);
			w->records++;
		} else if (h[0] == SPOOL_FAST &&
		           roster_write_at(&out, line, h[1], (const struct roster_entry *)ents, h[2],
		                           label, &v, warn_unmatched, NULL) == 0) {
			w->records++;
		} else {
			out_flush(&out, w);
			rc = 1;
			if (h[0] == SPOOL_SCAN) {
				rc = roster_write_fast(w->fp, line, h[1], (const int32_t *)ents, h[2],
				                       label, &v, warn_unmatched, NULL);
				if (rc < 0) {
					warn_flush();
					weprintf("write error:");
					w->failed = 1;
				}
				if (rc <= 0)
					w->records++;
			}
			if (rc > 0)
				failed |= write_roster_slow(idx, line, w, &scratch);
		}
		if (out.len >= OUT_FLUSH)
			out_flush(&out, w);
	}
	out_flush(&out, w);
	warn_flush();
	roster_verdicts_free(&v);
	buf_clear(&out);
	buf_clear(&scratch);
	free(sr.buf);
	return failed;
}

static char inbuf[IO_BUFFER], spoolbuf[IO_BUFFER], accbuf[256 * 1024];

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
	/* Large buffers: a big stream goes through these twice. Pass 2
	 * writes stdout in large blocks of its own (out_flush). */
	/* (glibc ignores the size unless given the buffer: static, as the
	 * streams may outlive main's frame at exit) */
	setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
	setvbuf(spool, spoolbuf, _IOFBF, sizeof spoolbuf);
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

	ndjson_writer_init(&w, stdout);
	if (write_output(spool, idx, &w))
		status = EXIT_FAILED;
	if (w.failed || ndjson_write_end_selection(&w, STAGE, selection))
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
