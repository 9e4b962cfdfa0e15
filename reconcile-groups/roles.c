/* roles.c: reading roles and group role attachments (see roles.h). */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "apply.h"
#include "roles.h"

static void
on_roles(void *user, struct sdm_role *v, size_t n, const struct sdm_error *err)
{
	struct role_reads *rr = user;

	if (err && err->code != SDM_OK) {
		weprintf("listing roles (for the roles of group specs): %s", err->message);
		rr->failed = 1;
		return;
	}
	rr->roles = v;
	rr->n_roles = n;
}

static void
on_attachments(void *user, struct sdm_group_role *v, size_t n, const struct sdm_error *err)
{
	struct role_reads *rr = user;
	size_t i;

	if (err && err->code != SDM_OK) {
		weprintf("listing the roles attached to a group: %s", err->message);
		rr->failed = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!v[i].id || !v[i].group_id || !v[i].role_id) {
			sdm_group_role_clear(&v[i]);
			continue;
		}
		if (rr->n_atts == rr->cap_atts) {
			rr->cap_atts = rr->cap_atts ? 2 * rr->cap_atts : 16;
			rr->atts = erealloc(rr->atts, rr->cap_atts * sizeof *rr->atts);
		}
		rr->atts[rr->n_atts++] = v[i];
	}
	free(v);
}

static int
cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every attachment: keep those of the groups wanted. */
static void
on_all_attachments(void *user, struct sdm_group_role *v, size_t n, const struct sdm_error *err)
{
	struct role_reads *rr = user;
	size_t i;

	if (!err || err->code == SDM_OK)
		for (i = 0; i < n; i++)
			if (!v[i].group_id ||
			    !bsearch(&v[i].group_id, rr->want, rr->n_want, sizeof *rr->want, cmp_str_ptr)) {
				sdm_group_role_clear(&v[i]);
				v[i].group_id = NULL;
			}
	on_attachments(user, v, n, err);
}

void
role_reads_start(struct role_reads *rr, struct sdm_client *c, const char *const *group_ids,
                 size_t n)
{
	size_t i;

	memset(rr, 0, sizeof *rr);
	sdm_roles_list(c, NULL, LIST_LIMIT, on_roles, rr);
	if (n > ROLE_LIST_PER_GROUP_MAX) {
		rr->want = ecalloc(n + 1, sizeof *rr->want);
		for (i = 0; i < n; i++)
			rr->want[i] = estrdup(group_ids[i]);
		rr->n_want = n;
		qsort(rr->want, n, sizeof *rr->want, cmp_str_ptr);
		sdm_group_roles_list(c, NULL, LIST_LIMIT, on_all_attachments, rr);
		return;
	}
	for (i = 0; i < n; i++) {
		struct buf f = {0};
		sdm_filter_add(&f, "groupid", group_ids[i]);
		sdm_group_roles_list(c, f.data, LIST_LIMIT, on_attachments, rr);
		buf_clear(&f);
	}
}

const struct plan_role *
role_reads_known(struct role_reads *rr, size_t *n)
{
	size_t i, k = 0;

	free(rr->known);
	rr->known = ecalloc(rr->n_roles + 1, sizeof *rr->known);
	for (i = 0; i < rr->n_roles; i++)
		if (rr->roles[i].id) {
			rr->known[k].id = rr->roles[i].id;
			rr->known[k++].name = rr->roles[i].name;
		}
	*n = k;
	return rr->known;
}

static const char *
role_name(const struct role_reads *rr, const char *id)
{
	size_t i;

	for (i = 0; i < rr->n_roles; i++)
		if (rr->roles[i].id && strcmp(rr->roles[i].id, id) == 0)
			return rr->roles[i].name;
	return NULL;
}

void
role_reads_fill_groups(struct role_reads *rr, struct plan_group *g, size_t n)
{
	size_t i, j, at = 0;

	free(rr->patts);
	rr->patts = ecalloc(rr->n_atts + 1, sizeof *rr->patts);
	for (i = 0; i < n; i++) {
		g[i].roles = rr->patts + at;
		g[i].n_roles = 0;
		for (j = 0; j < rr->n_atts && at < rr->n_atts; j++) {
			if (strcmp(rr->atts[j].group_id, g[i].id) != 0)
				continue;
			rr->patts[at].id = rr->atts[j].id;
			rr->patts[at].role_id = rr->atts[j].role_id;
			rr->patts[at].role_name = role_name(rr, rr->atts[j].role_id);
			at++;
			g[i].n_roles++;
		}
	}
}

void
role_reads_clear(struct role_reads *rr)
{
	sdm_roles_free(rr->roles, rr->n_roles);
	sdm_group_roles_free(rr->atts, rr->n_atts);
	free(rr->known);
	free(rr->patts);
	for (size_t i = 0; i < rr->n_want; i++)
		free(rr->want[i]);
	free(rr->want);
	memset(rr, 0, sizeof *rr);
}
