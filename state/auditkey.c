/*
 * auditkey.c - the audit MAC key: loading it into a page of its own,
 * creating it once, replacing it on `wm audit rekey`, deriving subkeys.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "state/audit.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct wm_audit_key {
	unsigned char *bytes; /* WM_AUDIT_KEY_LEN bytes at the start of their own page */
	size_t page;
	char *state_dir; /* where it came from (wm_audit_key_refresh) */
	int sfd;	 /* that directory, held for wm_audit_key_refresh; -1 none */
	dev_t dev;	 /* identity of the key file it was read from */
	ino_t ino;
};

/* The key lives in an anonymous page that a fork does not copy
 * (MADV_DONTFORK: a forked sandbox helper never carries it) and a core
 * dump leaves out (MADV_DONTDUMP); it is locked in memory where allowed
 * and zeroed before it is unmapped. */
static struct wm_audit_key *key_alloc(struct wm_error **err)
{
	long page = sysconf(_SC_PAGESIZE);
	struct wm_audit_key *k;
	void *p;

	if (page <= 0)
		page = 4096;
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		wm_error_set(err, errno, "map a page for the audit key");
		return NULL;
	}
	if (madvise(p, (size_t)page, MADV_DONTFORK) < 0 ||
	    madvise(p, (size_t)page, MADV_DONTDUMP) < 0) {
		wm_error_set(err, errno, "keep the audit key out of forks and core dumps");
		munmap(p, (size_t)page);
		return NULL;
	}
	(void)mlock(p, (size_t)page); /* best effort: RLIMIT_MEMLOCK may forbid it */
	k = wm_xcalloc(1, sizeof(*k));
	k->bytes = p;
	k->page = (size_t)page;
	k->sfd = -1;
	return k;
}

void wm_audit_key_free(struct wm_audit_key *k)
{
	if (!k)
		return;
	sodium_memzero(k->bytes, k->page);
	munlock(k->bytes, k->page);
	munmap(k->bytes, k->page);
	if (k->sfd >= 0)
		close(k->sfd);
	free(k->state_dir);
	free(k);
}

const unsigned char *wm_audit_key_bytes(const struct wm_audit_key *k)
{
	return k->bytes;
}

/* A key that is no regular file of mode 0600 and 32 bytes is refused with
 * exit code 2, as a missing one is: the log cannot be verified with it. */
static int read_key(int sfd, const char *state_dir, unsigned char key[WM_AUDIT_KEY_LEN],
		    struct stat *id, struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/" WM_AUDIT_KEY_FILE, state_dir);
	wm_autoclose int fd = wm_safe_open(sfd, state_dir, WM_AUDIT_KEY_FILE, O_RDONLY, 0, err);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return wm_err_errnum(err) == ENOENT ? -1 : wm_error_wrapx(err, WM_EXIT_USAGE, NULL);
	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat audit key `%s`", path);
	if (st.st_mode & 077)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s` must be a regular file of mode 0600 (is %04o)",
				     path, (unsigned)(st.st_mode & 07777));
	if (st.st_size != WM_AUDIT_KEY_LEN)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s` must be %d bytes (is %lld)", path,
				     WM_AUDIT_KEY_LEN, (long long)st.st_size);
	n = read(fd, key, WM_AUDIT_KEY_LEN);
	if (n != WM_AUDIT_KEY_LEN)
		return wm_error_set(err, n < 0 ? errno : EIO, "read audit key `%s`", path);
	if (id)
		*id = st;
	return 0;
}

/* Writes a new key under a temporary name, then links it into place: a
 * concurrent reader sees either no key or a complete one, and of two racing
 * creators the link of only one succeeds (the other reads the winner's). */
