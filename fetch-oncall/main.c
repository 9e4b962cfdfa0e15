/* fetch-oncall: write who is on call on incident.io schedules as roster
 * records (NDJSON), one per schedule, then an end record.
 *
 * Nothing is written before every request has finished: a failure that
 * leaves the selection unknown (a rejected key, an unreadable schedule list
 * with --all) writes no stream at all, so nothing downstream acts on it. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "incidentio.h"
#include "record.h"
#include "oncall.h"
#include "select.h"
#include "timeutil.h"
#include "util.h"

#ifndef ONCALL_VERSION
#define ONCALL_VERSION "0"
#endif

#define DEFAULT_URL "https://api.incident.io"
#define DEFAULT_JOBS 8
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_RETRIES 5
#define MAX_WINDOW_MS (31LL * 86400 * 1000)

/* One selected schedule, in output order. */
struct target {
	const char *value;                 /* the -s value; NULL with --all */
	const struct iio_schedule *sched;  /* once resolved (points into a show or the listing) */
	int need_list;                     /* to resolve through the schedule list */
	char *err_id, *err_name;           /* what an error record names when unresolved */
	char *error;                       /* an error record's message */
	const char *code;                  /* and its code */
	int use_entries;
	struct iio_entries entries;
};

static void usage(FILE *fp)
{
	fprintf(fp,
	        "usage: fetch-oncall [-v] [-j N] [--at TIME] [--lead DUR] [--grace DUR]\n"
	        "                    [--look-ahead DUR] [--timeout DUR] [--retries N] -s SCHEDULE...\n"
	        "       fetch-oncall [options] -a\n"
	        "       fetch-oncall [options] --list\n"
	        "       fetch-oncall --check-credentials\n"
	        "       fetch-oncall [options] --check-options\n"
	        "\n"
	        "Write who is on call on incident.io schedules as NDJSON roster records.\n"
	        "\n"
	        "  -s, --schedule ID|NAME  a schedule by id or exact name (repeatable)\n"
	        "  -a, --all               every schedule\n"
	        "      --list              one schedule record per schedule (id, name, timezone)\n"
	        "      --at TIME           the moment to ask about, RFC 3339 (default: now)\n"
	        "      --lead DUR          also count shifts starting within DUR after --at\n"
	        "      --grace DUR         also count shifts that ended within DUR before --at\n"
	        "      --look-ahead DUR    write next_change when the roster changes within DUR\n"
	        "  -j, --jobs N            requests in flight at once, 1..64 (default 8)\n"
	        "      --timeout DUR       give up on one attempt after DUR (default 30s)\n"
	        "      --retries N         retries of a failed request, 0..20 (default 5)\n"
	        "  -v, --verbose           log every request to stderr\n"
	        "      --check-credentials check the API key (variable or file) and exit\n"
	        "      --check-options     check the options and exit; print their durations (ms)\n"
	        "  -h, --help              this help\n"
	        "  -V, --version           the version\n"
	        "\n"
	        "Environment: INCIDENT_API_KEY or INCIDENT_API_KEY_FILE (the API key, needs\n"
	        "schedules.view); INCIDENT_API_URL (default https://api.incident.io);\n"
	        "ONCALL_LOG=debug|info|warn|error.\n"
	        "Exit status: 0 done, 1 a schedule or the API failed, 2 usage or configuration.\n");
}

static long parse_int(const char *opt, const char *s, long lo, long hi)
{
	long v;

	if (parse_long_range(s, lo, hi, &v))
		usage_error("%s: expected a number from %ld to %ld, got \"%s\"", opt, lo, hi, s);
	return v;
}

static int64_t parse_duration_opt(const char *opt, const char *s)
{
	int64_t ms;

	if (duration_parse(s, &ms) < 0)
		usage_error("%s: not a duration: \"%s\" (e.g. 15m, 1h30m, 900, PT15M)", opt, s);
	return ms;
}

