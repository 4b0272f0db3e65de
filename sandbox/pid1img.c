/*
 * pid1img.c - the embedded pid 1 program (pid1/pid1.c), ready to exec.
 *
 * The image is written once per process into a memfd that is sealed
 * against any change and made execute-only (mode 0111): a process exec'ing
 * a file it cannot read is made non-dumpable by the kernel from the first
 * instruction, so the task can never read or write pid 1's memory. Hosts
 * that refuse to exec memfds (vm.memfd_noexec=2, some LSMs) get -1, and the
 * sandbox's init then stays a (non-dumpable, scrubbed) copy of wm; `wm
 * doctor` says so.
 *
 * Init's filter, loaded just before that exec, allows the pid 1 loop and
 * the static C library's start-up, and one exec: of the image's fd. Opening
 * and duplicating files are denied, so nothing else can take that fd's
 * place once the image is running.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "sandbox/internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* The image and its size, laid down by the assembler (pid1/pid1.mk). */
extern const unsigned char wm_pid1_image[];
extern const uint64_t wm_pid1_image_size;

static int make_image(void)
{
	size_t len = (size_t)wm_pid1_image_size, off = 0;
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd = memfd_create("wm-pid1", flags | MFD_EXEC);

	/* Kernels before 6.3 know no MFD_EXEC: their memfds are executable. */
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("wm-pid1", flags);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, wm_pid1_image + off, len - off);

		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, 0111) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int sb_pid1_image_fd(void)
{
	static int fd = -2;

	if (fd == -2)
		fd = make_image();
	return fd;
}

/* What the pid 1 loop calls, and what a static glibc calls before main. */
static const char *const allowed[] = {
	"rt_sigprocmask",
	"rt_sigtimedwait",
	"rt_sigreturn",
	"kill",
	"wait4",
	"waitid",
	"exit",
	"exit_group",
	"prctl",
	"brk",
	"mmap",
	"munmap",
	"mprotect",
	"arch_prctl",
	"set_tid_address",
	"set_robust_list",
	"rseq",
	"prlimit64",
	"getrandom",
	"readlink",
	"readlinkat",
	"close",
	"newfstatat",
	"uname",
};

static int compile(struct sb_filter *f, struct wm_error **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	struct scmp_arg_cmp sock = ARG0(SCMP_CMP_EQ, WM_PID1_SOCK_FD, 0);
	struct scmp_arg_cmp exe = ARG0(SCMP_CMP_EQ, WM_PID1_EXE_FD, 0);
	int rc = -1;

	if (!ctx)
		return wm_error_set(err, ENOMEM, "seccomp_init");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			goto out;
	}
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, &sock) < 0 ||
	    seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execveat), 1, &exe) < 0)
		goto out;
	rc = sb_filter_export(ctx, f, err);
out:
	if (rc < 0 && !(err && *err))
		wm_error_set(err, EINVAL, "compile the filter of the sandbox's pid 1");
	seccomp_release(ctx);
	return rc;
}

const struct sb_filter *sb_pid1_filter(struct wm_error **err)
{
	static struct sb_filter f;
	static bool done;

	if (!done) {
		if (compile(&f, err) < 0)
			return NULL;
		done = true;
	}
	return &f;
}
