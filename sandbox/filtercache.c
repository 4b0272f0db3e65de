/*
 * filtercache.c - compiled seccomp filters kept on disk between runs.
 *
 * Compiling a policy's filter costs about a millisecond and a half; loading
 * it from here a tenth of that. But a cached filter is what the next
 * sandbox of that policy runs under, so an entry is trusted only when:
 *   - it lives in wm's private cache directory (cache.c: ours, 0700, masked
 *     in every sandbox), read without following links, a regular file of
 *     ours writable by nobody else, of bounded size;
 *   - its MAC verifies: HMAC-SHA-256 (libsodium) under the key the caller
 *     set with wm_sandbox_set_cache_key() (wm derives it from the audit
 *     key), over the entry's name, which covers the policy hash, and its
 *     whole content.
 * Anything else is a miss, reported through `note` when the entry existed,
 * and the filter is compiled and the entry written anew. Without a key
 * there is no cache at all.
 *
 * Entry: "WMSECCOMP3\n\0", the header, the instructions, the notify
 * rules, then the 32-byte MAC. The name is the SHA-256 of the policy hash,
 * libseccomp's version, the kernel release and machine, whether denials
 * are notified, and a hash of the key (one cache serves several state
 * directories, each with its own key).
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "policies/policies.h"
#include "sandbox/internal.h"

#define CACHE_MAGIC "WMSECCOMP3\n"
#define MAX_ENTRY (1 << 20)
#define MAC_LEN crypto_auth_hmacsha256_BYTES

struct cache_head {
	char magic[12];
	uint32_t n_insns, n_rules;
	struct sb_notify_rule dflt;
};

/* The key lives in a page of its own that forked children never get. */
static unsigned char *key;

void wm_sandbox_set_cache_key(const unsigned char k[32])
{
	if (!key) {
		void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				  -1, 0);

		if (page == MAP_FAILED)
			return;
		madvise(page, 4096, MADV_DONTFORK);
		madvise(page, 4096, MADV_DONTDUMP);
		key = page;
	}
	memcpy(key, k, crypto_auth_hmacsha256_KEYBYTES);
}

static char *entry_name(const struct wm_policy *p, bool notify)
{
	const struct scmp_version *v = seccomp_version();
	wm_autofree char *ph = wm_policy_hash(p);
	wm_autofree char *id = NULL;
	unsigned char h[crypto_hash_sha256_BYTES], kid[16];
	char hex[2 * sizeof(h) + 1], kid_hex[2 * sizeof(kid) + 1];
	struct utsname u;

	if (uname(&u) != 0)
		return NULL;
	/* The key's own hash in the name: each state directory's wm keeps its
	 * own entries, and a bad MAC always means an entry was tampered with. */
	crypto_generichash(kid, sizeof(kid), key, crypto_auth_hmacsha256_KEYBYTES, NULL, 0);
	sodium_bin2hex(kid_hex, sizeof(kid_hex), kid, sizeof(kid));
	id = wm_xasprintf("%s|%u.%u.%u|%s|%s|%d|%u|%s", ph, v->major, v->minor, v->micro, u.release,
			  u.machine, notify, seccomp_api_get(), kid_hex);
	crypto_hash_sha256(h, (const unsigned char *)id, strlen(id));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return wm_xasprintf("%s.bpf", hex);
}

static void mac_of(const char *name, const void *data, size_t len, unsigned char mac[MAC_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, crypto_auth_hmacsha256_KEYBYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)name, strlen(name) + 1);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, mac);
}

/* Reads the entry: 1 read, 0 absent, -1 present but not trustworthy. */
static int read_entry(int dir, const char *name, struct wm_buf *b, const char **why)
{
	wm_autoclose int fd =
		openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0) {
		*why = "cannot be opened as a plain file";
		return errno == ENOENT ? 0 : -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || st.st_size > MAX_ENTRY) {
		*why = "not a private regular file of ours";
		return -1;
	}
	if (wm_buf_read_fd(b, fd) < 0 || b->len > MAX_ENTRY) {
		*why = "unreadable";
		return -1;
	}
	return 1;
}