static int create_key(int sfd, const char *state_dir, struct wm_error **err)
{
	unsigned char key[WM_AUDIT_KEY_LEN];
	wm_autofree char *tmp = wm_xasprintf(".audit.key.%d", (int)getpid());
	wm_autoclose int fd = -1;
	int rc = -1;

	unlinkat(sfd, tmp, 0);
	fd = wm_safe_open(sfd, state_dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600, err);
	if (fd < 0)
		return wm_error_wrap(err, "create audit key");
	randombytes_buf(key, sizeof(key));
	if (wm_write_all(fd, key, sizeof(key)) < 0 || fsync(fd) < 0) {
		wm_error_set(err, errno ? errno : EIO, "write audit key `%s/%s`", state_dir, tmp);
		goto out;
	}
	if (linkat(sfd, tmp, sfd, WM_AUDIT_KEY_FILE, 0) < 0 && errno != EEXIST) {
		wm_error_set(err, errno, "create audit key `%s/" WM_AUDIT_KEY_FILE "`", state_dir);
		goto out;
	}
	rc = fsync(sfd) < 0 && errno != EINVAL
		     ? wm_error_set(err, errno, "fsync directory `%s`", state_dir)
		     : 0;
out:
	sodium_memzero(key, sizeof(key));
	unlinkat(sfd, tmp, 0);
	return rc;
}

/* How many runs $STATE/runs holds (0 when there is no such directory). */
static size_t count_runs(int sfd)
{
	int fd = openat(sfd, "runs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t n = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)))
		n += wm_run_id_valid(e->d_name);
	closedir(d);
	return n;
}

static int open_state_dir(const char *state_dir, bool create, struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/" WM_AUDIT_KEY_FILE, state_dir);
	struct wm_error *e = NULL;
	int sfd;

	if (sodium_init() < 0)
		return wm_error_set(err, 0, "libsodium cannot initialise");
	if (create && wm_state_dir_make(state_dir, err) < 0)
		return -1;
	/* The state directory is opened as the user gave it (safeio.h): only
	 * what lies inside it is held to the no-link rules. */
	sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		wm_error_set(&e, errno, "open state directory `%s`", state_dir);
	if (sfd >= 0 || e->errnum != ENOENT) {
		if (sfd < 0)
			wm_err_pass(err, e);
		return sfd;
	}
	wm_error_free(e);
	return wm_error_setx(err, WM_EXIT_USAGE,
			     "audit key `%s` is missing: the log cannot be verified", path);
}

/* A missing key is made only where no run exists: the logs of existing runs
 * were made with the lost key, and a new one would make every older line
 * read as edited. `wm audit rekey` says so explicitly (WM_AUDIT_KEY_REKEY). */
static int create_allowed(int sfd, const char *state_dir, unsigned flags, struct wm_error **err)
{
	size_t n;

	if (!(flags & WM_AUDIT_KEY_CREATE))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s/" WM_AUDIT_KEY_FILE
				     "` is missing: the log cannot be verified",
				     state_dir);
	n = count_runs(sfd);
	if (n && !(flags & WM_AUDIT_KEY_REKEY))
		return wm_error_setx(
			err, WM_EXIT_USAGE,
			"audit key `%s/" WM_AUDIT_KEY_FILE "` is missing but %zu run%s exist%s: "
			"their audit logs were made with it. If it is lost for good, `wm audit "
			"rekey` makes a new key and records the change in every run's log",
			state_dir, n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	return 0;
}

struct wm_audit_key *wm_audit_key_open(const char *state_dir, unsigned flags, struct wm_error **err)
{
	wm_autoclose int sfd = open_state_dir(state_dir, flags & WM_AUDIT_KEY_CREATE, err);
	struct wm_audit_key *k = NULL;
	struct wm_error *e = NULL;
	struct stat st;

	if (sfd < 0 || !(k = key_alloc(err)))
		return NULL;
	k->state_dir = wm_xstrdup(state_dir);
	if (read_key(sfd, state_dir, k->bytes, &st, &e) == 0)
		goto done;
	if (e->errnum != ENOENT) {
		wm_err_pass(err, e);
		goto fail;
	}
	wm_error_free(e);
	if (create_allowed(sfd, state_dir, flags, err) < 0 || create_key(sfd, state_dir, err) < 0 ||
	    read_key(sfd, state_dir, k->bytes, &st, err) < 0)
		goto fail;
done:
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->sfd = wm_steal_fd(&sfd);
	return k;
fail:
	wm_audit_key_free(k);
	return NULL;
}

int wm_audit_key_load(const char *state_dir, bool create, unsigned char key[WM_AUDIT_KEY_LEN],
		      struct wm_error **err)
{
	struct wm_audit_key *k =
		wm_audit_key_open(state_dir, create ? WM_AUDIT_KEY_CREATE : 0, err);

	if (!k)
		return -1;
	memcpy(key, k->bytes, WM_AUDIT_KEY_LEN);
	wm_audit_key_free(k);
	return 0;
}

void wm_audit_key_id(const unsigned char *key, char id[WM_AUDIT_KEY_ID_LEN + 1])
{
	static const char ctx[] = "wm audit key id";
	unsigned char h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof(h), (const unsigned char *)ctx, sizeof(ctx) - 1, key,
			   WM_AUDIT_KEY_LEN);
	sodium_bin2hex(id, WM_AUDIT_KEY_ID_LEN + 1, h, WM_AUDIT_KEY_ID_LEN / 2);
}

