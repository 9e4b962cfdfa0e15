/* roster.c: checking a roster record and adding the matches to it. */
#include <stdlib.h>
#include <string.h>

#include "fastjson.h"
#include "roster.h"
#include "util.h"

static int
entry_error(const struct ndjson_reader *r, int i, const char *what)
{
	ndjson_error(r, "roster \"oncall\" entry %d %s", i + 1, what);
	return -1;
}

static int
optional_string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return !v || cJSON_IsNull(v) || cJSON_IsString(v);
}

/* The fields of an on-call entry, found in one walk over its members (a
 * million entries make cJSON's lookup-by-name add up). */
struct entry {
	const cJSON *id, *email, *name;
	int annotated;          /* has "account" or "unmatched" already */
};

static void
entry_fields(const cJSON *e, struct entry *f)
{
	const cJSON *c;

	memset(f, 0, sizeof *f);
	for (c = e->child; c; c = c->next) {
		const char *k = c->string;
		switch (k[0]) {
		case 'i':
			if (strcmp(k, "id") == 0)
				f->id = c;
			break;
		case 'e':
			if (strcmp(k, "email") == 0)
				f->email = c;
			break;
		case 'n':
			if (strcmp(k, "name") == 0)
				f->name = c;
			break;
		case 'a':
			if (strcmp(k, "account") == 0)
				f->annotated = 1;
			break;
		case 'u':
			if (strcmp(k, "unmatched") == 0)
				f->annotated = 1;
			break;
		case 'r':
			if (strcmp(k, "reason") == 0)
				f->annotated = 1;
			break;
		}
	}
}

static int
null_or_string(const cJSON *v)
{
	return !v || cJSON_IsNull(v) || cJSON_IsString(v);
}

static const char *
str_of(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
roster_check(const struct ndjson_reader *r, const cJSON *roster)
{
	const cJSON *sched, *oncall, *e;
	int i = 0;

	if (json_expect_object(r, roster, "schedule", 1))
		return -1;
	sched = cJSON_GetObjectItemCaseSensitive(roster, "schedule");
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sched, "id")) ||
	    !cJSON_GetObjectItemCaseSensitive(sched, "id")->valuestring[0]) {
		ndjson_error(r, "roster \"schedule\" has no string \"id\"");
		return -1;
	}
	if (!optional_string(sched, "name")) {
		ndjson_error(r, "roster \"schedule\" \"name\" must be a string");
		return -1;
	}
	/* Known fields this stage does not use are still checked (DESIGN.md,
	 * safety 1): a wrong type means the stream is not what it claims. */
	if (json_expect_string(r, roster, "at", 0) || json_expect_object(r, roster, "window", 0))
		return -1;
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(roster, "window"))) {
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(roster, "window");
		if (!optional_string(w, "from") || !optional_string(w, "to")) {
			ndjson_error(r, "roster \"window\" \"from\" and \"to\" must be strings");
			return -1;
		}
	}
	if (json_expect_array(r, roster, "oncall", 1))
		return -1;
	oncall = cJSON_GetObjectItemCaseSensitive(roster, "oncall");
	cJSON_ArrayForEach(e, oncall) {
		struct entry f;
		if (!cJSON_IsObject(e))
			return entry_error(r, i, "is not an object");
		entry_fields(e, &f);
		if (!cJSON_IsString(f.id) || !f.id->valuestring[0])
			return entry_error(r, i, "has no string \"id\"");
		if (!null_or_string(f.email))
			return entry_error(r, i, "\"email\" must be a string");
		if (!null_or_string(f.name))
			return entry_error(r, i, "\"name\" must be a string");
		if (!null_or_string(cJSON_GetObjectItemCaseSensitive(e, "until")))
			return entry_error(r, i, "\"until\" must be a string");
		i++;
	}
	return 0;
}

int
roster_need(struct match_index *idx, const cJSON *roster, struct buf *scratch, struct buf *keys)
{
	const cJSON *e;
	int simple = 1;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(roster, "oncall")) {
		struct entry f;
		const char *key;
		int32_t k;
		entry_fields(e, &f);
		key = match_person_key(idx, str_of(f.id), str_of(f.email), scratch);
		k = key ? (int32_t)match_need(idx, key) : -1;
		if (keys)
			buf_append(keys, &k, sizeof k);
		if (f.annotated)
			simple = 0;
	}
	return simple;
}

const char *
roster_schedule_label(const cJSON *roster)
{
	const cJSON *sched = cJSON_GetObjectItemCaseSensitive(roster, "schedule");
	const char *name = json_str(sched, "name");

	return name && *name ? name : json_str(sched, "id");
}

