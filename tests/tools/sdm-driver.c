/* sdm-driver: run StrongDM client calls from the command line, for the
 * end-to-end tests and the benchmark.
 *
 *   sdm-driver [-j N] [-r REPEAT] [-q] COMMAND [ARGS]
 *     accounts-list [--filter F] [--limit N]
 *     groups-list [--filter F] [--limit N]
 *     group-create NAME [TAG=VALUE...]
 *     group-update ID NAME [TAG=VALUE...]
 *     group-delete ID
 *     ag-list [--filter F] [--limit N]
 *     ag-create ACCOUNT GROUP
 *     ag-delete ID
 *     identity-sets-list [--filter F] [--limit N]
 *     aliases-list [--filter F] [--limit N]
 *     roles-list|gr-list [--filter F] [--limit N]
 *     gr-create GROUP ROLE
 *     gr-delete ID
 *     accounts-pages|ag-pages [--filter F] [--limit N] [--pages K]
 *       page by page (sdm_*_list_pages): each page's items, then a line
 *       {"page": I, "items": N, "more": true|false}; stops after K pages
 *
 * Items are printed on stdout as NDJSON; -r N queues the same call N times
 * at once (concurrency test; items of every run printed; group-create names
 * the groups "NAME 1".."NAME N"), -j N sets the calls in flight, -q prints
 * only the stats. The last line on stderr is "stats: {...}". Exit 1 with the error
 * message on failure, 2 for usage or configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "sdm.h"
#include "util.h"

static int quiet;
static int max_pages;          /* *-pages: stop after this many (0: all) */
static int pages_seen;
static long printed;
static int failures;

static void
emit(cJSON *o)
{
	char *s;

	printed++;
	if (!quiet) {
		s = cJSON_PrintUnformatted(o);
		puts(s);
		free(s);
	}
	cJSON_Delete(o);
}

static cJSON *
tags_json(const struct sdm_tags *t)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < t->n; i++)
		cJSON_AddStringToObject(o, t->v[i].name, t->v[i].value);
	return o;
}

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static int
report(const struct sdm_error *err)
{
	if (!err)
		return 0;
	weprintf("%s", err->message);
	failures++;
	return 1;
}

static cJSON *
group_json(const struct sdm_group *g)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "id", g->id);
	add_str(o, "name", g->name);
	add_str(o, "description", g->description);
	add_str(o, "source", g->source);
	cJSON_AddItemToObject(o, "tags", tags_json(&g->tags));
	return o;
}

static void
on_accounts(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		static const char *const kinds[] = { "?", "user", "service", "token" };

		add_str(o, "id", v[i].id);
		cJSON_AddStringToObject(o, "type", kinds[v[i].kind <= 3 ? v[i].kind : 0]);
		add_str(o, "email", v[i].email);
		add_str(o, "first_name", v[i].first_name);
		add_str(o, "last_name", v[i].last_name);
		add_str(o, "name", v[i].name);
		cJSON_AddBoolToObject(o, "suspended", v[i].suspended);
		cJSON_AddItemToObject(o, "tags", tags_json(&v[i].tags));
		emit(o);
	}
	sdm_accounts_free(v, n);
}

static int
page_line(size_t n, int more)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "page", ++pages_seen);
	cJSON_AddNumberToObject(o, "items", (double)n);
	cJSON_AddBoolToObject(o, "more", more);
	emit(o);
	return max_pages <= 0 || pages_seen < max_pages;
}

static int
on_accounts_page(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	if (err) {
		report(err);
		return 0;
	}
	on_accounts(user, v, n, NULL);
	return page_line(n, more);
}

static void on_account_groups(void *user, struct sdm_account_group *v, size_t n,
                              const struct sdm_error *err);

static int
on_account_groups_page(void *user, struct sdm_account_group *v, size_t n, int more,
                       const struct sdm_error *err)
{
	if (err) {
		report(err);
		return 0;
	}
	on_account_groups(user, v, n, NULL);
	return page_line(n, more);
}