/* --lead and --grace: a window wider than a month is a mistake, not a schedule. */
static int64_t parse_window_opt(const char *opt, const char *s)
{
	int64_t ms = parse_duration_opt(opt, s);

	if (ms > MAX_WINDOW_MS)
		usage_error("%s: at most 31d, got \"%s\"", opt, s);
	return ms;
}

/* The API key from INCIDENT_API_KEY or the file INCIDENT_API_KEY_FILE names. */
static char *read_key(void)
{
	char err[600], *key;
	int rc = read_credential("INCIDENT_API_KEY", &key, err, sizeof err);

	if (rc > 0)
		die(EXIT_USAGE, "no incident.io API key: set INCIDENT_API_KEY_FILE to a file holding it "
		    "(mode 600), or INCIDENT_API_KEY");
	if (rc < 0)
		die(EXIT_USAGE, "%s", err);
	return key;
}

/* A failure that leaves no stream to write: one error record naming no
 * schedule, with its code, and no end record, so that the stream is cut
 * short (never acted on) yet says why in a form tools can read. */
static void stream_failed(const char *code, const char *message)
{
	struct record_writer w;
	cJSON *rec = oncall_error_record(NULL, NULL, code, message);

	record_writer_init(&w, stdout);
	record_write(&w, rec);
	cJSON_Delete(rec);
	fflush(stdout);
}

/* A 401 anywhere: one clear message, no roster and no end. */
static int auth_failed(const struct iio_api *api)
{
	if (!api->auth_error)
		return 0;
	weprintf("%s", api->auth_error);
	stream_failed("unauthenticated", api->auth_error);
	return 1;
}

static void target_fail(struct target *t, const char *id, const char *name, const char *code,
                        const char *msg)
{
	free(t->err_id);
	free(t->err_name);
	free(t->error);
	t->err_id = id ? estrdup(id) : NULL;
	t->err_name = name ? estrdup(name) : NULL;
	t->error = estrdup(msg);
	t->code = code;
}

/* Error records name a value that looks like an id as the id, else as the name. */
static void target_fail_value(struct target *t, const char *code, const char *msg)
{
	if (iio_looks_like_id(t->value))
		target_fail(t, t->value, NULL, code, msg);
	else
		target_fail(t, NULL, t->value, code, msg);
}

static struct oncall_shift *as_oncall_shifts(const struct iio_shift *s, size_t n)
{
	struct oncall_shift *o = n ? ecalloc(n, sizeof *o) : NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		o[i].user_id = s[i].user_id;
		o[i].user_name = s[i].user_name;
		o[i].user_email = s[i].user_email;
		o[i].start_ms = s[i].start_ms;
		o[i].end_ms = s[i].end_ms;
	}
	return o;
}

/* Two lists of shifts as one (current and next). */
static struct oncall_shift *as_oncall_shifts2(const struct iio_shift *a, size_t na,
                                              const struct iio_shift *b, size_t nb)
{
	struct oncall_shift *o = na + nb ? ecalloc(na + nb, sizeof *o) : NULL, *part;

	if (na) {
		part = as_oncall_shifts(a, na);
		memcpy(o, part, na * sizeof *part);
		free(part);
	}
	if (nb) {
		part = as_oncall_shifts(b, nb);
		memcpy(o + na, part, nb * sizeof *part);
		free(part);
	}
	return o;
}

