/*
 * tokens.h - the API keys of `wm serve`.
 *
 * A token is "wmk_" and 64 hex digits (32 random bytes, libsodium). It is
 * shown once, when made; the state directory keeps only its keyed BLAKE2b
 * hash (crypto_generichash under $STATE/serve/token.key, 32 random bytes),
 * with the key's name, role, creation and last use, in
 * $STATE/serve/tokens.json. Both files are 0600 in a 0700 directory,
 * written atomically under an flock of $STATE/serve/tokens.lock, so
 * `token create`/`revoke` and a running server never lose each other's
 * writes. A presented token is hashed and compared with every stored hash
 * in constant time (sodium_memcmp).
 *
 * The server holds a struct wm_serve_keys: wm_serve_keys_refresh reloads
 * the file when it changed (a revoked key stops working on the next
 * request), wm_serve_keys_flush writes the last-use times it collected.
 */
#ifndef WM_ORCHESTRATOR_SERVE_TOKENS_H
#define WM_ORCHESTRATOR_SERVE_TOKENS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "orchestrator/serve/route.h"

#define WM_SERVE_DIR "serve"
#define WM_SERVE_TOKENS "tokens.json"
#define WM_SERVE_TOKEN_KEY "token.key"
#define WM_SERVE_TOKENS_MAX (4UL << 20)

const char *wm_serve_role_name(enum wm_serve_role r);
int wm_serve_role_parse(const char *s);

/* Makes a key named `name` (NULL: "key-N") with `role`; *token gets the
 * token text (caller frees). A name in use is an error (exit 2). */
int wm_serve_token_create(const char *state_dir, const char *name, enum wm_serve_role role,
			  char **token, char **made_name, struct wm_error **err);
/* The stored keys without their hashes: [{name, role, created, last_used}]. */
json_t *wm_serve_token_list(const char *state_dir, struct wm_error **err);
/* Removes key `name`; unknown: error (exit 2). */
int wm_serve_token_revoke(const char *state_dir, const char *name, struct wm_error **err);

struct wm_serve_keys;
struct wm_serve_keys *wm_serve_keys_open(const char *state_dir, struct wm_error **err);
void wm_serve_keys_free(struct wm_serve_keys *k);
/* Reloads tokens.json if it changed since the last load. */
int wm_serve_keys_refresh(struct wm_serve_keys *k, struct wm_error **err);
/* The key `token` belongs to: its name (borrowed, valid until the next
 * refresh) and role; NULL when none. Records the use. */
const char *wm_serve_keys_check(struct wm_serve_keys *k, const char *token,
				enum wm_serve_role *role);
/* Writes recorded last-use times, if any. */
int wm_serve_keys_flush(struct wm_serve_keys *k, struct wm_error **err);
size_t wm_serve_keys_count(const struct wm_serve_keys *k);

#endif