static bool parse_entry(const struct wm_buf *b, const char *name, struct sb_filter *out,
			const char **why)
{
	struct cache_head h;
	size_t body;

	*why = "malformed";
	if (b->len < sizeof(h) + MAC_LEN)
		return false;
	body = b->len - MAC_LEN;
	memcpy(&h, b->data, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1) != 0 || h.n_insns == 0 ||
	    h.n_insns > MAX_ENTRY || h.n_rules > MAX_ENTRY ||
	    body != sizeof(h) + h.n_insns * sizeof(struct sock_filter) +
			    h.n_rules * sizeof(struct sb_notify_rule))
		return false;
	{
		unsigned char mac[MAC_LEN];

		mac_of(name, b->data, body, mac);
		if (sodium_memcmp(mac, b->data + body, MAC_LEN) != 0) {
			*why = "its MAC does not verify";
			return false;
		}
	}
	out->n_insns = h.n_insns;
	out->insns = wm_xmalloc(h.n_insns * sizeof(struct sock_filter));
	memcpy(out->insns, b->data + sizeof(h), h.n_insns * sizeof(struct sock_filter));
	out->n_rules = h.n_rules;
	out->rules = wm_xcalloc(h.n_rules + 1, sizeof(struct sb_notify_rule));
	memcpy(out->rules, b->data + sizeof(h) + h.n_insns * sizeof(struct sock_filter),
	       h.n_rules * sizeof(struct sb_notify_rule));
	out->dflt = h.dflt;
	return true;
}

bool sb_filter_cache_load(const struct wm_policy *p, struct sb_filter *out, char **note)
{
	wm_autofree char *dir = NULL;
	wm_autofree char *name = NULL;
	wm_autoclose int dfd = -1;
	struct wm_buf b = WM_BUF_INIT;
	const char *why = NULL;
	bool ok = false;
	int rc;

	if (!key || !(name = entry_name(p, out->notify)) || !(dir = sb_cache_dir("seccomp", NULL)))
		return false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return false;
	rc = read_entry(dfd, name, &b, &why);
	if (rc > 0)
		ok = parse_entry(&b, name, out, &why);
	if (rc != 0 && !ok && note)
		*note = wm_xasprintf("seccomp cache entry %s/%s for policy `%s` rejected: %s; "
				     "recompiled",
				     dir, name, p->name, why);
	wm_buf_release(&b);
	return ok;
}

/* Best effort: a cache that cannot be written only costs time. The entry
 * is written beside its place and renamed over it, never through a link. */
void sb_filter_cache_store(const struct wm_policy *p, const struct sb_filter *f)
{
	struct cache_head h = { .n_insns = (uint32_t)f->n_insns,
				.n_rules = (uint32_t)f->n_rules,
				.dflt = f->dflt };
	wm_autofree char *dir = NULL;
	wm_autofree char *name = NULL;
	wm_autofree char *tmp = NULL;
	wm_autoclose int dfd = -1;
	unsigned char mac[MAC_LEN];
	struct wm_buf b = WM_BUF_INIT;
	int fd;

	if (!key || !f->insns || !(name = entry_name(p, f->notify)) ||
	    !(dir = sb_cache_dir("seccomp", NULL)))
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	memcpy(h.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1);
	wm_buf_add(&b, &h, sizeof(h));
	wm_buf_add(&b, f->insns, f->n_insns * sizeof(struct sock_filter));
	if (f->n_rules)
		wm_buf_add(&b, f->rules, f->n_rules * sizeof(struct sb_notify_rule));
	mac_of(name, b.data, b.len, mac);
	wm_buf_add(&b, mac, sizeof(mac));
	tmp = wm_xasprintf(".%s.%d.tmp", name, (int)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		bool ok = write(fd, b.data, b.len) == (ssize_t)b.len;

		close(fd);
		if (!ok || renameat(dfd, tmp, dfd, name) != 0)
			unlinkat(dfd, tmp, 0);
	}
	wm_buf_release(&b);
}
