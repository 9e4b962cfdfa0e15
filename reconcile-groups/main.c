/* reconcile-groups: make StrongDM's managed groups match the matched rosters.
 *
 * Reads the managed groups from StrongDM while it reads and checks the whole
 * matched stream (match-users' output), plans, writes the changes, and
 * prints one change record per change and its own end record. With --groups
 * FILE it plans against the groups in FILE instead (no network, a dry run). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "record.h"
#include "sdm.h"
#include "groups_file.h"
#include "plan.h"
#include "apply.h"
#include "adopt.h"

#ifndef ONCALL_VERSION
#define ONCALL_VERSION "dev"
#endif

#define STAGE "reconcile-groups"
#define PRUNE_SHARE_DEFAULT 0.5

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: reconcile-groups [-n] [--prune] [--allow-empty] [--instance NAME] [--group-prefix PREFIX] [--max-changes N] [--max-prune-share S] [-j N] [--groups FILE]\n"
	        "       reconcile-groups [-n] [--instance NAME] [--group-prefix PREFIX] --adopt GROUP\n"
	        "       reconcile-groups [-n] [--instance NAME] --release KEY\n"
	        "       reconcile-groups -h | -V\n"
	        "\n"
	        "Reads matched roster records (match-users' output) on stdin, makes every\n"
	        "managed StrongDM group hold exactly the matched on-call people of its\n"
	        "schedule, and writes one change record per change, then an end record.\n"
	        "\n"
	        "  -n, --dry-run            plan and print the changes (status \"planned\"); write nothing\n"
	        "      --prune              empty and delete managed groups whose schedule is in no record\n"
	        "      --allow-empty        accept a stream naming no schedule (refused otherwise); with\n"
	        "                           --prune every managed group is emptied and deleted\n"
	        "      --instance NAME      manage only groups tagged oncall-sync-instance=NAME (and\n"
	        "                           tag the groups created so); without it, untagged ones\n"
	        "      --group-prefix PREFIX  group name = PREFIX + schedule name\n"
	        "      --max-changes N      more than N planned changes: change nothing, print them\n"
	        "                           \"held\", exit 3 (default: no limit; 0 allows none)\n"
	        "      --max-prune-share S  a stream of every schedule (fetch-oncall -a) whose prune\n"
	        "                           would delete more than this share (0-1) of the managed\n"
	        "                           groups, or all of them without --allow-empty: change\n"
	        "                           nothing, print the plan \"held\", exit 3 (default 0.5)\n"
	        "  -j, --jobs N             at most N StrongDM calls in flight (1-256, default 64)\n"
	        "      --groups FILE        plan against the groups in FILE (NDJSON, one group a\n"
	        "                           line: {\"id\",\"name\",\"tags\":{...},\"members\":[{\"id\",\n"
	        "                           \"account_id\",\"email\"?}]}) instead of StrongDM: a dry\n"
	        "                           run with no network and no credentials\n"
	        "      --adopt GROUP        make GROUP (an id or name, not managed) the managed group of\n"
	        "                           the one schedule or group spec of the input: add the\n"
	        "                           managed tags only; with -n, show what a sync would change\n"
	        "      --release KEY        empty the group managed for KEY (a schedule id, or\n"
	        "                           group:NAME for a spec's group) and take oncall-sync's tags\n"
	        "                           off it; it keeps its name and roles (reads no input)\n"
	        "  -h, --help               this help\n"
	        "  -V, --version            the version\n"
	        "\n"
	        "Environment: SDM_API_ACCESS_KEY, SDM_API_SECRET_KEY (or ..._FILE), SDM_API_HOST,\n"
	        "ONCALL_LOG. Exit: 0 done, 1 failed, 2 usage or credentials, 3 refused.\n");
}

/* An instance name: a short plain word, the same in a tag and in a filter. */
static int
instance_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* A share: a number from 0 to 1 ("0.5", "1", "0"). */
static int
parse_share(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

/* What is not out yet: the passed-on records, then (in the plan's stable
 * order) the changes whose records were not written as their writes were
 * answered: planned, held, or failed without a write. A change that a
 * signal kept from starting has no record. Then the end. */
static void
write_output(struct record_writer *w, const struct input *in, const struct plan *plan,
             int dry_run)
{
	size_t i;

	for (i = 0; !in->passed_written && i < in->n_passed; i++)
		record_write(w, in->passed[i]);
	for (i = 0; i < plan->n; i++) {
		cJSON *rec;
		if (plan->v[i].dropped || plan->v[i].written ||
		    (plan->v[i].status == CHANGE_PLANNED && !dry_run))
			continue;
		rec = change_to_json(&plan->v[i]);
		record_write(w, rec);
		cJSON_Delete(rec);
	}
	if (apply_stop)
		record_write_end(w, STAGE, NULL, 1);
	else
		record_write_end(w, STAGE, NULL, 0);
}

static void
on_signal(int sig)
{
	(void)sig;
	apply_stop = 1;
}

/* SIGTERM (systemctl stop) and SIGINT (Ctrl-C): start no new write, finish
 * those in flight and write their records, then an interrupted end. */
static void
catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void
log_summary(const struct plan *plan, const struct sdm_client *client)
{
	struct sdm_stats stats = {0};

	if (!log_enabled(LOG_INFO))
		return;
	if (client)
		sdm_client_stats(client, &stats);
	logmsg(LOG_INFO, "%zu changes (%zu done, %zu failed, %zu planned, %zu held); "
	       "%ld calls, %ld attempts, %ld rate-limited",
	       plan->n, plan_count(plan, CHANGE_DONE), plan_count(plan, CHANGE_FAILED),
	       plan_count(plan, CHANGE_PLANNED), plan_count(plan, CHANGE_HELD),
	       stats.calls, stats.attempts, stats.rate_limited);
}

/* --groups FILE: no StrongDM at all. */
static int
run_offline(const char *groups_path, const struct apply_opts *o)
{
	struct input in;
	struct groups_file gf;
	struct plan plan = {0};
	struct record_writer w;
	int status;

	if (input_read(&in, stdin, "<stdin>", o->allow_empty ? INPUT_ALLOW_EMPTY : 0)) {
		weprintf("refused: nothing changed");
		return EXIT_REFUSED;
	}
	if (groups_file_read(&gf, groups_path, &in, o->instance)) {
		weprintf("nothing planned: the groups file could not be read");
		status = EXIT_FAILED;
	} else {
		status = reconcile_offline(&in, &gf, o, &plan);
	}
	record_writer_init(&w, stdout);
	write_output(&w, &in, &plan, 1);
	log_summary(&plan, NULL);
	plan_clear(&plan);
	groups_file_clear(&gf);
	input_clear(&in);
	if (fshut_stdout() && status == EXIT_DONE)
		status = EXIT_FAILED;
	return status;
}

/* --adopt GROUP (the whole input read first) or --release KEY. */
static int
run_one_group(struct sdm_client *client, const char *adopt, const char *release,
              const struct apply_opts *o)
{
	struct input in;
	struct plan plan = {0};
	struct record_writer w;
	int status;

	if (adopt) {
		if (input_read(&in, stdin, "<stdin>", 0)) {
			weprintf("refused: nothing changed");
			return EXIT_REFUSED;
		}
		status = adopt_group(client, &in, adopt, o, &plan);
	} else {
		memset(&in, 0, sizeof in);
		status = release_group(client, release, o, &plan);
	}
	record_writer_init(&w, stdout);
	write_output(&w, &in, &plan, o->dry_run);
	plan_clear(&plan);
	input_clear(&in);
	if (fshut_stdout() && status == EXIT_DONE)
		status = EXIT_FAILED;
	return status;
}

int
main(int argc, char **argv)
{
	enum { OPT_PRUNE = 256, OPT_PREFIX, OPT_MAX, OPT_GROUPS, OPT_ALLOW_EMPTY, OPT_INSTANCE,
	       OPT_ADOPT, OPT_RELEASE, OPT_PRUNE_SHARE };
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"prune", no_argument, NULL, OPT_PRUNE},
		{"allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY},
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"group-prefix", required_argument, NULL, OPT_PREFIX},
		{"max-changes", required_argument, NULL, OPT_MAX},
		{"max-prune-share", required_argument, NULL, OPT_PRUNE_SHARE},
		{"jobs", required_argument, NULL, 'j'},
		{"groups", required_argument, NULL, OPT_GROUPS},
		{"adopt", required_argument, NULL, OPT_ADOPT},
		{"release", required_argument, NULL, OPT_RELEASE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	struct apply_opts o = { .max_changes = -1, .max_prune_share = PRUNE_SHARE_DEFAULT };
	struct sdm_config cfg = {0};
	struct sdm_client *client = NULL;
	struct input in;
	struct plan plan = {0};
	struct record_writer w;
	const char *groups_path = NULL, *adopt = NULL, *release = NULL;
	long jobs = JOBS_DEFAULT;
	char err[512];
	int ch, status, refused;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "nj:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o.dry_run = 1;
			break;
		case OPT_PRUNE:
			o.prune = 1;
			break;
		case OPT_ALLOW_EMPTY:
			o.allow_empty = 1;
			break;
		case OPT_INSTANCE:
			if (!instance_name_ok(optarg))
				usage_error("--instance wants 1 to 64 letters, digits, '.', '_' or '-', not \"%s\"",
				            optarg);
			o.instance = optarg;
			break;
		case OPT_PREFIX:
			o.group_prefix = optarg;
			break;
		case OPT_MAX:
			if (parse_long_range(optarg, 0, LONG_MAX, &o.max_changes))
				usage_error("--max-changes wants a whole number ≥ 0, not \"%s\"", optarg);
			break;
		case OPT_PRUNE_SHARE:
			if (parse_share(optarg, &o.max_prune_share))
				usage_error("--max-prune-share wants a number from 0 to 1, not \"%s\"", optarg);
			break;
		case 'j':
			if (parse_long_range(optarg, 1, JOBS_MAX, &jobs))
				usage_error("--jobs wants a whole number from 1 to %d, not \"%s\"", JOBS_MAX, optarg);
			break;
		case OPT_GROUPS:
			groups_path = optarg;
			break;
		case OPT_ADOPT:
			adopt = optarg;
			break;
		case OPT_RELEASE:
			release = optarg;
			break;
		case 'h':
			usage(stdout);
			return fshut_stdout() ? EXIT_FAILED : EXIT_DONE;
		case 'V':
			printf("reconcile-groups %s\n", ONCALL_VERSION);
			return fshut_stdout() ? EXIT_FAILED : EXIT_DONE;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if ((adopt || release) && (groups_path || o.prune || (adopt && release)))
		usage_error("--adopt and --release go alone (not with each other, --groups or --prune)");
	if (adopt && !*adopt)
		usage_error("--adopt wants a group id or name");
	if (release && !*release)
		usage_error("--release wants a schedule id, or group:NAME");
	if (groups_path) {
		o.dry_run = 1;
		return run_offline(groups_path, &o);
	}

	if (sdm_config_from_env(&cfg, err, sizeof err)) {
		weprintf("%s", err);
		return EXIT_USAGE;
	}
	cfg.max_inflight = (int)jobs;
	o.jobs = (int)jobs;
	record_writer_init(&w, stdout);
	o.out = &w;
	catch_stop_signals();
	if (!(client = sdm_client_new(&cfg, err, sizeof err))) {
		weprintf("%s", err);
		sdm_config_clear(&cfg);
		return EXIT_USAGE;
	}

	if (adopt || release) {
		status = run_one_group(client, adopt, release, &o);
		sdm_client_free(client);
		sdm_config_clear(&cfg);
		return status;
	}

	/* Safety rule 1: the whole input is read and checked before any write
	 * (the reads run meanwhile). */
	status = reconcile(client, stdin, "<stdin>", &in, &refused, &o, &plan);
	if (refused) {
		weprintf("refused: nothing changed");
		sdm_client_free(client);
		sdm_config_clear(&cfg);
		return EXIT_REFUSED;
	}
	write_output(&w, &in, &plan, o.dry_run);
	if (apply_stop && status == EXIT_DONE)
		status = EXIT_FAILED;
	log_summary(&plan, client);

	plan_clear(&plan);
	input_clear(&in);
	sdm_client_free(client);
	sdm_config_clear(&cfg);
	if (fshut_stdout() && status == EXIT_DONE)
		status = EXIT_FAILED;
	return status;
}