static void
warn_person(const struct match_index *idx, const char *label, const cJSON *e,
            const struct match_result *res, roster_warn_fn warn, void *user)
{
	struct buf w = { 0 };
	const char *name = json_str(e, "name"), *email = json_str(e, "email");
	const char *id = json_str(e, "id");

	if (!id)
		id = "?";
	buf_printf(&w, "%s: %s (", label ? label : "?", name && *name ? name : id);
	if (email && *email)
		buf_printf(&w, "%s, ", email);
	buf_printf(&w, "%s): ", id);
	match_hint(idx, res, &w);
	warn(user, w.data);
	buf_clear(&w);
}

const char *
roster_annotate(const struct match_index *idx, cJSON *roster, struct buf *scratch,
                roster_warn_fn warn, void *user, const char **code)
{
	cJSON *oncall = cJSON_GetObjectItemCaseSensitive(roster, "oncall"), *e;
	struct buf reason = { 0 };

	/* A failed look-up anywhere turns the whole roster into an error:
	 * look before changing anything. */
	if (match_failed_all(idx)) {
		if (code)
			*code = match_failed_all_code(idx);
		return match_failed_all(idx);
	}
	cJSON_ArrayForEach(e, oncall) {
		const char *key = match_person_key(idx, json_str(e, "id"), json_str(e, "email"),
		                                   scratch);
		struct match_result res = match_person(idx, key);
		if (res.status == MATCH_FAILED) {
			if (code)
				*code = res.error_code;
			return res.error;
		}
	}
	cJSON_ArrayForEach(e, oncall) {
		const char *key = match_person_key(idx, json_str(e, "id"), json_str(e, "email"),
		                                   scratch);
		struct match_result res = match_person(idx, key);
		cJSON_DeleteItemFromObjectCaseSensitive(e, "account");
		cJSON_DeleteItemFromObjectCaseSensitive(e, "unmatched");
		cJSON_DeleteItemFromObjectCaseSensitive(e, "reason");
		if (res.status == MATCH_OK) {
			cJSON *acc = cJSON_AddObjectToObject(e, "account");
			if (!acc || !cJSON_AddStringToObject(acc, "id", res.account->id) ||
			    !cJSON_AddStringToObject(acc, "email",
			                             res.account->email ? res.account->email : ""))
				die(EXIT_FAILED, "out of memory");
		} else {
			reason.len = 0;
			match_reason(idx, &res, &reason);
			if (!cJSON_AddStringToObject(e, "unmatched", reason.data) ||
			    !cJSON_AddStringToObject(e, "reason", match_reason_code(&res)))
				die(EXIT_FAILED, "out of memory");
			if (warn)
				warn_person(idx, roster_schedule_label(roster), e, &res, warn, user);
		}
	}
	buf_clear(&reason);
	return NULL;
}

cJSON *
roster_error(const cJSON *roster, const char *code, const char *message)
{
	cJSON *rec = cJSON_CreateObject();
	cJSON *sched = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(roster, "schedule"), 1);
	char *msg = easprintf("StrongDM: %s", message);

	if (!rec || !sched || !cJSON_AddStringToObject(rec, "type", "error") ||
	    !cJSON_AddStringToObject(rec, "stage", "match-users") ||
	    !cJSON_AddItemToObject(rec, "schedule", sched) ||
	    !cJSON_AddStringToObject(rec, "code", code ? code : "failed") ||
	    !cJSON_AddStringToObject(rec, "message", msg))
		die(EXIT_FAILED, "out of memory");
	free(msg);
	return rec;
}

/* Text that cJSON prints as it is between quotes (no '"', '\\' or
 * control byte to escape). */