int wm_audit_key_derive_from(const struct wm_audit_key *k, const char *context8,
			     unsigned char out[WM_AUDIT_SUBKEY_LEN], struct wm_error **err)
{
	if (!context8 || strlen(context8) != crypto_kdf_CONTEXTBYTES)
		return wm_error_set(err, EINVAL, "key context must be %d characters, not '%s'",
				    crypto_kdf_CONTEXTBYTES, context8 ? context8 : "");
	if (crypto_kdf_derive_from_key(out, WM_AUDIT_SUBKEY_LEN, 1, context8, k->bytes) != 0)
		return wm_error_set(err, EINVAL, "derive a key for '%s'", context8);
	return 0;
}

int wm_audit_key_derive(const char *state_dir, const char *context8,
			unsigned char out[WM_AUDIT_SUBKEY_LEN], struct wm_error **err)
{
	struct wm_audit_key *k = wm_audit_key_open(state_dir, WM_AUDIT_KEY_CREATE, err);
	int rc;

	if (!k)
		return -1;
	rc = wm_audit_key_derive_from(k, context8, out, err);
	wm_audit_key_free(k);
	return rc;
}

int wm_audit_key_replace(const char *state_dir, char old_id[WM_AUDIT_KEY_ID_LEN + 1],
			 char new_id[WM_AUDIT_KEY_ID_LEN + 1], struct wm_error **err)
{
	wm_autoclose int sfd = open_state_dir(state_dir, true, err);
	struct wm_audit_key *k = NULL;
	struct wm_error *e = NULL;
	struct stat st;
	int rc = -1;

	old_id[0] = '\0';
	if (sfd < 0 || !(k = key_alloc(err)))
		goto out;
	if (read_key(sfd, state_dir, k->bytes, NULL, &e) == 0)
		wm_audit_key_id(k->bytes, old_id);
	wm_error_free(e);
	/* Whatever holds the name goes aside, kept, never followed: the old
	 * key can still check the lines made before the change. */
	if (fstatat(sfd, WM_AUDIT_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		wm_autofree char *aside =
			wm_xasprintf(WM_AUDIT_KEY_FILE ".retired-%s-%lld",
				     old_id[0] ? old_id : "unreadable", (long long)wm_wall_ms());

		if (renameat(sfd, WM_AUDIT_KEY_FILE, sfd, aside) < 0) {
			wm_error_set(err, errno, "move the old audit key aside");
			goto out;
		}
	}
	if (create_key(sfd, state_dir, err) < 0 ||
	    read_key(sfd, state_dir, k->bytes, NULL, err) < 0)
		goto out;
	wm_audit_key_id(k->bytes, new_id);
	rc = 0;
out:
	wm_audit_key_free(k);
	return rc;
}

int wm_audit_key_refresh(struct wm_audit_key *k, char old_id[WM_AUDIT_KEY_ID_LEN + 1],
			 char new_id[WM_AUDIT_KEY_ID_LEN + 1], struct wm_error **err)
{
	int sfd = k->sfd;
	struct wm_audit_key *fresh = NULL;
	struct stat st;
	int rc = 0;

	/* Missing (between a rekey's rename and link) or the same file: keep
	 * the key in hand. */
	if (sfd < 0 || fstatat(sfd, WM_AUDIT_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (st.st_dev == k->dev && st.st_ino == k->ino))
		return 0;
	fresh = key_alloc(err);
	if (!fresh || read_key(sfd, k->state_dir, fresh->bytes, &st, err) < 0) {
		rc = -1;
		goto out;
	}
	wm_audit_key_id(k->bytes, old_id);
	wm_audit_key_id(fresh->bytes, new_id);
	memcpy(k->bytes, fresh->bytes, WM_AUDIT_KEY_LEN);
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	rc = 1;
out:
	wm_audit_key_free(fresh);
	return rc;
}
