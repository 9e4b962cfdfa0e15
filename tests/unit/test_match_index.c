/* test_match_index.c: match-users' pure decisions (match-users/match.c). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "../../match-users/match.h"

static char reason[1024];

static const char *
reason_of(const struct match_index *idx, const struct match_result *r, int hint)
{
	struct buf b = { 0 };

	if (hint)
		match_hint(idx, r, &b);
	else
		match_reason(idx, r, &b);
	snprintf(reason, sizeof reason, "%s", b.data ? b.data : "");
	buf_clear(&b);
	return reason;
}

/* Note the person's key as pass 1 would, returning a copy of it. */
static char *
need(struct match_index *idx, const char *id, const char *email)
{
	struct buf b = { 0 };
	const char *k = match_person_key(idx, id, email, &b);
	char *copy = k ? estrdup(k) : NULL;

	if (k)
		match_need(idx, k);
	buf_clear(&b);
	return copy;
}

static void
test_normalize(void)
{
	struct buf b = { 0 };

	is_int(match_normalize_email("  Alice@Example.COM \t", &b), 17,
	       "normalize_email should trim and keep the length");
	is_str(b.data, "alice@example.com", "normalize_email should lower-case ASCII letters");
	is_int(match_normalize_email("   ", &b), 0, "normalize_email should treat blanks as no email");
	is_int(match_normalize_email(NULL, &b), 0, "normalize_email should treat NULL as no email");
	is_int(match_normalize_email("ÄBC@x", &b), 6, "normalize_email should keep non-ASCII bytes");
	is_str(b.data, "Äbc@x", "normalize_email should lower-case only ASCII letters");
	buf_clear(&b);
}

static void
test_email_mode(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	char *alice = need(idx, "01A", " Alice@Example.com ");
	char *bob = need(idx, "01B", "bob@example.com");
	char *eve = need(idx, "01E", "eve@example.com");
	char *dup = need(idx, "01D", "dup@example.com");
	char *erin = need(idx, "01R", "erin@example.com");
	char *svc = need(idx, "01S", "ci@example.com");
	char *trio = need(idx, "01T", "trio@example.com");
	char *gone = need(idx, "01G", "gone@example.com");
	char *none = need(idx, "01N", "  ");
	char *again = need(idx, "01A", "alice@example.com");
	struct match_result r;

	ok(none == NULL, "a person without email should have no key");
	is_int(match_key_count(idx), 8, "pass 1 should collect each distinct key once");
	is_str(again, alice, "the same email in another case should give the same key");

	ok(match_add_account(idx, "a-1", MATCH_USER, "ALICE@example.com", 0),
	   "a user whose email is needed should be kept");
	ok(!match_add_account(idx, "a-1", MATCH_USER, "alice@example.com", 0),
	   "the same account twice should be kept once");
	ok(match_add_account(idx, "a-2", MATCH_USER, "bob@example.com", 0), "bob kept");
	ok(!match_add_account(idx, "a-9", MATCH_USER, "nobody@example.com", 0),
	   "a user nobody needs should be dropped");
	ok(match_add_account(idx, "a-5", MATCH_USER, "eve@example.com", 1), "eve kept");
	ok(match_add_account(idx, "a-7", MATCH_USER, "dup@example.com", 0), "dup one kept");
	ok(match_add_account(idx, "a-8", MATCH_USER, "Dup@Example.com", 1), "dup two kept");
	ok(match_add_account(idx, "a-11", MATCH_USER, "trio@example.com", 1), "trio one kept");
	ok(match_add_account(idx, "a-12", MATCH_USER, "trio@example.com", 0), "trio two kept");
	ok(match_add_account(idx, "a-13", MATCH_USER, "trio@example.com", 0), "trio three kept");
	ok(match_add_account(idx, "a-14", MATCH_USER, "gone@example.com", 1), "gone one kept");
	ok(match_add_account(idx, "a-15", MATCH_USER, "gone@example.com", 1), "gone two kept");
	ok(!match_add_account(idx, "a-6", MATCH_SERVICE, "ci@example.com", 0),
	   "a service should never be kept in email mode");
	ok(!match_add_account(idx, "a-10", MATCH_TOKEN, "ci@example.com", 0),
	   "a token should never be kept in email mode");

	r = match_person(idx, alice);
	is_int(r.status, MATCH_OK, "a padded mixed-case email should match");
	is_str(r.account ? r.account->id : NULL, "a-1", "alice's account id");
	is_str(r.account ? r.account->email : NULL, "ALICE@example.com",
	       "the account carries StrongDM's email as StrongDM has it");

	r = match_person(idx, bob);
	is_int(r.status, MATCH_OK, "bob should match");

	r = match_person(idx, eve);
	is_int(r.status, MATCH_SUSPENDED, "a suspended user should not match");
	is_str(match_reason_code(&r), "suspended", "reason code: suspended");
	is_str(reason_of(idx, &r, 0), "StrongDM user a-5 (eve@example.com) is suspended",
	       "the reason should say the user is suspended");

	r = match_person(idx, dup);
	is_int(r.status, MATCH_OK, "one active and one suspended user with one email: "
	       "the suspended one is dropped before ambiguity is judged");
	is_str(r.account ? r.account->id : NULL, "a-7", "the active user is the match");

	r = match_person(idx, trio);
	is_int(r.status, MATCH_AMBIGUOUS, "two active users with one email should not match");
	is_str(match_reason_code(&r), "ambiguous", "reason code: ambiguous");
	is_str(reason_of(idx, &r, 0),
	       "2 StrongDM users have email trio@example.com (a-12, a-13): not guessing",
	       "the reason should list the two active ids, not the suspended one");

	r = match_person(idx, gone);
	is_int(r.status, MATCH_SUSPENDED, "two suspended users with one email should not match");
	is_str(reason_of(idx, &r, 0), "StrongDM user a-14 (gone@example.com) is suspended",
	       "the reason should say they are suspended");

	r = match_person(idx, erin);
	is_int(r.status, MATCH_NO_USER, "no user with the email");
	is_str(match_reason_code(&r), "no_user", "reason code: no_user");
	is_str(reason_of(idx, &r, 1),
	       "no StrongDM user with email erin@example.com; check that the user exists in "
	       "StrongDM and that its email equals the one in incident.io",
	       "the warning should say what to check");

	r = match_person(idx, svc);
	is_int(r.status, MATCH_NO_USER, "an email only a service has should not match");

	r = match_person(idx, NULL);
	is_int(r.status, MATCH_NO_EMAIL, "no email in incident.io");
	is_str(match_reason_code(&r), "no_email", "reason code: no_email");
	is_str(reason_of(idx, &r, 0), "no email in incident.io", "the no-email reason");

	r = match_person(idx, "stranger@example.com");
	is_int(r.status, MATCH_NO_USER, "a key not noted in pass 1 is simply not found");

	free(alice); free(bob); free(eve); free(dup); free(erin); free(svc); free(again); free(trio); free(gone);
	match_index_free(idx);
}

