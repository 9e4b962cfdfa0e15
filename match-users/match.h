/* match.h: who is whom. An index of the StrongDM accounts a run needs, and
 * the decision for one on-call person. Pure: no I/O, no network.
 *
 * Life of an index: match_index_new, then match_need for every person's
 * lookup key (pass 1 over the input), then accounts and aliases are added
 * (only those some needed key refers to are kept, so memory grows with the
 * people on call, not with the size of StrongDM), failed look-ups are
 * recorded, and finally match_person decides for each person (pass 2). */
#ifndef MATCH_USERS_MATCH_H
#define MATCH_USERS_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum match_by { MATCH_BY_EMAIL, MATCH_BY_ALIAS };

enum match_kind { MATCH_USER = 1, MATCH_SERVICE = 2, MATCH_TOKEN = 3 };

/* An account as the index keeps it (strings owned by the index). */
struct match_account {
	const char *id;
	const char *email;      /* users only; NULL otherwise */
	enum match_kind kind;
	int suspended;
	int32_t next;           /* next account with the same key, -1 at the end */
};

enum match_status {
	MATCH_OK = 0,
	MATCH_NO_EMAIL,         /* email mode: incident.io has no email */
	MATCH_NO_USER,          /* no StrongDM user with that email */
	MATCH_SUSPENDED,        /* every user with that email is suspended */
	MATCH_AMBIGUOUS,        /* several active users with that email */
	MATCH_NO_ALIAS,         /* alias mode: no alias equal to the incident.io id */
	MATCH_ALIAS_AMBIGUOUS,  /* several aliases with that username */
	MATCH_ALIAS_MISSING,    /* the alias points to an account that does not exist */
	MATCH_ALIAS_NOT_USER,   /* ... to a service or token */
	MATCH_ALIAS_SUSPENDED,  /* ... to a suspended user */
	MATCH_FAILED            /* StrongDM could not be read for this person */
};

struct match_result {
	enum match_status status;
	const struct match_account *account; /* MATCH_OK; or the one concerned */
	const char *key;        /* normalized email or incident.io id; NULL if none */
	const char *alias_account_id; /* alias modes: the account the alias names */
	size_t count;           /* MATCH_AMBIGUOUS, MATCH_ALIAS_AMBIGUOUS */
	const char *error;      /* MATCH_FAILED: StrongDM's message */
	const char *error_code; /* MATCH_FAILED: its code (sdm_error_code) */
};

struct match_index;

struct match_index *match_index_new(enum match_by by);
void match_index_free(struct match_index *idx);
enum match_by match_index_by(const struct match_index *idx);

/* The name shown for the identity set in reasons (alias mode). */
void match_set_identity_set(struct match_index *idx, const char *label);

/* Email normalization: surrounding ASCII white space trimmed, ASCII letters
 * lower-cased (StrongDM compares emails without regard to case). Replaces
 * out's contents (NUL-terminated) and returns the length; 0 means no email. */
size_t match_normalize_email(const char *email, struct buf *out);

/* The lookup key of a person: the normalized email (email mode) or the
 * incident.io id (alias mode). Returns NULL when the person has none. The
 * result may point into scratch. */
const char *match_person_key(const struct match_index *idx, const char *incident_id,
                             const char *email, struct buf *scratch);

/* Pass 1: note that key is needed. Returns its index (0, 1, ... in the
 * order keys were first noted). */
long match_need(struct match_index *idx, const char *key);
/* The same for n keys of lens[i] bytes each (not NUL-terminated; no NUL
 * in them; a NULL key: none, -1). */
void match_need_many(struct match_index *idx, const char *const *keys, const size_t *lens,
                     size_t n, int32_t *out);
size_t match_key_count(const struct match_index *idx);
const char *match_key(const struct match_index *idx, size_t i);
/* Index of a needed key, or -1. */
long match_key_find(const struct match_index *idx, const char *key);

/* Adding what StrongDM holds. An account whose key no one needs is
 * dropped. Email mode: users are keyed by their normalized email;
 * services and tokens never match and are dropped. Alias mode: accounts are
 * kept when a kept alias names them. Adding the same account id twice for a
 * key keeps one. Returns 1 if kept. */
int match_add_account(struct match_index *idx, const char *id, enum match_kind kind,
                      const char *email, int suspended);
/* As match_add_account, but only when the account's key equals the needed
 * key i exactly (after a filtered look-up, since StrongDM's filters are
 * case-insensitive and treat * as a wildcard). */
int match_add_account_for(struct match_index *idx, size_t i, const char *id,
                          enum match_kind kind, const char *email, int suspended);
/* Alias mode: an alias of the chosen identity set. Kept when its username
 * equals a needed incident.io id exactly. */
int match_add_alias(struct match_index *idx, const char *username, const char *account_id);
/* Alias mode: the distinct account ids named by kept aliases, for a
 * look-up by id. */
size_t match_alias_account_count(const struct match_index *idx);
const char *match_alias_account(const struct match_index *idx, size_t i);

/* Failures: a person whose look-up failed is MATCH_FAILED with the code
 * (an error record's "code", e.g. "unavailable") and the message. */
void match_fail_key(struct match_index *idx, size_t i, const char *code, const char *message);
void match_fail_alias_account(struct match_index *idx, const char *account_id, const char *code,
                              const char *message);
void match_fail_all(struct match_index *idx, const char *code, const char *message);
/* The message (and the code) of a failure that affects everyone, or NULL. */
const char *match_failed_all(const struct match_index *idx);
const char *match_failed_all_code(const struct match_index *idx);

/* Pass 2: the decision for one person, given the key match_person_key
 * returned for them (NULL: the person has no email). */
struct match_result match_person(const struct match_index *idx, const char *key);
/* The same by the key's index (match_need, match_key_find); -1: no key. */
struct match_result match_person_at(const struct match_index *idx, long k);

/* The reason for an unmatched result (the "unmatched" field), and the same
 * with what to check (the warning). Appended to out. */
void match_reason(const struct match_index *idx, const struct match_result *res, struct buf *out);
void match_hint(const struct match_index *idx, const struct match_result *res, struct buf *out);
/* The machine-readable reason of an unmatched result (the "reason" field):
 * "no_email", "no_user", "suspended", "ambiguous", "no_alias", "no_id",
 * "not_a_user", "failed"; NULL for MATCH_OK. */
const char *match_reason_code(const struct match_result *res);

#endif
