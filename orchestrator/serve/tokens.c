/*
 * tokens.c - API keys stored hashed in the state directory (tokens.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "orchestrator/serve/tokens.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define TOKEN_PREFIX "wmk_"
#define TOKEN_BYTES 32
#define HASH_BYTES 32

static const char *const role_names[] = { [WM_ROLE_READ] = "read", [WM_ROLE_RUN] = "run" };

const char *wm_serve_role_name(enum wm_serve_role r)
{
	return r == WM_ROLE_RUN ? role_names[WM_ROLE_RUN] : role_names[WM_ROLE_READ];
}

int wm_serve_role_parse(const char *s)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

/* $STATE/serve, created 0700; its fd. */
static int open_dir(const char *state_dir, struct wm_error **err)
{
	wm_autoclose int sfd = -1;

	if (wm_state_dir_make(state_dir, err) < 0 ||
	    (sfd = wm_safe_opendir_path(state_dir, err)) < 0)
		return -1;
	return wm_safe_opendir(sfd, state_dir, WM_SERVE_DIR, true, 0700, err);
}

/* An exclusive flock of tokens.lock; its fd (closing it unlocks). */
static int lock_dir(int dfd, struct wm_error **err)
{
	int fd = wm_safe_open(dfd, "tokens.lock", "tokens.lock", O_RDWR | O_CREAT, 0600, err);

	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return wm_error_set(err, errno, "lock the API keys");
	}
	return fd;
}

static int load_key(int dfd, unsigned char key[crypto_generichash_KEYBYTES], struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autoclose int fd = -1;
	int rc;

	if (sodium_init() < 0)
		return wm_error_set(err, 0, "libsodium cannot start");
	fd = wm_safe_open(dfd, WM_SERVE_TOKEN_KEY, WM_SERVE_TOKEN_KEY, O_RDONLY, 0, NULL);
	if (fd < 0) {
		randombytes_buf(key, crypto_generichash_KEYBYTES);
		return wm_safe_write_atomic(dfd, WM_SERVE_TOKEN_KEY, WM_SERVE_TOKEN_KEY, key,
					    crypto_generichash_KEYBYTES, 0600, err);
	}
	rc = wm_safe_read_fd(fd, WM_SERVE_TOKEN_KEY, 64, "API key hashing key", &b, err);
	if (rc == 0 && b.len != crypto_generichash_KEYBYTES)
		rc = wm_error_setx(err, WM_EXIT_USAGE, "%s/%s: not a %d-byte key", WM_SERVE_DIR,
				   WM_SERVE_TOKEN_KEY, crypto_generichash_KEYBYTES);
	if (rc == 0)
		memcpy(key, b.data, crypto_generichash_KEYBYTES);
	sodium_memzero(b.data, b.len);
	wm_buf_release(&b);
	return rc;
}

/* tokens.json's array (new ref); an empty one when the file is missing. */
static json_t *load_list(int dfd, struct stat *st, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autoclose int fd =
		wm_safe_open(dfd, WM_SERVE_TOKENS, WM_SERVE_TOKENS, O_RDONLY, 0, NULL);
	json_error_t je;
	json_t *root, *list;

	if (fd < 0) {
		if (st)
			memset(st, 0, sizeof(*st));
		return json_array();
	}
	if (st && fstat(fd, st) < 0)
		return wm_error_set(err, errno, "stat %s", WM_SERVE_TOKENS), NULL;
	if (wm_safe_read_fd(fd, WM_SERVE_TOKENS, WM_SERVE_TOKENS_MAX, "API keys", &b, err) < 0)
		return NULL;
	root = json_loadb(b.data, b.len, 0, &je);
	wm_buf_release(&b);
	list = json_incref(json_object_get(root, "keys"));
	json_decref(root);
	if (!json_is_array(list)) {
		json_decref(list);
		wm_error_setx(err, WM_EXIT_USAGE, "%s/%s: not a list of API keys", WM_SERVE_DIR,
			      WM_SERVE_TOKENS);
		return NULL;
	}
	return list;
}

static int save_list(int dfd, json_t *list, struct wm_error **err)
{
	json_t *root =
		json_pack("{s:s, s:i, s:O}", "format", "wm-serve-keys", "version", 1, "keys", list);
	wm_autofree char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);

	json_decref(root);
	if (!text)
		return wm_error_set(err, 0, "cannot encode the API keys");
	return wm_safe_write_atomic(dfd, WM_SERVE_TOKENS, WM_SERVE_TOKENS, text, strlen(text), 0600,
				    err);
}