static int
plain(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* A copy of b's text of just its size: many are kept, and a buffer
 * shrunk by realloc leaves holes behind. */
static char *
keep(const struct buf *b)
{
	char *s = emalloc(b->len + 1);

	memcpy(s, b->data, b->len + 1);
	return s;
}

/* ,"account":{...} or ,"unmatched":"..." for one verdict; scratch is
 * reused from one call to the next. */
static char *
verdict_text(const struct match_index *idx, const struct match_result *res, size_t *len,
             struct buf *scratch)
{
	cJSON *o, *acc;
	struct buf reason = { 0 };
	char *s;

	/* Most often there is nothing to escape: no need for cJSON. */
	scratch->len = 0;
	if (res->status == MATCH_OK) {
		const char *email = res->account->email ? res->account->email : "";
		if (plain(res->account->id) && plain(email)) {
			buf_puts(scratch, ",\"account\":{\"id\":\"");
			buf_puts(scratch, res->account->id);
			buf_puts(scratch, "\",\"email\":\"");
			buf_puts(scratch, email);
			buf_puts(scratch, "\"}");
			*len = scratch->len;
			return keep(scratch);
		}
	} else {
		buf_puts(scratch, ",\"unmatched\":\"");
		match_reason(idx, res, scratch);
		if (plain(scratch->data + sizeof(",\"unmatched\":\"") - 1)) {
			buf_puts(scratch, "\",\"reason\":\"");
			buf_puts(scratch, match_reason_code(res));
			buf_puts(scratch, "\"");
			*len = scratch->len;
			return keep(scratch);
		}
	}
	o = cJSON_CreateObject();

	if (!o)
		die(EXIT_FAILED, "out of memory");
	if (res->status == MATCH_OK) {
		if (!(acc = cJSON_AddObjectToObject(o, "account")) ||
		    !cJSON_AddStringToObject(acc, "id", res->account->id) ||
		    !cJSON_AddStringToObject(acc, "email",
		                             res->account->email ? res->account->email : ""))
			die(EXIT_FAILED, "out of memory");
	} else {
		match_reason(idx, res, &reason);
		if (!cJSON_AddStringToObject(o, "unmatched", reason.data ? reason.data : "") ||
		    !cJSON_AddStringToObject(o, "reason", match_reason_code(res)))
			die(EXIT_FAILED, "out of memory");
	}
	if (!(s = cJSON_PrintUnformatted(o)))
		die(EXIT_FAILED, "out of memory");
	cJSON_Delete(o);
	buf_clear(&reason);
	/* "{...}" -> ",...": the braces go, a comma leads. */
	*len = strlen(s) - 1;
	s[0] = ',';
	s[*len] = '\0';
	return s;
}

void
roster_verdicts_init(struct roster_verdicts *v, const struct match_index *idx)
{
	struct match_result res;

	memset(v, 0, sizeof *v);
	v->idx = idx;
	v->n = match_key_count(idx);
	v->text = ecalloc(v->n ? v->n : 1, sizeof *v->text);
	v->len = ecalloc(v->n ? v->n : 1, sizeof *v->len);
	v->status = ecalloc(v->n ? v->n : 1, sizeof *v->status);
	for (size_t i = 0; i < v->n; i++) {
		res = match_person_at(idx, (long)i);
		v->status[i] = (unsigned char)res.status;
		if (res.status != MATCH_FAILED)
			v->text[i] = verdict_text(idx, &res, &v->len[i], &v->warning);
	}
	res = match_person_at(idx, -1);
	v->none_status = (unsigned char)res.status;
	v->none = verdict_text(idx, &res, &v->none_len, &v->warning);
}

void
roster_verdicts_free(struct roster_verdicts *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->text[i]);
		if (v->hint)
			free(v->hint[i]);
	}
	free(v->hint);
	free(v->hint_len);
	free(v->hint_none);
	free(v->ents);
	buf_clear(&v->warning);
	buf_clear(&v->hint_scratch);
	free(v->text);
	free(v->len);
	free(v->status);
	free(v->none);
	free(v->starts);
	free(v->ends);
	memset(v, 0, sizeof *v);
}

static size_t
skip_string(const char *s, size_t n, size_t i, int *escaped)
{
	/* s[i] is the opening quote; returns the index of the closing one. */
	for (i++; i < n; i++) {
		if (s[i] == '\\') {
			*escaped = 1;
			i++;
		} else if (s[i] == '"') {
			break;
		}
	}
	return i;
}

long
roster_scan_oncall(const char *s, size_t n, size_t *starts, size_t *ends, size_t max)
{
	int depth = 0, expect_key = 0, in_oncall = 0, next_is_oncall = 0;
	long count = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		switch (c) {
		case '"': {
			int escaped = 0;
			size_t end = skip_string(s, n, i, &escaped);
			if (depth == 1 && expect_key) {
				if (escaped)
					return -1;  /* a key we would have to decode */
				next_is_oncall = end - i - 1 == 6 && memcmp(s + i + 1, "oncall", 6) == 0;
				expect_key = 0;
			}
			i = end;
			break;
		}
		case '{':
		case '[':
			if (in_oncall && depth == 2) {
				if (c != '{' || (size_t)count >= max)
					return -1;
				starts[count] = i;
			}
			depth++;
			if (depth == 1)
				expect_key = 1;
			if (depth == 2 && next_is_oncall) {
				if (c != '[')
					return -1;
				in_oncall = 1;
			}
			break;
		case '}':
		case ']':
			depth--;
			if (in_oncall && depth == 2)
				ends[count++] = i;
			else if (in_oncall && depth == 1)
				in_oncall = next_is_oncall = 0;
			break;
		case ',':
			if (depth == 1) {
				expect_key = 1;
				next_is_oncall = 0;
			}
			break;
		case ':':
			break;
		default:
			if (in_oncall && depth == 2 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
				return -1;  /* a scalar element */
			break;
		}
	}
	return count;
}