static void
test_filtered_lookup_is_exact(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	char *star = need(idx, "01X", "a*@example.com");
	char *aa = need(idx, "01Y", "aa@example.com");
	long ks = match_key_find(idx, star), ka = match_key_find(idx, aa);
	struct match_result r;

	ok(ks >= 0 && ka >= 0, "both keys are needed");
	/* StrongDM answers email:"a*@example.com" with aa@example.com too. */
	ok(!match_add_account_for(idx, (size_t)ks, "a-aa", MATCH_USER, "aa@example.com", 0),
	   "a wildcard hit for another email should not be kept for this key");
	ok(match_add_account_for(idx, (size_t)ka, "a-aa", MATCH_USER, "AA@example.com", 0),
	   "a case-insensitive hit for the key itself should be kept");
	r = match_person(idx, star);
	is_int(r.status, MATCH_NO_USER, "the wildcard email matches nobody");
	r = match_person(idx, aa);
	is_int(r.status, MATCH_OK, "aa matches its own user");
	is_int(r.count, 1, "and only once");
	free(star); free(aa);
	match_index_free(idx);
}

static void
test_failures(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	char *a = need(idx, "01A", "a@x");
	char *b = need(idx, "01B", "b@x");
	struct match_result r;

	match_add_account(idx, "a-1", MATCH_USER, "b@x", 0);
	match_fail_key(idx, (size_t)match_key_find(idx, a), "unavailable", "UNAVAILABLE: try later");
	r = match_person(idx, a);
	is_int(r.status, MATCH_FAILED, "a failed look-up should fail the person");
	is_str(r.error, "UNAVAILABLE: try later", "with StrongDM's message");
	is_str(r.error_code, "unavailable", "and its code");
	r = match_person(idx, b);
	is_int(r.status, MATCH_OK, "other people are not touched");
	ok(match_failed_all(idx) == NULL, "no global failure yet");
	match_fail_all(idx, "unauthenticated", "UNAUTHENTICATED: invalid access key");
	r = match_person(idx, b);
	is_int(r.status, MATCH_FAILED, "a global failure fails everyone looked up");
	r = match_person(idx, NULL);
	is_int(r.status, MATCH_NO_EMAIL, "but not a person who needed no look-up");
	is_str(match_failed_all(idx), "UNAUTHENTICATED: invalid access key", "global message");
	is_str(match_failed_all_code(idx), "unauthenticated", "global code");
	free(a); free(b);
	match_index_free(idx);
}