static void hash_token(const unsigned char *key, const char *token, char hex[2 * HASH_BYTES + 1])
{
	unsigned char h[HASH_BYTES];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), key,
			   crypto_generichash_KEYBYTES);
	sodium_bin2hex(hex, 2 * HASH_BYTES + 1, h, sizeof(h));
}

static json_t *find_key(json_t *list, const char *name, size_t *at)
{
	size_t i;
	json_t *k;

	json_array_foreach(list, i, k)
	{
		if (strcmp(json_string_value(json_object_get(k, "name")) ?: "", name) == 0) {
			if (at)
				*at = i;
			return k;
		}
	}
	return NULL;
}

static char *fresh_name(json_t *list)
{
	for (size_t n = json_array_size(list) + 1;; n++) {
		char *name = wm_xasprintf("key-%zu", n);

		if (!find_key(list, name, NULL))
			return name;
		free(name);
	}
}

int wm_serve_token_create(const char *state_dir, const char *name, enum wm_serve_role role,
			  char **token, char **made_name, struct wm_error **err)
{
	wm_autoclose int dfd = open_dir(state_dir, err);
	int lfd = -1;
	unsigned char key[crypto_generichash_KEYBYTES], raw[TOKEN_BYTES];
	char hex[2 * TOKEN_BYTES + 1], hash[2 * HASH_BYTES + 1];
	wm_autofree char *now = wm_state_format_time(wm_wall_ms()), *nm = NULL;
	json_t *list = NULL;
	int rc;

	if (name && !wm_serve_name_ok(name))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "key name '%s': use letters, digits and . _ @ + - (at most "
				     "%d, not starting with '.')",
				     name, WM_SERVE_NAME_MAX);
	if (dfd < 0 || (lfd = lock_dir(dfd, err)) < 0)
		return -1;
	rc = load_key(dfd, key, err) < 0 || !(list = load_list(dfd, NULL, err)) ? -1 : 0;
	if (rc == 0 && name && find_key(list, name, NULL)) {
		json_decref(list);
		rc = wm_error_setx(err, WM_EXIT_USAGE, "an API key named '%s' exists already",
				   name);
	}
	if (rc < 0) {
		close(lfd);
		return -1;
	}
	nm = name ? wm_xstrdup(name) : fresh_name(list);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	*token = wm_xasprintf(TOKEN_PREFIX "%s", hex);
	hash_token(key, *token, hash);
	sodium_memzero(key, sizeof(key));
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:n}", "name", nm, "role",
					      wm_serve_role_name(role), "hash", hash, "created",
					      now, "last_used"));
	rc = save_list(dfd, list, err);
	json_decref(list);
	close(lfd);
	if (rc < 0) {
		free(wm_steal(token));
		return -1;
	}
	*made_name = wm_steal(&nm);
	return 0;
}

json_t *wm_serve_token_list(const char *state_dir, struct wm_error **err)
{
	wm_autoclose int dfd = open_dir(state_dir, err);
	json_t *list = dfd < 0 ? NULL : load_list(dfd, NULL, err), *k;
	size_t i;

	json_array_foreach(list, i, k) json_object_del(k, "hash");
	return list;
}

int wm_serve_token_revoke(const char *state_dir, const char *name, struct wm_error **err)
{
	wm_autoclose int dfd = open_dir(state_dir, err);
	json_t *list = NULL;
	size_t at;
	int lfd, rc;

	if (dfd < 0 || (lfd = lock_dir(dfd, err)) < 0)
		return -1;
	if (!(list = load_list(dfd, NULL, err)))
		rc = -1;
	else if (!find_key(list, name, &at))
		rc = wm_error_setx(err, WM_EXIT_USAGE,
				   "no API key named '%s' (see wm serve token list)", name);
	else
		rc = json_array_remove(list, at) < 0 ? -1 : save_list(dfd, list, err);
	json_decref(list);
	close(lfd);
	return rc;
}

struct entry {
	char *name;
	enum wm_serve_role role;
	char hash[2 * HASH_BYTES + 1];
	long long used_ms; /* 0: not used since loaded */
};