static void
on_groups(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++)
		emit(group_json(&v[i]));
	sdm_groups_free(v, n);
}

static void
on_account_groups(void *user, struct sdm_account_group *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "id", v[i].id);
		add_str(o, "account_id", v[i].account_id);
		add_str(o, "group_id", v[i].group_id);
		emit(o);
	}
	sdm_account_groups_free(v, n);
}

static void
on_identity_sets(void *user, struct sdm_identity_set *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "id", v[i].id);
		add_str(o, "name", v[i].name);
		emit(o);
	}
	sdm_identity_sets_free(v, n);
}

static void
on_aliases(void *user, struct sdm_identity_alias *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "id", v[i].id);
		add_str(o, "account_id", v[i].account_id);
		add_str(o, "identity_set_id", v[i].identity_set_id);
		add_str(o, "username", v[i].username);
		emit(o);
	}
	sdm_identity_aliases_free(v, n);
}

static void
on_group(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	emit(group_json(g));
	sdm_groups_free(g, 1);
}

static void
on_account_group(void *user, struct sdm_account_group *ag, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	on_account_groups(NULL, ag, 1, NULL);
}

static void
on_done(void *user, const struct sdm_error *err)
{
	cJSON *o;

	if (report(err))
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "deleted", user);
	emit(o);
}

static void
on_roles(void *user, struct sdm_role *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "id", v[i].id);
		add_str(o, "name", v[i].name);
		add_str(o, "managed_by", v[i].managed_by);
		cJSON_AddItemToObject(o, "tags", tags_json(&v[i].tags));
		emit(o);
	}
	sdm_roles_free(v, n);
}

static void
on_group_roles(void *user, struct sdm_group_role *v, size_t n, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "id", v[i].id);
		add_str(o, "group_id", v[i].group_id);
		add_str(o, "role_id", v[i].role_id);
		emit(o);
	}
	sdm_group_roles_free(v, n);
}

static void
on_group_role(void *user, struct sdm_group_role *gr, const struct sdm_error *err)
{
	(void)user;
	if (report(err))
		return;
	on_group_roles(NULL, gr, 1, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sdm-driver [-j N] [-r REPEAT] [-q] COMMAND [ARGS]\n"
	        "  accounts-list|groups-list|ag-list|identity-sets-list|aliases-list [--filter F] [--limit N]\n"
	        "  accounts-pages|ag-pages [--filter F] [--limit N] [--pages K]\n"
	        "  group-create NAME [TAG=VALUE...] | group-update ID NAME [TAG=VALUE...]\n"
	        "  group-delete ID | ag-create ACCOUNT GROUP | ag-delete ID\n"
	        "  roles-list|gr-list [--filter F] [--limit N] | gr-create GROUP ROLE | gr-delete ID\n");
	exit(EXIT_USAGE);
}

static void
tags_from_args(struct sdm_tags *t, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		char *k;

		if (!eq)
			usage();
		k = estrndup(argv[i], (size_t)(eq - argv[i]));
		sdm_tags_set(t, k, eq + 1);
		free(k);
	}
}

