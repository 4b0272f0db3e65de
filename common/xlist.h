/*
 * xlist.h - one list per enum (DESIGN.md).
 *
 * A value is written once, as a line of an X-macro list whose first two
 * columns are the enumerator and its name; further columns (descriptions,
 * ranks) are the list's own:
 *
 *     #define WM_COLOURS(X)                      \
 *             X(WM_RED, "red", "warm")           \
 *             X(WM_BLUE, "blue", "cold")
 *     enum wm_colour { WM_COLOURS(WM_XLIST_ENUM) };
 *     #define WM_COLOUR_COUNT (0 WM_COLOURS(WM_XLIST_COUNT))
 *     static const char *const names[] = { WM_COLOURS(WM_XLIST_NAME) };
 *
 * The enum, its count, the names and every other table come from the same
 * lines, so adding a value is one line and a table cannot miss one. The
 * count is a plain int constant, not an enumerator: switches over the enum
 * stay checked by -Wswitch, and the count converts to any enum without
 * -Wenum-conversion. wm_xlist_index() is the one parser of such names.
 */
#ifndef WM_COMMON_XLIST_H
#define WM_COMMON_XLIST_H

#include <stddef.h>
#include <string.h>

/* The extra `0` keeps every expansion valid for lists of two columns. */
#define WM_XLIST_ENUM(...) WM_XLIST_ENUM_(__VA_ARGS__, 0)
#define WM_XLIST_ENUM_(e, ...) e,
/* A sum's terms cannot take the parentheses clang-tidy asks for. */
#define WM_XLIST_COUNT(...) +1 /* NOLINT(bugprone-macro-parentheses) */
#define WM_XLIST_NAME(...) WM_XLIST_NAME_(__VA_ARGS__, 0)
#define WM_XLIST_NAME_(e, name, ...) [e] = name,

#define WM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The index of s in names[0..n), or -1 (s NULL or not found). */
static inline int wm_xlist_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

#endif
