/*
 * lazyarchive.h - libarchive, loaded when first needed.
 *
 * libarchive brings libxml2, ICU and libstdc++ with it; linked into wm,
 * the dynamic loader spends 6 ms of every start relocating them, though
 * only a rootfs tarball and `wm export` use it. So wm is not linked with
 * it: a file that uses libarchive includes this header instead of
 * <archive.h> and calls wm_archive_load() before its first archive_* call.
 * The archive_* names below then go through a table filled by dlsym().
 *
 * A libarchive function not listed here does not link: add it to
 * WM_ARCHIVE_FUNCS and to the #define list, both in the same order.
 */
#ifndef WM_COMMON_LAZYARCHIVE_H
#define WM_COMMON_LAZYARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "common/error.h"

#define WM_ARCHIVE_FUNCS(X)                \
	X(archive_entry_copy_stat)         \
	X(archive_entry_filetype)          \
	X(archive_entry_free)              \
	X(archive_entry_gid)               \
	X(archive_entry_hardlink)          \
	X(archive_entry_new)               \
	X(archive_entry_pathname)          \
	X(archive_entry_perm)              \
	X(archive_entry_set_gid)           \
	X(archive_entry_set_hardlink)      \
	X(archive_entry_set_pathname)      \
	X(archive_entry_set_perm)          \
	X(archive_entry_set_size)          \
	X(archive_entry_set_symlink)       \
	X(archive_entry_set_uid)           \
	X(archive_entry_size)              \
	X(archive_entry_size_is_set)       \
	X(archive_entry_uid)               \
	X(archive_entry_xattr_add_entry)   \
	X(archive_entry_xattr_clear)       \
	X(archive_entry_xattr_next)        \
	X(archive_entry_xattr_reset)       \
	X(archive_errno)                   \
	X(archive_error_string)            \
	X(archive_read_data)               \
	X(archive_read_data_block)         \
	X(archive_read_free)               \
	X(archive_read_new)                \
	X(archive_read_next_header)        \
	X(archive_read_open)               \
	X(archive_read_open_filename)      \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_all) \
	X(archive_read_support_format_raw) \
	X(archive_read_support_format_tar) \
	X(archive_write_add_filter_zstd)   \
	X(archive_write_close)             \
	X(archive_write_data)              \
	X(archive_write_data_block)        \
	X(archive_write_disk_new)          \
	X(archive_write_disk_set_options)  \
	X(archive_write_finish_entry)      \
	X(archive_write_free)              \
	X(archive_write_header)            \
	X(archive_write_new)               \
	X(archive_write_open_filename)     \
	X(archive_write_set_format_pax_restricted)

struct wm_archive_api {
#define WM_ARCHIVE_MEMBER(f) __typeof__(f) *f;
	WM_ARCHIVE_FUNCS(WM_ARCHIVE_MEMBER)
#undef WM_ARCHIVE_MEMBER
};

extern struct wm_archive_api wm_archive_api;

/* Loads libarchive once per process. -1 with an error naming the library
 * and how to install it when it cannot be loaded. */
int wm_archive_load(struct wm_error **err);

#ifndef WM_LAZYARCHIVE_IMPL
#define archive_entry_copy_stat (wm_archive_api.archive_entry_copy_stat)
#define archive_entry_filetype (wm_archive_api.archive_entry_filetype)
#define archive_entry_free (wm_archive_api.archive_entry_free)
#define archive_entry_gid (wm_archive_api.archive_entry_gid)
#define archive_entry_hardlink (wm_archive_api.archive_entry_hardlink)
#define archive_entry_new (wm_archive_api.archive_entry_new)
#define archive_entry_pathname (wm_archive_api.archive_entry_pathname)
#define archive_entry_perm (wm_archive_api.archive_entry_perm)
#define archive_entry_set_gid (wm_archive_api.archive_entry_set_gid)
#define archive_entry_set_hardlink (wm_archive_api.archive_entry_set_hardlink)
#define archive_entry_set_pathname (wm_archive_api.archive_entry_set_pathname)
#define archive_entry_set_perm (wm_archive_api.archive_entry_set_perm)
#define archive_entry_set_size (wm_archive_api.archive_entry_set_size)
#define archive_entry_set_symlink (wm_archive_api.archive_entry_set_symlink)
#define archive_entry_set_uid (wm_archive_api.archive_entry_set_uid)
#define archive_entry_size (wm_archive_api.archive_entry_size)
#define archive_entry_size_is_set (wm_archive_api.archive_entry_size_is_set)
#define archive_entry_uid (wm_archive_api.archive_entry_uid)
#define archive_entry_xattr_add_entry (wm_archive_api.archive_entry_xattr_add_entry)
#define archive_entry_xattr_clear (wm_archive_api.archive_entry_xattr_clear)
#define archive_entry_xattr_next (wm_archive_api.archive_entry_xattr_next)
#define archive_entry_xattr_reset (wm_archive_api.archive_entry_xattr_reset)
#define archive_errno (wm_archive_api.archive_errno)
#define archive_error_string (wm_archive_api.archive_error_string)
#define archive_read_data (wm_archive_api.archive_read_data)
#define archive_read_data_block (wm_archive_api.archive_read_data_block)
#define archive_read_free (wm_archive_api.archive_read_free)
#define archive_read_new (wm_archive_api.archive_read_new)
#define archive_read_next_header (wm_archive_api.archive_read_next_header)
#define archive_read_open (wm_archive_api.archive_read_open)
#define archive_read_open_filename (wm_archive_api.archive_read_open_filename)
#define archive_read_support_filter_all (wm_archive_api.archive_read_support_filter_all)
#define archive_read_support_format_all (wm_archive_api.archive_read_support_format_all)
#define archive_read_support_format_raw (wm_archive_api.archive_read_support_format_raw)
#define archive_read_support_format_tar (wm_archive_api.archive_read_support_format_tar)
#define archive_write_add_filter_zstd (wm_archive_api.archive_write_add_filter_zstd)
#define archive_write_close (wm_archive_api.archive_write_close)
#define archive_write_data (wm_archive_api.archive_write_data)
#define archive_write_data_block (wm_archive_api.archive_write_data_block)
#define archive_write_disk_new (wm_archive_api.archive_write_disk_new)
#define archive_write_disk_set_options (wm_archive_api.archive_write_disk_set_options)
#define archive_write_finish_entry (wm_archive_api.archive_write_finish_entry)
#define archive_write_free (wm_archive_api.archive_write_free)
#define archive_write_header (wm_archive_api.archive_write_header)
#define archive_write_new (wm_archive_api.archive_write_new)
#define archive_write_open_filename (wm_archive_api.archive_write_open_filename)
#define archive_write_set_format_pax_restricted \
	(wm_archive_api.archive_write_set_format_pax_restricted)
#endif

#endif