static void
test_alias_mode(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_ALIAS);
	char *k1 = need(idx, "01AAA", "ignored@example.com");
	char *k2 = need(idx, "01BBB", NULL);
	char *k3 = need(idx, "01CCC", NULL);
	char *k4 = need(idx, "01DDD", NULL);
	char *k5 = need(idx, "01EEE", NULL);
	char *k6 = need(idx, "01FFF", NULL);
	char *k7 = need(idx, "01GGG", NULL);
	struct match_result r;

	match_set_identity_set(idx, "incidentio");
	is_str(k1, "01AAA", "in alias mode the key is the incident.io id");
	ok(match_add_alias(idx, "01AAA", "a-1"), "an alias equal to a needed id is kept");
	ok(!match_add_alias(idx, "01aaa", "a-1"), "alias usernames compare case-sensitively");
	ok(!match_add_alias(idx, "01AAA", "a-1"), "the same alias twice counts once");
	ok(!match_add_alias(idx, "01ZZZ", "a-2"), "an alias nobody needs is dropped");
	match_add_alias(idx, "01BBB", "a-svc");
	match_add_alias(idx, "01CCC", "a-gone");
	match_add_alias(idx, "01DDD", "a-susp");
	match_add_alias(idx, "01EEE", "a-3");
	match_add_alias(idx, "01EEE", "a-4");
	match_add_alias(idx, "01GGG", "a-fail");
	is_int(match_alias_account_count(idx), 7, "distinct account ids to look up");

	ok(match_add_account(idx, "a-1", MATCH_USER, "alice@example.com", 0), "a-1 kept");
	ok(!match_add_account(idx, "a-2", MATCH_USER, "x@example.com", 0),
	   "an account no kept alias names is dropped");
	ok(match_add_account(idx, "a-svc", MATCH_SERVICE, NULL, 0), "service kept to explain");
	match_add_account(idx, "a-susp", MATCH_USER, "s@example.com", 1);
	match_fail_alias_account(idx, "a-fail", "unavailable", "INTERNAL: boom");

	r = match_person(idx, k1);
	is_int(r.status, MATCH_OK, "an exact alias matches");
	is_str(r.account ? r.account->email : NULL, "alice@example.com", "with the user's email");

	r = match_person(idx, k2);
	is_int(r.status, MATCH_ALIAS_NOT_USER, "an alias of a service does not match");
	is_str(match_reason_code(&r), "not_a_user", "reason code: not_a_user");
	is_str(reason_of(idx, &r, 0),
	       "the alias equal to incident.io id 01BBB in identity set incidentio points to "
	       "account a-svc, which is a service, not a user", "reason for a service");

	r = match_person(idx, k3);
	is_int(r.status, MATCH_ALIAS_MISSING, "an alias of a missing account does not match");
	is_str(match_reason_code(&r), "no_user", "reason code of an alias of a missing account: no_user");
	r = match_person(idx, k4);
	is_int(r.status, MATCH_ALIAS_SUSPENDED, "an alias of a suspended user does not match");
	is_str(match_reason_code(&r), "suspended", "reason code: suspended (alias)");
	r = match_person(idx, k5);
	is_int(r.status, MATCH_ALIAS_AMBIGUOUS, "two aliases with the id do not match");
	is_str(match_reason_code(&r), "ambiguous", "reason code: ambiguous (alias)");
	r = match_person(idx, k6);
	is_int(r.status, MATCH_NO_ALIAS, "no alias");
	is_str(match_reason_code(&r), "no_alias", "reason code: no_alias");
	is_str(reason_of(idx, &r, 1),
	       "identity set incidentio has no alias equal to incident.io id 01FFF; check that the "
	       "user exists in StrongDM and has an identity alias in set incidentio equal to "
	       "their incident.io id", "no alias: reason and what to check");
	r = match_person(idx, k7);
	is_int(r.status, MATCH_FAILED, "an account look-up that failed fails the person");

	free(k1); free(k2); free(k3); free(k4); free(k5); free(k6); free(k7);
	match_index_free(idx);
}

static void
test_many_keys(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	char email[64];
	int bad = 0;

	for (int i = 0; i < 50000; i++) {
		snprintf(email, sizeof email, "user%d@example.com", i);
		match_need(idx, email);
	}
	for (int i = 0; i < 100000; i += 2) {
		char id[32];
		snprintf(email, sizeof email, "USER%d@example.com", i);
		snprintf(id, sizeof id, "a-%d", i);
		match_add_account(idx, id, MATCH_USER, email, 0);
	}
	for (int i = 0; i < 50000; i++) {
		snprintf(email, sizeof email, "user%d@example.com", i);
		struct match_result r = match_person(idx, email);
		if (r.status != (i % 2 ? MATCH_NO_USER : MATCH_OK))
			bad++;
	}
	is_int(match_key_count(idx), 50000, "50,000 keys through table growth");
	is_int(bad, 0, "every one of them decided right");
	match_index_free(idx);
}

int
main(void)
{
	log_init("test_match_index");
	test_normalize();
	test_email_mode();
	test_filtered_lookup_is_exact();
	test_failures();
	test_alias_mode();
	test_many_keys();
	return tap_done();
}
