/* accounts_file.c: StrongDM accounts from an NDJSON file (--accounts), for
 * offline debugging and benchmarks. One object per line:
 *   {"type":"user","id":"a-1","email":"alice@example.com","suspended":false}
 *   {"type":"service","id":"a-2","name":"ci-bot"}          (and "token")
 *   {"type":"alias","identity_set":"incidentio","username":"01F...","account_id":"a-1"}
 *   {"type":"identity_set","id":"ig-1","name":"incidentio"}
 * Other fields are ignored, so the "accounts" of a strongdm-sim world file
 * can be used as they are. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "ndjson.h"
#include "util.h"

struct candidate {
	char *set, *username, *account_id;
};

struct set_pair {
	char *id, *name;
};

struct file_ctx {
	struct match_index *idx;
	const char *name;
	long lineno;
	int alias_mode;
	int pass;               /* alias mode: 1 aliases and sets, 2 accounts */
	struct candidate *cand;
	size_t ncand, capcand;
	struct set_pair *pairs;
	size_t npairs, cappairs;
	char **sets;            /* distinct identity set names/ids seen */
	size_t nsets, capsets;
};

#define GROW(arr, n, cap) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 16; \
		(arr) = erealloc((arr), (cap) * sizeof *(arr)); \
	} \
} while (0)

static void
file_error(const struct file_ctx *f, const char *msg, const char *detail)
{
	weprintf("%s:%ld: %s%s", f->name, f->lineno, msg, detail ? detail : "");
}

static void
note_set(struct file_ctx *f, const char *s)
{
	for (size_t i = 0; i < f->nsets; i++)
		if (strcmp(f->sets[i], s) == 0)
			return;
	GROW(f->sets, f->nsets, f->capsets);
	f->sets[f->nsets++] = estrdup(s);
}

/* The string field key, or NULL after printing an error. */
static const char *
need_str(const struct file_ctx *f, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		char msg[128];
		snprintf(msg, sizeof msg, "\"%s\" must be a non-empty string", key);
		file_error(f, msg, NULL);
		return NULL;
	}
	return v->valuestring;
}

static int
account_line(struct file_ctx *f, const cJSON *o, enum match_kind kind)
{
	const char *id = need_str(f, o, "id");
	const cJSON *email = cJSON_GetObjectItemCaseSensitive(o, "email");
	const cJSON *susp = cJSON_GetObjectItemCaseSensitive(o, "suspended");

	if (!id)
		return -1;
	if (email && !cJSON_IsNull(email) && !cJSON_IsString(email)) {
		file_error(f, "\"email\" must be a string", NULL);
		return -1;
	}
	if (susp && !cJSON_IsNull(susp) && !cJSON_IsBool(susp)) {
		file_error(f, "\"suspended\" must be true or false", NULL);
		return -1;
	}
	if (f->alias_mode && f->pass == 1)
		return 0;
	match_add_account(f->idx, id, kind, cJSON_IsString(email) ? email->valuestring : NULL,
	                  cJSON_IsTrue(susp));
	return 0;
}

static int
alias_line(struct file_ctx *f, const cJSON *o)
{
	const char *set = need_str(f, o, "identity_set");
	const char *user = set ? need_str(f, o, "username") : NULL;
	const char *acc = user ? need_str(f, o, "account_id") : NULL;

	if (!acc)
		return -1;
	if (!f->alias_mode || f->pass != 1)
		return 0;
	note_set(f, set);
	if (match_key_find(f->idx, user) < 0)
		return 0;   /* nobody on call has this id: not kept */
	GROW(f->cand, f->ncand, f->capcand);
	f->cand[f->ncand++] = (struct candidate){ estrdup(set), estrdup(user), estrdup(acc) };
	return 0;
}

static int
set_line(struct file_ctx *f, const cJSON *o)
{
	const char *id = need_str(f, o, "id");
	const char *name = id ? need_str(f, o, "name") : NULL;

	if (!name)
		return -1;
	if (!f->alias_mode || f->pass != 1)
		return 0;
	note_set(f, name);
	GROW(f->pairs, f->npairs, f->cappairs);
	f->pairs[f->npairs++] = (struct set_pair){ estrdup(id), estrdup(name) };
	return 0;
}

static int
one_line(struct file_ctx *f, const char *line, size_t n)
{
	cJSON *o = cJSON_ParseWithLength(line, n);
	const char *type;
	int rc = -1;

	if (!cJSON_IsObject(o)) {
		file_error(f, o ? "not a JSON object" : "invalid JSON", NULL);
		goto out;
	}
	type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
	if (!type)
		file_error(f, "no string \"type\"", NULL);
	else if (strcmp(type, "user") == 0)
		rc = account_line(f, o, MATCH_USER);
	else if (strcmp(type, "service") == 0)
		rc = account_line(f, o, MATCH_SERVICE);
	else if (strcmp(type, "token") == 0)
		rc = account_line(f, o, MATCH_TOKEN);
	else if (strcmp(type, "alias") == 0)
		rc = alias_line(f, o);
	else if (strcmp(type, "identity_set") == 0)
		rc = set_line(f, o);
	else
		file_error(f, "unknown type (user, service, token, alias or identity_set): ", type);
out:
	cJSON_Delete(o);
	return rc;
}