static int write_record(struct record_writer *w, cJSON *rec)
{
	int rc = record_write(w, rec);

	cJSON_Delete(rec);
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_LIST = 256, OPT_AT, OPT_LEAD, OPT_GRACE, OPT_TIMEOUT, OPT_RETRIES, OPT_LOOK_AHEAD, OPT_CHECK,
	       OPT_CHECK_OPTIONS };
	static const struct option longopts[] = {
		{ "schedule", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "at", required_argument, NULL, OPT_AT },
		{ "lead", required_argument, NULL, OPT_LEAD },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "look-ahead", required_argument, NULL, OPT_LOOK_AHEAD },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-credentials", no_argument, NULL, OPT_CHECK },
		{ "check-options", no_argument, NULL, OPT_CHECK_OPTIONS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char **values = NULL;
	size_t nvalues = 0, ntargets = 0, i, j;
	int all = 0, list = 0, at_given = 0, verbose = 0, check = 0, check_opts = 0, c, status = EXIT_DONE, now_mode;
	int64_t at_ms = 0, lead_ms = 0, grace_ms = 0, look_ms = 0, timeout_ms = DEFAULT_TIMEOUT_MS;
	long jobs = DEFAULT_JOBS, retries = DEFAULT_RETRIES;
	const char *url;
	char err[512], *key;
	struct http_client_opts hopts;
	struct http_client *http;
	struct iio_api api;
	struct iio_listing listing;
	struct iio_show *shows = NULL;
	struct target *targets = NULL;
	struct oncall_window window;
	struct record_writer w;
	int listed = 0, use_show = 0, need_list = 0;

	log_init("fetch-oncall");

	/* options */
	while ((c = getopt_long(argc, argv, "s:aj:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!optarg[0])
				usage_error("-s: empty schedule id or name");
			for (i = 0; i < nvalues; i++)
				if (strcmp(values[i], optarg) == 0)
					break;
			if (i == nvalues) {
				values = erealloc(values, (nvalues + 1) * sizeof *values);
				values[nvalues++] = optarg;
			}
			break;
		case 'a': all = 1; break;
		case OPT_LIST: list = 1; break;
		case OPT_AT:
			if (rfc3339_parse(optarg, &at_ms) < 0)
				usage_error("--at: not an RFC 3339 time: \"%s\" (e.g. 2026-11-29T07:00:00Z)", optarg);
			at_given = 1;
			break;
		case OPT_LEAD: lead_ms = parse_window_opt("--lead", optarg); break;
		case OPT_GRACE: grace_ms = parse_window_opt("--grace", optarg); break;
		case OPT_LOOK_AHEAD: look_ms = parse_window_opt("--look-ahead", optarg); break;
		case 'j': jobs = parse_int("--jobs", optarg, 1, 64); break;
		case OPT_TIMEOUT:
			timeout_ms = parse_duration_opt("--timeout", optarg);
			if (timeout_ms <= 0)
				usage_error("--timeout: must be more than 0");
			break;
		case OPT_RETRIES: retries = parse_int("--retries", optarg, 0, 20); break;
		case 'v': verbose = 1; break;
		case OPT_CHECK: check = 1; break;
		case OPT_CHECK_OPTIONS: check_opts = 1; break;
		case 'h': usage(stdout); free(values); return fshut_stdout() ? EXIT_FAILED : EXIT_DONE;
		case 'V':
			printf("fetch-oncall %s\n", ONCALL_VERSION);
			free(values);
			return fshut_stdout() ? EXIT_FAILED : EXIT_DONE;
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}

	/* validate */
	if (optind < argc)
		usage_error("unexpected argument \"%s\" (schedules are given with -s)", argv[optind]);
	if (check_opts) {
		/* the wrapper's check of its config and flags: the options parsed
		 * as a run would, nothing read, nothing asked */
		printf("{\"lead_ms\":%lld,\"grace_ms\":%lld,\"look_ahead_ms\":%lld,\"timeout_ms\":%lld}\n",
		       (long long)lead_ms, (long long)grace_ms, (long long)look_ms, (long long)timeout_ms);
		free(values);
		return fshut_stdout() ? EXIT_FAILED : EXIT_DONE;
	}
	if (check) {
		/* the wrapper's check of the key: exactly what a run would do */
		key = read_key();
		secret_free(key);
		free(values);
		return EXIT_DONE;
	}
	if ((nvalues > 0) + all + list == 0)
		usage_error("select schedules with -s SCHEDULE or -a, or list them with --list");
	if ((nvalues > 0) + all + list > 1)
		usage_error("-s, -a and --list exclude each other");
	if (verbose)
		log_set_level(LOG_DEBUG);
	url = getenv("INCIDENT_API_URL");
	if (!url || !*url)
		url = DEFAULT_URL;
	if (http_url_check(url, err, sizeof err) < 0)
		die(EXIT_USAGE, "INCIDENT_API_URL: %s", err);
	key = read_key();
	now_mode = !at_given && lead_ms == 0 && grace_ms == 0;
	if (!at_given)
		at_ms = now_ms() / 1000 * 1000;
	window = oncall_window_at(at_ms, lead_ms, grace_ms);

	/* set up */
	memset(&hopts, 0, sizeof hopts);
	hopts.max_inflight = (int)jobs;
	hopts.timeout_ms = (long)timeout_ms;
	hopts.max_retries = retries == 0 ? -1 : (int)retries; /* 0 means the default there */
	hopts.http2 = strncmp(url, "https:", 6) == 0;
	http = http_client_new(&hopts);
	iio_api_init(&api, http, url, key);
	/* now: the schedules' next_shifts are the look-ahead, and list pages
	 * carry them only up to 25 schedules a page */
	if (look_ms > 0 && now_mode)
		api.list_page_size = IIO_SCHEDULES_NEXT_PAGE_SIZE;
	secret_free(key);
	memset(&listing, 0, sizeof listing);

	/* resolve the selection */
	if (all || list) {
		iio_listing_submit(&api, &listing);
		http_run(http);
		listed = 1;
		if (auth_failed(&api))
			goto failed;
		if (listing.error) {
			weprintf("%s", listing.error);
			weprintf("the schedule list is incomplete: nothing written");
			stream_failed(iio_error_code(listing.status), listing.error);
			goto failed;
		}
		if (list) {
			record_writer_init(&w, stdout);
			for (i = 0; i < listing.n; i++)
				write_record(&w, oncall_schedule_record(listing.items[i].id,
				             listing.items[i].name, listing.items[i].timezone));
			record_write_end(&w, "fetch-oncall", NULL, 0);
			goto done;
		}
		targets = ecalloc(listing.n ? listing.n : 1, sizeof *targets);
		for (i = 0; i < listing.n; i++)
			targets[ntargets++].sched = &listing.items[i];
	} else {
		targets = ecalloc(nvalues, sizeof *targets);
		ntargets = nvalues;
		for (i = 0; i < nvalues; i++)
			targets[i].value = values[i];
		use_show = select_use_show(values, nvalues);
		if (use_show) {
			shows = ecalloc(nvalues, sizeof *shows);
			for (i = 0; i < nvalues; i++)
				iio_show_submit(&api, &shows[i], values[i]);
			http_run(http);
			if (auth_failed(&api))
				goto failed;
			for (i = 0; i < nvalues; i++) {
				if (shows[i].ok)
					targets[i].sched = &shows[i].sched;
				else if (shows[i].status == 404)
					need_list = targets[i].need_list = 1; /* perhaps a name */
				else
					target_fail(&targets[i], values[i], NULL, iio_error_code(shows[i].status),
					            shows[i].error);
			}
		} else {
			for (i = 0; i < nvalues; i++)
				targets[i].need_list = 1;
			need_list = 1;
		}
		if (need_list) {
			iio_listing_submit(&api, &listing);
			http_run(http);
			listed = 1;
			if (auth_failed(&api))
				goto failed;
		}
		for (i = 0; i < nvalues; i++) {
			struct target *t = &targets[i];
			size_t idx = 0;
			char *msg = NULL;
			enum select_result r;

			if (!t->need_list)
				continue;
			if (listing.error) {
				target_fail_value(t, iio_error_code(listing.status), listing.error);
				continue;
			}
			r = select_resolve(listing.items, listing.n, t->value, &idx, &msg);
			if (r == SELECT_FOUND) {
				t->sched = &listing.items[idx];
			} else if (use_show && shows[i].status == 404 && r == SELECT_NONE) {
				/* an id incident.io does not know: its own answer says so */
				target_fail(t, t->value, NULL, "not_found", shows[i].error);
			} else {
				target_fail_value(t, r == SELECT_MANY ? "ambiguous" : "not_found", msg);
			}
			free(msg);
		}
	}

	/* one roster per schedule: a schedule selected twice keeps its first place */
	for (i = 0; i < ntargets; i++) {
		if (!targets[i].sched)
			continue;
		for (j = 0; j < i; j++)
			if (targets[j].sched && strcmp(targets[j].sched->id, targets[i].sched->id) == 0)
				break;
		if (j < i)
			targets[i].sched = NULL, targets[i].value = NULL;
	}

	/* fetch the shifts that the schedules do not carry */
	for (i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];

		if (!t->sched || (now_mode && t->sched->has_current))
			continue;
		t->use_entries = 1;
		/* one second past the window's end: a shift starting exactly at
		 * its end is on call, and a zero-length window is not special */
		iio_entries_submit(&api, &t->entries, t->sched->id, window.from_ms,
		                   window.to_ms + look_ms + 1000);
	}
	http_run(http);
	if (auth_failed(&api))
		goto failed;

	/* write */
	record_writer_init(&w, stdout);
	for (i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];
		const struct iio_shift *shifts;
		struct oncall_shift *os;
		struct oncall_person *people;
		size_t nshifts, np;
		int64_t next_ms;
		cJSON *rec;

		if (!t->sched && !t->error)
			continue; /* a duplicate */
		if (t->use_entries && t->sched && t->entries.error)
			target_fail(t, t->sched->id, t->sched->name, iio_error_code(t->entries.status),
			            t->entries.error);
		if (t->error) {
			if (t->err_id && t->err_name)
				weprintf("schedule %s (%s): %s", t->err_name, t->err_id, t->error);
			else
				weprintf("schedule %s: %s", t->err_id ? t->err_id : t->err_name, t->error);
			write_record(&w, oncall_error_record(t->err_id, t->err_name, t->code, t->error));
			status = EXIT_FAILED;
			continue;
		}
		if (t->use_entries) {
			shifts = t->entries.shifts;
			nshifts = t->entries.n;
		} else {
			shifts = t->sched->current;
			nshifts = t->sched->ncurrent;
		}
		os = as_oncall_shifts(shifts, nshifts);
		np = oncall_fold(os, nshifts, t->use_entries || !now_mode ? window : oncall_window_any(),
		                 &people);
		rec = oncall_roster_record(t->sched->id, t->sched->name, at_ms, window, people, np);
		free(people);
		if (look_ms > 0 && !t->use_entries && t->sched->has_next) {
			/* now: who is on (their ends) and who comes next (their starts) */
			free(os);
			os = as_oncall_shifts2(t->sched->current, t->sched->ncurrent,
			                       t->sched->next, t->sched->nnext);
			nshifts = t->sched->ncurrent + t->sched->nnext;
		}
		if (look_ms > 0 && (t->use_entries || t->sched->has_next) &&
		    oncall_next_change(os, nshifts, at_ms, lead_ms, grace_ms, at_ms + look_ms, &next_ms))
			oncall_roster_add_next_change(rec, next_ms);
		write_record(&w, rec);
		free(os);
	}
	/* "all": a schedule missing from this stream is known to be gone
	 * (the listing was proven complete); "explicit": it was not asked for */
	record_write_end(&w, "fetch-oncall", all ? "all" : "explicit", 0);
	goto done;

failed:
	status = EXIT_FAILED;
done:
	{
		struct http_stats st;

		http_client_stats(http, &st);
		logmsg(LOG_INFO, "%ld requests (%ld retries)", st.requests, st.retries);
	}
	for (i = 0; i < ntargets; i++) {
		free(targets[i].err_id);
		free(targets[i].err_name);
		free(targets[i].error);
		if (targets[i].use_entries)
			iio_entries_clear(&targets[i].entries);
	}
	free(targets);
	if (shows)
		for (i = 0; i < nvalues; i++)
			iio_show_clear(&shows[i]);
	free(shows);
	if (listed)
		iio_listing_clear(&listing);
	iio_api_clear(&api);
	http_client_free(http);
	free(values);
	if (fshut_stdout() < 0 && status == EXIT_DONE)
		status = EXIT_FAILED;
	return status;
}
