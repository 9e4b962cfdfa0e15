/* reconcile-groups: make StrongDM's managed groups match the matched rosters.
 *
 * Reads the whole matched stream (match-users' output) and checks it, reads
 * the managed groups from StrongDM, plans, writes the changes, and prints one
 * change record per change and its own end record. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "ndjson.h"
#include "sdm.h"
#include "input.h"
#include "plan.h"
#include "apply.h"

#ifndef ONCALL_VERSION
#define ONCALL_VERSION "dev"
#endif

#define STAGE "reconcile-groups"

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: reconcile-groups [-n] [--prune] [--group-prefix PREFIX] [--max-changes N]\n"
	        "       reconcile-groups -h | -V\n"
	        "\n"
	        "Reads matched roster records (match-users' output) on stdin, makes every\n"
	        "managed StrongDM group hold exactly the matched on-call people of its\n"
	        "schedule, and writes one change record per change, then an end record.\n"
	        "\n"
	        "  -n, --dry-run            plan and print the changes (status \"planned\"); write nothing\n"
	        "      --prune              empty and delete managed groups whose schedule is in no record\n"
	        "      --group-prefix PREFIX  group name = PREFIX + schedule name\n"
	        "      --max-changes N      more than N planned changes: change nothing, print them\n"
	        "                           \"held\", exit 3 (default: no limit; 0 allows none)\n"
	        "  -h, --help               this help\n"
	        "  -V, --version            the version\n"
	        "\n"
	        "Environment: SDM_API_ACCESS_KEY, SDM_API_SECRET_KEY (or ..._FILE), SDM_API_HOST,\n"
	        "ONCALL_LOG. Exit: 0 done, 1 failed, 2 usage or credentials, 3 refused.\n");
}

static int
parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_PRUNE = 256, OPT_PREFIX, OPT_MAX };
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"prune", no_argument, NULL, OPT_PRUNE},
		{"group-prefix", required_argument, NULL, OPT_PREFIX},
		{"max-changes", required_argument, NULL, OPT_MAX},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	struct apply_opts o = {NULL, 0, 0, -1};
	struct sdm_config cfg = {0};
	struct sdm_client *client = NULL;
	struct input in;
	struct plan plan = {0};
	struct ndjson_writer w;
	char err[512];
	int ch, status;
	size_t i;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "nhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o.dry_run = 1;
			break;
		case OPT_PRUNE:
			o.prune = 1;
			break;
		case OPT_PREFIX:
			o.group_prefix = optarg;
			break;
		case OPT_MAX:
			if (parse_count(optarg, &o.max_changes)) {
				weprintf("--max-changes wants a whole number ≥ 0, not \"%s\"", optarg);
				return EXIT_USAGE;
			}
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
	if (optind < argc) {
		weprintf("unexpected argument \"%s\"", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	if (sdm_config_from_env(&cfg, err, sizeof err)) {
		weprintf("%s", err);
		return EXIT_USAGE;
	}

	/* Safety rule 1: the whole input is read and checked before any call. */
	if (input_read(&in, stdin, "<stdin>")) {
		weprintf("refused: nothing changed");
		sdm_config_free(&cfg);
		return EXIT_REFUSED;
	}

	if (!(client = sdm_client_new(&cfg, err, sizeof err))) {
		weprintf("%s", err);
		input_free(&in);
		sdm_config_free(&cfg);
		return EXIT_USAGE;
	}
	status = reconcile(client, &in, &o, &plan);

	ndjson_writer_init(&w, stdout);
	for (i = 0; i < in.n_passed; i++)
		ndjson_write(&w, in.passed[i]);
	for (i = 0; i < plan.n; i++) {
		cJSON *rec = change_to_json(&plan.v[i]);
		ndjson_write(&w, rec);
		cJSON_Delete(rec);
	}
	ndjson_write_end(&w, STAGE);
	if (log_enabled(LOG_INFO)) {
		struct sdm_stats stats;
		sdm_client_stats(client, &stats);
		logmsg(LOG_INFO, "%zu changes (%zu done, %zu failed, %zu planned, %zu held); "
		       "%ld calls, %ld attempts, %ld rate-limited",
		       plan.n, plan_count(&plan, CHANGE_DONE), plan_count(&plan, CHANGE_FAILED),
		       plan_count(&plan, CHANGE_PLANNED), plan_count(&plan, CHANGE_HELD),
		       stats.calls, stats.attempts, stats.rate_limited);
	}

	plan_free(&plan);
	input_free(&in);
	sdm_client_free(client);
	sdm_config_free(&cfg);
	if (fshut_stdout() && status == EXIT_DONE)
		status = EXIT_FAILED;
	return status;
}
