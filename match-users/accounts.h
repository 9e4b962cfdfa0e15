/* accounts.h: filling the match index from StrongDM or from an accounts
 * file (--accounts). */
#ifndef MATCH_USERS_ACCOUNTS_H
#define MATCH_USERS_ACCOUNTS_H

#include <stdio.h>

#include "match.h"

struct sdm_client;

#define ACCOUNTS_LOOKUP_MAX 100  /* default --lookup-max */
#define ACCOUNTS_PAGE 1000       /* page size of a full listing */
#define ACCOUNTS_LOOKUP_PAGE 10  /* page size of a filtered look-up */
#define ACCOUNTS_PROBE_MIN 3     /* from this many people, first try one page */

struct accounts_opts {
	const char *identity_set;   /* alias mode: a name, or an id ("ig-...") */
	long lookup_max;            /* at most this many people: filtered look-ups */
};

/* What was done, for the log and the benchmark. */
struct accounts_report {
	int listed;                 /* 1: a paged listing; 0: filtered look-ups */
	int probed;                 /* email: one page was read first to see */
	int accounts_listed;        /* alias mode: accounts by listing too */
	size_t people;              /* distinct keys looked up */
};

/* Reads the accounts file fp (NDJSON, see match-users(1)). Returns 0;
 * EXIT_FAILED for a malformed line (message "NAME:LINE: ..." printed); or
 * EXIT_USAGE when the identity set is unknown (message lists the sets). */
int accounts_read_file(struct match_index *idx, FILE *fp, const char *name,
                       const struct accounts_opts *o);

/* Reads StrongDM through c, choosing filtered look-ups or listings.
 * Failed calls are recorded in idx (match_fail_*); returns 0, or
 * EXIT_USAGE when the identity set is unknown (message printed). */
int accounts_read_sdm(struct match_index *idx, struct sdm_client *c,
                      const struct accounts_opts *o, struct accounts_report *rep);

#endif
