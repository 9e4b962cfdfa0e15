/* test_sdm_sign: the request bodies and signatures in
 * StrongDM SDK's test vectors, reproduced byte for byte with our
 * encoder and signer. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "sdm_internal.h"
#include "tap.h"

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (!b.data)
		buf_append(&b, "", 0);
	return b.data;
}

/* The project's copy of the vectors (tests/fixtures/strongdm/sdk-vectors.json,
 * made with StrongDM's official SDK; strongdm-sim.t checks it equals
 * ../shared/reference/strongdm-vectors.json when that is there), found from
 * the working directory or from this test's path
 * (ROOT/build/VARIANT/tests/unit/x.t). */
static char *
read_vectors(void)
{
	const char *rel = "tests/fixtures/strongdm/sdk-vectors.json";
	char exe[PATH_MAX], *p, *text;
	ssize_t n;
	int up;

	text = read_file(rel);
	if (text)
		return text;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (up = 0; up < 5 && (p = strrchr(exe, '/')); up++)
		*p = '\0';
	p = easprintf("%s/%s", exe, rel);
	text = read_file(p);
	free(p);
	return text;
}

static char *
hex(const struct buf *b)
{
	char *s = emalloc(b->len * 2 + 1);

	for (size_t i = 0; i < b->len; i++)
		sprintf(s + 2 * i, "%02x", (unsigned char)b->data[i]);
	s[b->len * 2] = '\0';
	return s;
}

/* Build the body the vector describes with the client's own encoder. */
static int
build(const char *method, const char *describe, struct buf *body)
{
	if (strcmp(method, "Accounts.List") == 0 && strstr(describe, "no filter")) {
		sdm_enc_list_request(body, NULL, 0, NULL);
	} else if (strcmp(method, "Accounts.List") == 0) {
		struct buf f = { 0 };

		sdm_filter_add(&f, "email", "alice@example.com");
		sdm_enc_list_request(body, NULL, 100, f.data);
		buf_clear(&f);
	} else if (strcmp(method, "Groups.List") == 0) {
		sdm_enc_list_request(body, "abc", 50, NULL);
	} else if (strcmp(method, "Groups.Create") == 0) {
		struct sdm_group g = { 0 };

		g.name = "eng";
		sdm_tags_set(&g.tags, "managed-by", "sync");
		sdm_enc_group_create(body, &g);
		sdm_tags_clear(&g.tags);
	} else if (strcmp(method, "Groups.Delete") == 0) {
		sdm_enc_id_request(body, "group-123");
	} else if (strcmp(method, "AccountsGroups.Create") == 0) {
		sdm_enc_account_group_create(body, "a-1", "group-123");
	} else {
		return -1;
	}
	return 0;
}

int
main(void)
{
	char *text = read_vectors();
	cJSON *root, *vectors, *v;
	const char *secret, *date;
	char sig[SDM_SIG_LEN + 1];
	int count = 0;

	if (!text) {
		printf("1..1\nnot ok 1 - tests/fixtures/strongdm/sdk-vectors.json can be read\n");
		return 1;
	}
	root = cJSON_Parse(text);
	free(text);
	ok(root != NULL, "the vectors file is JSON");
	if (!root)
		return tap_done();
	secret = cJSON_GetStringValue(cJSON_GetObjectItem(root, "secret"));
	date = cJSON_GetStringValue(cJSON_GetObjectItem(root, "date"));
	vectors = cJSON_GetObjectItem(root, "vectors");
	ok(secret && date && cJSON_IsArray(vectors), "it has a secret, a date and vectors");
	if (!secret || !date || !cJSON_IsArray(vectors)) {
		cJSON_Delete(root);
		return tap_done();
	}
	cJSON_ArrayForEach(v, vectors) {
		const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(v, "method"));
		const char *describe = cJSON_GetStringValue(cJSON_GetObjectItem(v, "describe"));
		const char *want_hex = cJSON_GetStringValue(cJSON_GetObjectItem(v, "body_hex"));
		const char *want_sig = cJSON_GetStringValue(cJSON_GetObjectItem(v, "signature"));
		struct buf body = { 0 };
		char *got;

		if (!method || !describe || !want_hex || !want_sig) {
			ok(0, "vector %d is complete", count);
			continue;
		}
		count++;
		if (!ok(build(method, describe, &body) == 0, "%s (%s): an encoder exists", method, describe))
			continue;
		got = hex(&body);
		is_str(got, want_hex, "%s (%s): body bytes", method, describe);
		free(got);
		ok(sdm_sign(secret, date, method, body.data, body.len, sig) == 0, "%s: signs", method);
		is_str(sig, want_sig, "%s (%s): signature", method, describe);
		buf_clear(&body);
	}
	ok(count >= 6, "all %d vectors checked", count);

	/* The secret is trimmed; something not base64 is refused. */
	{
		char *padded = easprintf("  %s\n", secret);
		char sig2[SDM_SIG_LEN + 1];

		sdm_sign(secret, date, "Accounts.List", "\x0a\x00", 2, sig);
		ok(sdm_sign(padded, date, "Accounts.List", "\x0a\x00", 2, sig2) == 0 &&
		   strcmp(sig, sig2) == 0, "surrounding white space in the secret is ignored");
		free(padded);
		ok(sdm_sign("not base64!", date, "Accounts.List", "", 0, sig2) < 0,
		   "a secret that is not base64 is refused");
		ok(sdm_sign("", date, "Accounts.List", "", 0, sig2) < 0, "an empty secret is refused");
		ok(sdm_sign(secret, "2026-01-16", "Accounts.List", "\x0a\x00", 2, sig2) == 0 &&
		   strcmp(sig, sig2) != 0, "another date gives another signature");
		ok(sdm_sign(secret, date, "Groups.List", "\x0a\x00", 2, sig2) == 0 &&
		   strcmp(sig, sig2) != 0, "another method gives another signature");
	}
	cJSON_Delete(root);
	return tap_done();
}
