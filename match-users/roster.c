/* roster.c: adding the matches to a roster record. */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "roster.h"
#include "util.h"

void
roster_need(struct match_index *idx, const cJSON *roster, struct buf *scratch)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(roster, "oncall")) {
		const char *key = match_person_key(idx, json_str(e, "id"), json_str(e, "email"), scratch);
		if (key)
			match_need(idx, key);
	}
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
	cJSON *sched = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(roster, "schedule"), 1);
	char *msg = easprintf("StrongDM: %s", message);
	cJSON *rec;

	if (!sched)
		die(EXIT_FAILED, "out of memory");
	rec = record_error_new("match-users", sched, code, msg);
	free(msg);
	return rec;
}
