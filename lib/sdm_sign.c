/* sdm_sign.c: StrongDM's request signature (reference/strongdm.md):
 *   k1 = HMAC(secret, date); k2 = HMAC(k1, "sdm_api_v1");
 *   sig = base64(HMAC(k2, SHA256(method "\n" body))). */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "grpc.h"
#include "sdm_internal.h"

static int
hmac256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) == NULL || outlen != 32)
		return -1;
	return 0;
}

int
sdm_secret_decode(const char *secret_b64, uint8_t **out, size_t *outlen)
{
	const char *s = secret_b64, *e;
	uint8_t *raw;
	long n;
	size_t cap;

	*out = NULL;
	*outlen = 0;
	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (e == s)
		return -1;
	cap = (size_t)(e - s) / 4 * 3 + 3;
	raw = emalloc(cap);
	n = grpc_b64_decode(s, (size_t)(e - s), raw, cap);
	if (n <= 0) {
		secret_wipe(raw, cap);
		free(raw);
		return -1;
	}
	*out = raw;
	*outlen = (size_t)n;
	return 0;
}

int
sdm_sign_raw(const uint8_t *secret, size_t secret_len, const char *date,
             const char *method, const void *body, size_t len,
             char out[SDM_SIG_LEN + 1])
{
	uint8_t k1[32], k2[32], h[32], mac[32];
	static const char scope[] = "sdm_api_v1";
	EVP_MD_CTX *md;
	unsigned int hl = 0;
	int rc = -1;

	out[0] = '\0';
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, method, strlen(method)) != 1 ||
	    EVP_DigestUpdate(md, "\n", 1) != 1 ||
	    (len && EVP_DigestUpdate(md, body, len) != 1) ||
	    EVP_DigestFinal_ex(md, h, &hl) != 1 || hl != 32)
		goto out;
	if (hmac256(secret, secret_len, date, strlen(date), k1) < 0 ||
	    hmac256(k1, sizeof k1, scope, sizeof scope - 1, k2) < 0 ||
	    hmac256(k2, sizeof k2, h, sizeof h, mac) < 0)
		goto out;
	if (EVP_EncodeBlock((unsigned char *)out, mac, sizeof mac) != SDM_SIG_LEN)
		goto out;
	out[SDM_SIG_LEN] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	secret_wipe(k1, sizeof k1);
	secret_wipe(k2, sizeof k2);
	return rc;
}

int
sdm_sign(const char *secret_b64, const char *date, const char *method,
         const void *body, size_t len, char out[SDM_SIG_LEN + 1])
{
	uint8_t *secret;
	size_t n;
	int rc;

	out[0] = '\0';
	if (sdm_secret_decode(secret_b64, &secret, &n) < 0)
		return -1;
	rc = sdm_sign_raw(secret, n, date, method, body, len, out);
	secret_wipe(secret, n);
	free(secret);
	return rc;
}
