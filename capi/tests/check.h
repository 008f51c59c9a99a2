/* Small assertion helpers shared by the C tests of libftarray. Every failed check prints
 * where and why (with the library's last error message) and exits with status 1. */
#ifndef FTARRAY_TEST_CHECK_H
#define FTARRAY_TEST_CHECK_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftarray.h"

/* Relaxed atomic: checks run on many threads at once. */
static atomic_ulong checks_passed;
#define COUNT_CHECK() atomic_fetch_add_explicit(&checks_passed, 1, memory_order_relaxed)

static inline void check_fail_status(const char *file, int line, const char *expr,
                              ftarray_status got, ftarray_status want) {
    char msg[512];
    ftarray_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", file, line, expr,
            ftarray_status_str((int)got), ftarray_status_str((int)want), msg);
    exit(1);
}

/* `cond` must hold. */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            exit(1);                                                                         \
        }                                                                                    \
        COUNT_CHECK();                                                                       \
    } while (0)

/* `call` must return `want`. */
#define EXPECT(call, want)                                                                   \
    do {                                                                                     \
        ftarray_status got_ = (call);                                                        \
        if (got_ != (want)) check_fail_status(__FILE__, __LINE__, #call, got_, (want));      \
        COUNT_CHECK();                                                                       \
    } while (0)

/* `call` must succeed. */
#define OK(call) EXPECT(call, FTARRAY_STATUS_OK)

/* The calling thread's last error message (in a static buffer: single-threaded use). */
static inline const char *last_error(void) {
    static char buf[512];
    size_t needed = 0;
    ftarray_last_error(buf, sizeof buf, &needed);
    return buf;
}

/* The length of `a`. */
static inline size_t len_of(const ftarray *a) {
    size_t n = 0;
    OK(ftarray_len(a, &n));
    return n;
}

/* Prints the closing line the test script counts. */
static inline int report(const char *name) {
    printf("%s: all %lu checks passed\n", name, atomic_load(&checks_passed));
    return 0;
}

#endif
