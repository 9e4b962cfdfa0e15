/* fastjson.h: a strict JSON scanner for the lines match-users sees most,
 * so that a common roster is checked, noted and spooled without building a
 * cJSON tree.
 *
 * It accepts a subset of what the NDJSON reader (lib/ndjson.c) accepts:
 * RFC 8259 JSON with white space only ' ', '\t' and '\r', no control byte
 * in a string, valid UTF-8, no \u0000 or lone surrogate escape, numbers of
 * at most 63 characters, nesting at most FJ_MAX_DEPTH, no duplicate key
 * and no escape in a key. A line outside that subset is not judged here:
 * the caller gives it to the usual reader, which accepts or refuses it with
 * its own message. So the fast path can only be faster, never different. */
#ifndef MATCH_USERS_FASTJSON_H
#define MATCH_USERS_FASTJSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "match.h"
#include "roster.h"

#define FJ_MAX_DEPTH 16     /* well below the reader's limit of 64 */
#define FJ_MAX_KEYS 32      /* more keys in one object: not for the fast path */

/* A string value as it appears in the line: the bytes between the quotes. */
struct fj_str {
	const char *s;       /* NULL: absent; see null */
	size_t n;
	int esc;             /* has a backslash escape: s is not the decoded text */
	int null;            /* the value is null */
};

struct fj_roster {
	struct fj_str label;           /* schedule name, else id (no escapes) */
	struct roster_entry *ents;
	size_t n, cap;
	struct fj_str *keys;           /* scratch: each entry's key text (cap of them) */
	char *norm;                    /* scratch: the normalized emails */
	size_t capnorm;
	const char **kp;               /* scratch for match_need_many */
	size_t *kl;
	int32_t *kv;
	size_t capbatch;
};

void fj_roster_free(struct fj_roster *fr);

/* The line (len bytes, NUL-terminated) as a roster record: returns 1 when
 * it is {"type":"roster",...} passing every check of the NDJSON reader and
 * of roster_check, no entry carries "account" or "unmatched", and no
 * schedule id or name, entry id or (email mode) email has an escape. Then
 * every entry's key has been noted in idx (as roster_need does) and fr
 * holds the label and the entries. Returns 0 otherwise, with idx
 * untouched. */
int fj_roster_parse(struct fj_roster *fr, struct match_index *idx, const char *line, size_t len);

/* The "id", "email" and "name" of an on-call entry: the text from { to }
 * of one that fj_roster_parse accepted. Returns 0, or -1 when the text is
 * not what it should be. */
int fj_entry_fields(const char *s, size_t n, struct fj_str *id, struct fj_str *email,
                    struct fj_str *name);

/* One line of an --accounts file, as accounts_file.c reads it with
 * cJSON_ParseWithLength and cJSON_GetObjectItemCaseSensitive: the line is
 * one object in the strict subset (duplicate keys are allowed here, the
 * first one counts as with cJSON), and the fields below, when present as
 * strings, have no escape. Returns 0 and fills the fields; -1 when the
 * line is outside the subset (the caller then uses cJSON). A field's
 * "present" is 0 when absent; otherwise its type (a cJSON type flag) and
 * for a string its text. */
struct fj_field {
	int type;            /* 0 absent, else cJSON_String, cJSON_Number, ... */
	const char *s;       /* cJSON_String: the text (no escapes) */
	size_t n;
};
enum fj_account_field {
	FJA_TYPE, FJA_ID, FJA_EMAIL, FJA_SUSPENDED, FJA_IDENTITY_SET, FJA_USERNAME,
	FJA_ACCOUNT_ID, FJA_NAME, FJA_N
};
int fj_account_line(const char *line, size_t len, struct fj_field f[FJA_N]);


#endif