int
main(int argc, char **argv)
{
	struct sdm_config cfg;
	struct sdm_client *c;
	struct sdm_stats st;
	char err[512];
	const char *cmd, *filter = NULL;
	int limit = 0, repeat = 1, inflight = 0, i;
	long long t0;

	log_init("sdm-driver");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") && i + 1 < argc)
			inflight = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-q"))
			quiet = 1;
		else
			usage();
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	argc -= i;
	argv += i;
	if (strstr(cmd, "-list") || strstr(cmd, "-pages")) {
		for (i = 0; i < argc; i++) {
			if (!strcmp(argv[i], "--filter") && i + 1 < argc)
				filter = argv[++i];
			else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
				limit = atoi(argv[++i]);
			else if (!strcmp(argv[i], "--pages") && i + 1 < argc)
				max_pages = atoi(argv[++i]);
			else
				usage();
		}
	}

	if (sdm_config_from_env(&cfg, err, sizeof err) < 0)
		die(EXIT_USAGE, "%s", err);
	if (inflight > 0)
		cfg.max_inflight = inflight;
	if (!(c = sdm_client_new(&cfg, err, sizeof err))) {
		sdm_config_clear(&cfg);
		die(EXIT_USAGE, "%s", err);
	}
	t0 = now_ms_monotonic();
	for (int r = 0; r < repeat; r++) {
		if (!strcmp(cmd, "accounts-list")) {
			sdm_accounts_list(c, filter, limit, on_accounts, NULL);
		} else if (!strcmp(cmd, "accounts-pages")) {
			sdm_accounts_list_pages(c, filter, limit, on_accounts_page, NULL);
		} else if (!strcmp(cmd, "ag-pages")) {
			sdm_account_groups_list_pages(c, filter, limit, on_account_groups_page, NULL);
		} else if (!strcmp(cmd, "groups-list")) {
			sdm_groups_list(c, filter, limit, on_groups, NULL);
		} else if (!strcmp(cmd, "ag-list")) {
			sdm_account_groups_list(c, filter, limit, on_account_groups, NULL);
		} else if (!strcmp(cmd, "identity-sets-list")) {
			sdm_identity_sets_list(c, filter, limit, on_identity_sets, NULL);
		} else if (!strcmp(cmd, "aliases-list")) {
			sdm_identity_aliases_list(c, filter, limit, on_aliases, NULL);
		} else if (!strcmp(cmd, "group-create") && argc >= 1) {
			struct sdm_group g = { 0 };
			char *name = repeat > 1 ? easprintf("%s %d", argv[0], r + 1) : estrdup(argv[0]);

			g.name = name;
			tags_from_args(&g.tags, argc - 1, argv + 1);
			sdm_group_create(c, &g, on_group, NULL);
			sdm_tags_clear(&g.tags);
			free(name);
		} else if (!strcmp(cmd, "group-update") && argc >= 2) {
			struct sdm_group g = { 0 };

			g.id = argv[0];
			g.name = argv[1];
			tags_from_args(&g.tags, argc - 2, argv + 2);
			sdm_group_update(c, &g, on_group, NULL);
			sdm_tags_clear(&g.tags);
		} else if (!strcmp(cmd, "group-delete") && argc == 1) {
			sdm_group_delete(c, argv[0], on_done, argv[0]);
		} else if (!strcmp(cmd, "ag-create") && argc == 2) {
			sdm_account_group_create(c, argv[0], argv[1], on_account_group, NULL);
		} else if (!strcmp(cmd, "ag-delete") && argc == 1) {
			sdm_account_group_delete(c, argv[0], on_done, argv[0]);
		} else if (!strcmp(cmd, "roles-list")) {
			sdm_roles_list(c, filter, limit, on_roles, NULL);
		} else if (!strcmp(cmd, "gr-list")) {
			sdm_group_roles_list(c, filter, limit, on_group_roles, NULL);
		} else if (!strcmp(cmd, "gr-create") && argc == 2) {
			sdm_group_role_create(c, argv[0], argv[1], on_group_role, NULL);
		} else if (!strcmp(cmd, "gr-delete") && argc == 1) {
			sdm_group_role_delete(c, argv[0], on_done, argv[0]);
		} else {
			sdm_client_free(c);
			sdm_config_clear(&cfg);
			usage();
		}
	}
	sdm_run(c);
	sdm_client_stats(c, &st);
	fprintf(stderr, "stats: {\"items\":%ld,\"calls\":%ld,\"pages\":%ld,\"attempts\":%ld,"
	        "\"retries\":%ld,\"rate_limited\":%ld,\"wall_ms\":%lld}\n",
	        printed, st.calls, st.pages, st.attempts, st.retries, st.rate_limited,
	        now_ms_monotonic() - t0);
	sdm_client_free(c);
	sdm_config_clear(&cfg);
	if (fshut_stdout() < 0)
		return EXIT_FAILED;
	return failures ? EXIT_FAILED : EXIT_DONE;
}