struct wm_serve_keys {
	int dfd;
	unsigned char key[crypto_generichash_KEYBYTES];
	struct stat st; /* of the tokens.json loaded */
	struct entry *v;
	size_t n;
	bool dirty;
};

static void clear_entries(struct wm_serve_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].name);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

static int reload(struct wm_serve_keys *k, struct wm_error **err)
{
	json_t *list = load_list(k->dfd, &k->st, err), *e;
	size_t i;

	if (!list)
		return -1;
	clear_entries(k);
	k->v = wm_xcalloc(json_array_size(list) + 1, sizeof(*k->v));
	json_array_foreach(list, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *hash = json_string_value(json_object_get(e, "hash"));
		int role = wm_serve_role_parse(json_string_value(json_object_get(e, "role")) ?: "");

		if (!name || !hash || strlen(hash) != 2 * HASH_BYTES || role < 0)
			continue; /* a damaged entry authorizes nothing */
		k->v[k->n].name = wm_xstrdup(name);
		k->v[k->n].role = (enum wm_serve_role)role;
		memcpy(k->v[k->n].hash, hash, sizeof(k->v[k->n].hash));
		k->n++;
	}
	json_decref(list);
	return 0;
}

struct wm_serve_keys *wm_serve_keys_open(const char *state_dir, struct wm_error **err)
{
	struct wm_serve_keys *k = wm_xcalloc(1, sizeof(*k));
	int lfd = -1, rc = -1;

	k->dfd = open_dir(state_dir, err);
	if (k->dfd >= 0 && (lfd = lock_dir(k->dfd, err)) >= 0) {
		rc = load_key(k->dfd, k->key, err) < 0 || reload(k, err) < 0 ? -1 : 0;
		close(lfd);
	}
	if (rc < 0) {
		wm_serve_keys_free(k);
		return NULL;
	}
	return k;
}

void wm_serve_keys_free(struct wm_serve_keys *k)
{
	if (!k)
		return;
	clear_entries(k);
	sodium_memzero(k->key, sizeof(k->key));
	if (k->dfd >= 0)
		close(k->dfd);
	free(k);
}

int wm_serve_keys_refresh(struct wm_serve_keys *k, struct wm_error **err)
{
	struct stat st;

	if (fstatat(k->dfd, WM_SERVE_TOKENS, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return wm_error_set(err, errno, "stat %s", WM_SERVE_TOKENS);
		memset(&st, 0, sizeof(st));
	}
	if (st.st_ino == k->st.st_ino && st.st_mtim.tv_sec == k->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == k->st.st_mtim.tv_nsec && st.st_size == k->st.st_size)
		return 0;
	return reload(k, err);
}

const char *wm_serve_keys_check(struct wm_serve_keys *k, const char *token,
				enum wm_serve_role *role)
{
	char hash[2 * HASH_BYTES + 1];
	const char *found = NULL;

	hash_token(k->key, token, hash);
	/* Every entry is compared, in constant time, whatever matched. */
	for (size_t i = 0; i < k->n; i++) {
		if (sodium_memcmp(hash, k->v[i].hash, 2 * HASH_BYTES) == 0) {
			found = k->v[i].name;
			*role = k->v[i].role;
			k->v[i].used_ms = wm_wall_ms();
			k->dirty = true;
		}
	}
	return found;
}

size_t wm_serve_keys_count(const struct wm_serve_keys *k)
{
	return k->n;
}

int wm_serve_keys_flush(struct wm_serve_keys *k, struct wm_error **err)
{
	json_t *list;
	int lfd, rc;

	if (!k->dirty)
		return 0;
	if ((lfd = lock_dir(k->dfd, err)) < 0)
		return -1;
	if (!(list = load_list(k->dfd, NULL, err))) {
		close(lfd);
		return -1;
	}
	for (size_t j = 0; j < k->n; j++) {
		json_t *stored = k->v[j].used_ms ? find_key(list, k->v[j].name, NULL) : NULL;
		wm_autofree char *t = NULL;

		if (!stored)
			continue; /* revoked meanwhile: stays revoked */
		t = wm_state_format_time(k->v[j].used_ms);
		json_object_set_new(stored, "last_used", json_string(t));
	}
	rc = save_list(k->dfd, list, err);
	json_decref(list);
	close(lfd);
	k->dirty = false;
	return rc < 0 ? -1 : wm_serve_keys_refresh(k, err);
}
