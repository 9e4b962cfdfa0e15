/* roster.h: adding the matches to a roster record. */
#ifndef MATCH_USERS_ROSTER_H
#define MATCH_USERS_ROSTER_H

#include <cjson/cJSON.h>

#include "match.h"

/* Pass 1: notes every on-call person's lookup key in idx (the roster
 * checked by record_read). */
void roster_need(struct match_index *idx, const cJSON *roster, struct buf *scratch);

/* Called for each unmatched person with the warning text (reason; what to
 * check), already prefixed with "SCHEDULE: PERSON: ". */
typedef void (*roster_warn_fn)(void *user, const char *warning);

/* Pass 2: adds "account", or "unmatched" and "reason", to every on-call
 * entry (replacing any there), calling warn for each unmatched one. When a
 * person's look-up failed, changes nothing, warns nothing, and returns the
 * failure's message (owned by idx), its code in *code (when code is not
 * NULL); otherwise NULL. */
const char *roster_annotate(const struct match_index *idx, cJSON *roster, struct buf *scratch,
                            roster_warn_fn warn, void *user, const char **code);

/* The error record that replaces a roster whose look-up failed:
 * {"type":"error","stage":"match-users","schedule":{...},"code":"unavailable",
 *  "message":"StrongDM: ..."}. */
cJSON *roster_error(const cJSON *roster, const char *code, const char *message);

/* "name" of the schedule, else its "id". */
const char *roster_schedule_label(const cJSON *roster);

#endif