/* Runs one_line over every line; copies the lines to copy when given.
 * Lines are read by lib/ndjson's bounded reader: one longer than
 * NDJSON_MAX_LINE is refused with its line number, never held whole. */
static int
read_lines(struct file_ctx *f, FILE *fp, FILE *copy)
{
	struct ndjson_reader r;
	size_t n;
	int got, rc = 0;

	ndjson_reader_init(&r, fp, f->name);
	f->lineno = 0;
	while ((got = ndjson_read_line(&r, &n)) > 0) {
		f->lineno = r.lineno;
		if (copy && fwrite(r.line, 1, n, copy) != n) {
			weprintf("temporary file:");
			rc = -1;
			break;
		}
		while (n > 0 && (r.line[n - 1] == '\n' || r.line[n - 1] == '\r'))
			n--;
		if (one_line(f, r.line, n)) {
			rc = -1;
			break;
		}
	}
	if (got < 0)
		rc = -1;   /* said: a read error or a line over the limit */
	ndjson_reader_clear(&r);
	return rc;
}

/* Does the set named s in an alias line mean the requested set want? */
static int
same_set(const struct file_ctx *f, const char *s, const char *want)
{
	if (strcmp(s, want) == 0)
		return 1;
	for (size_t i = 0; i < f->npairs; i++)
		if ((strcmp(f->pairs[i].id, s) == 0 && strcmp(f->pairs[i].name, want) == 0) ||
		    (strcmp(f->pairs[i].name, s) == 0 && strcmp(f->pairs[i].id, want) == 0))
			return 1;
	return 0;
}

static int
resolve_set(struct file_ctx *f, const char *want)
{
	struct buf known = { 0 };
	int found = 0;

	for (size_t i = 0; i < f->nsets && !found; i++)
		found = same_set(f, f->sets[i], want);
	for (size_t i = 0; i < f->npairs && !found; i++)
		found = strcmp(f->pairs[i].id, want) == 0;
	if (found)
		return 0;
	for (size_t i = 0; i < f->nsets; i++) {
		const char *id = NULL;
		int is_id = 0;
		for (size_t j = 0; j < f->npairs; j++) {
			if (strcmp(f->pairs[j].id, f->sets[i]) == 0)
				is_id = 1;
			if (strcmp(f->pairs[j].name, f->sets[i]) == 0)
				id = f->pairs[j].id;
		}
		if (is_id)
			continue;   /* shown with its name */
		buf_printf(&known, "%s%s", known.len ? ", " : "", f->sets[i]);
		if (id)
			buf_printf(&known, " (%s)", id);
	}
	weprintf("identity set %s not found in %s; the sets there: %s", want, f->name,
	         known.len ? known.data : "none");
	buf_clear(&known);
	return -1;
}

static void
ctx_clear(struct file_ctx *f)
{
	for (size_t i = 0; i < f->ncand; i++) {
		free(f->cand[i].set);
		free(f->cand[i].username);
		free(f->cand[i].account_id);
	}
	for (size_t i = 0; i < f->npairs; i++) {
		free(f->pairs[i].id);
		free(f->pairs[i].name);
	}
	for (size_t i = 0; i < f->nsets; i++)
		free(f->sets[i]);
	free(f->cand);
	free(f->pairs);
	free(f->sets);
}

int
accounts_read_file(struct match_index *idx, FILE *fp, const char *name,
                   const struct accounts_opts *o)
{
	struct file_ctx f = { .idx = idx, .name = name };
	FILE *copy = NULL, *again = fp;
	int rc = EXIT_FAILED;

	f.alias_mode = match_index_by(idx) == MATCH_BY_ALIAS;
	if (!f.alias_mode) {
		if (read_lines(&f, fp, NULL) == 0)
			rc = 0;
		goto out;
	}
	/* Alias mode reads twice: the aliases first tell which accounts to
	 * keep. A pipe is copied to a temporary file for the second read. */
	f.pass = 1;
	if (fseek(fp, 0, SEEK_SET) != 0) {
		if (!(copy = tmpfile())) {
			weprintf("temporary file:");
			goto out;
		}
		again = copy;
	}
	if (read_lines(&f, fp, copy))
		goto out;
	if (resolve_set(&f, o->identity_set)) {
		rc = EXIT_USAGE;
		goto out;
	}
	match_set_identity_set(idx, o->identity_set);
	for (size_t i = 0; i < f.ncand; i++)
		if (same_set(&f, f.cand[i].set, o->identity_set))
			match_add_alias(idx, f.cand[i].username, f.cand[i].account_id);
	if ((copy && fflush(copy) == EOF) || fseek(again, 0, SEEK_SET) != 0) {
		weprintf("%s: cannot read again:", name);
		goto out;
	}
	f.pass = 2;
	if (read_lines(&f, again, NULL) == 0)
		rc = 0;
out:
	if (copy)
		fclose(copy);
	ctx_clear(&f);
	return rc;
}
