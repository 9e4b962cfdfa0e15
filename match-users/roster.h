/* roster.h: checking a roster record and adding the matches to it. */
#ifndef MATCH_USERS_ROSTER_H
#define MATCH_USERS_ROSTER_H

#include <cjson/cJSON.h>

#include "match.h"
#include "ndjson.h"

/* Checks the fields match-users relies on: object "schedule" with string
 * "id", array "oncall" of objects with a non-empty string "id" and an
 * optional string "email" (and "name"). 0, or -1 with the message printed
 * at r's line. */
int roster_check(const struct ndjson_reader *r, const cJSON *roster);

/* Pass 1: notes every on-call person's lookup key in idx; when keys is
 * not NULL, appends each entry's key index (int32_t, -1: none) to it.
 * Returns 1 when the roster may take the fast path of pass 2 (no entry
 * carries "account", "unmatched" or "reason" already), else 0. */
int roster_need(struct match_index *idx, const cJSON *roster, struct buf *scratch,
                struct buf *keys);

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

/* One on-call entry in a roster's text. */
struct roster_entry {
	int32_t key;            /* the key index (roster_need), -1: none */
	uint32_t start, end;    /* offsets of the entry's { and } */
};

/* The fast path of pass 2: the text to add to each entry, computed once
 * per distinct person, spliced into the roster's own text, so that a
 * roster is neither parsed nor printed again. */
struct roster_verdicts {
	const struct match_index *idx;
	size_t n;
	char **text;            /* per key: ,"account":{...} or ,"unmatched":"..." */
	size_t *len;
	unsigned char *status;  /* enum match_status */
	char *none;             /* for an entry without a key */
	size_t none_len;
	unsigned char none_status;
	size_t *starts, *ends;  /* scratch for roster_scan_oncall */
	size_t cap;
	char **hint;            /* per key: the warning's reason and advice, made once */
	size_t *hint_len;
	char *hint_none;
	size_t hint_none_len;
	struct buf warning;     /* scratch */
	struct buf hint_scratch;
	struct roster_entry *ents; /* scratch for roster_write_fast */
};
void roster_verdicts_init(struct roster_verdicts *v, const struct match_index *idx);
void roster_verdicts_free(struct roster_verdicts *v);

/* In a valid JSON object text s, finds the elements of the top-level
 * "oncall" array: the offsets of each one's first and last byte. Returns
 * how many there are, or -1 when a top-level key has an escape, an
 * element is not an object, or there are more than max. */
long roster_scan_oncall(const char *s, size_t n, size_t *starts, size_t *ends, size_t max);

/* Writes the roster text line (len bytes, no newline) with the verdicts of
 * its n entries (keys as roster_need gave them) spliced in, and a newline.
 * label names the schedule in warnings. Returns 0 when written, 1 when the
 * fast path does not apply (a failed look-up, or text the scanner does not
 * follow; nothing written), -1 on a write error. */
int roster_write_fast(FILE *out, const char *line, size_t len, const int32_t *keys, size_t n,
                      const char *label, struct roster_verdicts *v, roster_warn_fn warn,
                      void *user);

/* As roster_write_fast, appending to out, with the entries' offsets known
 * already (the text need not be scanned). Returns 0 when written, 1 when
 * the fast path does not apply (a failed look-up; nothing appended). */
int roster_write_at(struct buf *out, const char *line, size_t len,
                    const struct roster_entry *ents, size_t n, const char *label,
                    struct roster_verdicts *v, roster_warn_fn warn, void *user);

#endif
