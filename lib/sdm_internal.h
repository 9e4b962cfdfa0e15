/* sdm_internal.h: the pieces of the StrongDM client that tests reach into:
 * request signing and the message codec. Not for the programs. */
#ifndef ONCALL_SDM_INTERNAL_H
#define ONCALL_SDM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sdm.h"
#include "grpc.h"
#include "util.h"

#define SDM_SIG_LEN 44   /* base64 of 32 bytes, padded */

/* x-sdm-signature for a request: secret_b64 is the API secret (base64,
 * surrounding white space ignored), date the UTC date "YYYY-MM-DD", method
 * "Service.Method", body the protobuf message without the frame prefix.
 * Writes SDM_SIG_LEN characters and a NUL to out. -1 if the secret is not
 * base64 or decodes to nothing. */
int sdm_sign(const char *secret_b64, const char *date, const char *method,
             const void *body, size_t len, char out[SDM_SIG_LEN + 1]);

/* The same with a decoded secret. */
int sdm_sign_raw(const uint8_t *secret, size_t secret_len, const char *date,
                 const char *method, const void *body, size_t len,
                 char out[SDM_SIG_LEN + 1]);

/* Decode a base64 secret (trimmed) into a new buffer; -1 if not base64 or
 * empty. The caller wipes and frees *out. */
int sdm_secret_decode(const char *secret_b64, uint8_t **out, size_t *outlen);

/* ---- Requests (protobuf message bytes appended to out). */
void sdm_enc_list_request(struct buf *out, const char *cursor, int limit, const char *filter);
void sdm_enc_id_request(struct buf *out, const char *id);           /* Get, Delete */
void sdm_enc_group_create(struct buf *out, const struct sdm_group *g);
void sdm_enc_group_update(struct buf *out, const struct sdm_group *g);
void sdm_enc_account_group_create(struct buf *out, const char *account_id, const char *group_id);
void sdm_enc_group_role_create(struct buf *out, const char *group_id, const char *role_id);

/* ---- Responses. */
enum sdm_kind {
	SDM_KIND_ACCOUNT,
	SDM_KIND_IDENTITY_SET,
	SDM_KIND_IDENTITY_ALIAS,
	SDM_KIND_GROUP,
	SDM_KIND_ACCOUNT_GROUP,
	SDM_KIND_ROLE,
	SDM_KIND_GROUP_ROLE
};

/* A growable array of entities of one kind. */
struct sdm_items {
	enum sdm_kind kind;
	void *v;
	size_t n, cap;
};
void sdm_items_clear(struct sdm_items *it);   /* frees the entities and the array */

/* A list response: items are appended to it; *next_cursor is set (new
 * string, NULL when the listing is done); rl filled when present.
 * -1 on a malformed message (it keeps what it had before the call). */
int sdm_dec_list_response(const uint8_t *p, size_t n, struct sdm_items *it,
                          char **next_cursor, struct grpc_rate_limit *rl);

/* A response holding one entity in field 2 (Groups.Create and
 * .Update, AccountsGroups.Create, GroupsRoles.Create) and rate_limit in field 3. The entity is filled
 * (zeroed first). */
int sdm_dec_group_response(const uint8_t *p, size_t n, struct sdm_group *g,
                           struct grpc_rate_limit *rl);
int sdm_dec_account_group_response(const uint8_t *p, size_t n, struct sdm_account_group *ag,
                                   struct grpc_rate_limit *rl);
int sdm_dec_group_role_response(const uint8_t *p, size_t n, struct sdm_group_role *gr,
                                struct grpc_rate_limit *rl);
/* Delete responses: 1 meta, 2 rate_limit. */
int sdm_dec_delete_response(const uint8_t *p, size_t n, struct grpc_rate_limit *rl);

/* Entities on their own (fields as in reference/strongdm.md). */
int sdm_dec_account(const uint8_t *p, size_t n, struct sdm_account *a);  /* 1 ok, 0 unknown kind, -1 bad */
int sdm_dec_group(const uint8_t *p, size_t n, struct sdm_group *g);
int sdm_dec_account_group(const uint8_t *p, size_t n, struct sdm_account_group *ag);
int sdm_dec_identity_set(const uint8_t *p, size_t n, struct sdm_identity_set *s);
int sdm_dec_identity_alias(const uint8_t *p, size_t n, struct sdm_identity_alias *a);
int sdm_dec_role(const uint8_t *p, size_t n, struct sdm_role *r);

/* For tests: the request a call with this message would send (not
 * submitted: prepare() may be called on it to sign it), and its release.
 * method and path must outlive it. */
struct http_request *sdm_request_new(struct sdm_client *c, const char *method, const char *path,
                                     const void *msg, size_t n);
void sdm_request_free(struct http_request *req);

#endif