/* The hint (match_hint) for key k, -1: none; made once per key. */
static const char *
hint_of(struct roster_verdicts *v, int32_t k, size_t *len)
{
	char **slot = k >= 0 ? &v->hint[k] : &v->hint_none;
	size_t *slen = k >= 0 ? &v->hint_len[k] : &v->hint_none_len;

	if (!*slot) {
		struct match_result res = match_person_at(v->idx, k);
		v->hint_scratch.len = 0;
		buf_puts(&v->hint_scratch, "");
		match_hint(v->idx, &res, &v->hint_scratch);
		*slot = keep(&v->hint_scratch);
		*slen = v->hint_scratch.len;
	}
	*len = *slen;
	return *slot;
}

/* warn_person for the entry text e (n bytes), without parsing it when its
 * fields have no escapes. */
static void
warn_entry(struct roster_verdicts *v, const char *label, const char *e, size_t n, int32_t k,
           roster_warn_fn warn, void *user)
{
	struct fj_str id, email, name;
	struct buf *w = &v->warning;
	const char *hint;
	size_t hl;

	if (fj_entry_fields(e, n, &id, &email, &name) || !id.s || id.esc ||
	    (email.s && email.esc) || (name.s && name.esc)) {
		/* Rare: let cJSON decode it. */
		cJSON *ej = cJSON_ParseWithLength(e, n);
		struct match_result res = match_person_at(v->idx, k);
		warn_person(v->idx, label, ej, &res, warn, user);
		cJSON_Delete(ej);
		return;
	}
	if (!v->hint) {
		v->hint = ecalloc(v->n ? v->n : 1, sizeof *v->hint);
		v->hint_len = ecalloc(v->n ? v->n : 1, sizeof *v->hint_len);
	}
	hint = hint_of(v, k, &hl);
	w->len = 0;
	buf_puts(w, label ? label : "?");
	buf_append(w, ": ", 2);
	if (name.s && name.n)
		buf_append(w, name.s, name.n);
	else
		buf_append(w, id.s, id.n);
	buf_append(w, " (", 2);
	if (email.s && email.n) {
		buf_append(w, email.s, email.n);
		buf_append(w, ", ", 2);
	}
	buf_append(w, id.s, id.n);
	buf_append(w, "): ", 3);
	buf_append(w, hint, hl);
	warn(user, w->data);
}

int
roster_write_at(struct buf *out, const char *line, size_t len,
                const struct roster_entry *ents, size_t n, const char *label,
                struct roster_verdicts *v, roster_warn_fn warn, void *user)
{
	size_t pos = 0;

	if (match_failed_all(v->idx))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (ents[i].key >= 0 &&
		    ((size_t)ents[i].key >= v->n || v->status[ents[i].key] == MATCH_FAILED))
			return 1;
	for (size_t i = 0; i < n; i++) {
		int32_t k = ents[i].key;
		const char *t = k >= 0 ? v->text[k] : v->none;
		size_t tl = k >= 0 ? v->len[k] : v->none_len;
		unsigned char st = k >= 0 ? v->status[k] : v->none_status;
		buf_append(out, line + pos, ents[i].end - pos);
		buf_append(out, t, tl);
		pos = ents[i].end;
		if (st != MATCH_OK && warn)
			warn_entry(v, label, line + ents[i].start, ents[i].end - ents[i].start + 1, k,
			           warn, user);
	}
	buf_append(out, line + pos, len - pos);
	buf_append(out, "\n", 1);
	return 0;
}

int
roster_write_fast(FILE *out, const char *line, size_t len, const int32_t *keys, size_t n,
                  const char *label, struct roster_verdicts *v, roster_warn_fn warn, void *user)
{
	struct buf b = { 0 };
	long count;
	int rc;

	if (match_failed_all(v->idx))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (keys[i] >= 0 && ((size_t)keys[i] >= v->n || v->status[keys[i]] == MATCH_FAILED))
			return 1;
	if (len > UINT32_MAX)
		return 1;
	if (n > v->cap) {
		v->cap = n * 2;
		v->starts = erealloc(v->starts, v->cap * sizeof *v->starts);
		v->ends = erealloc(v->ends, v->cap * sizeof *v->ends);
		v->ents = erealloc(v->ents, v->cap * sizeof *v->ents);
	}
	count = roster_scan_oncall(line, len, v->starts, v->ends, n);
	if (count < 0 || (size_t)count != n)
		return 1;
	for (size_t i = 0; i < n; i++)
		v->ents[i] = (struct roster_entry){ keys[i], (uint32_t)v->starts[i],
		                                    (uint32_t)v->ends[i] };
	rc = roster_write_at(&b, line, len, v->ents, n, label, v, warn, user);
	if (rc == 0 && fwrite(b.data, 1, b.len, out) != b.len)
		rc = -1;
	buf_clear(&b);
	return rc;
}
