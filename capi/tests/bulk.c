/* Bulk access: ranges copied out and set from a buffer (Python's step-1 slice bounds, one
 * instant), typed fills, nbytes, shrink_to_fit, sort; for every element type.
 *
 * The threaded part: a writer replaces the whole array with one stamp repeated (one step
 * each), while readers copy ranges: every copy must hold one stamp only (a range is one
 * instant), and a reader's fills never mix with a writer's rewrite.
 * Usage: bulk [ROUNDS]   (writer rounds of the threaded part; default 20000) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "check.h"

static const char CODES[] = "bBhHiIlLqQfduw";

static size_t itemsize_of(const ftarray *a) {
    size_t n = 0;
    OK(ftarray_itemsize(a, &n));
    return n;
}

/* a = [0, 1, ..., n-1] in `code` (code points from 0x41 for character arrays). */
static ftarray *iota(char code, int64_t n) {
    ftarray *a = NULL;
    OK(ftarray_new(code, &a));
    for (int64_t k = 0; k < n; k++) {
        if (code == 'f' || code == 'd') OK(ftarray_push_f64(a, (double)k));
        else if (code == 'u' || code == 'w') OK(ftarray_push_i64(a, 0x41 + k));
        else OK(ftarray_push_i64(a, k));
    }
    return a;
}

/* The bytes of a[i] (through the single-element call, to compare with). */
static void element(const ftarray *a, ptrdiff_t i, unsigned char *out) {
    OK(ftarray_get_bytes(a, i, out, itemsize_of(a)));
}

static void ranges_every_type(void) {
    const ptrdiff_t bounds[] = {PTRDIFF_MIN, -20, -10, -3, -1, 0, 1, 3, 9, 10, 11, PTRDIFF_MAX};
    const size_t nb = sizeof bounds / sizeof bounds[0];
    for (const char *c = CODES; *c; c++) {
        ftarray *a = iota(*c, 10);
        size_t item = itemsize_of(a);
        unsigned char buf[256], one[8];
        for (size_t s = 0; s < nb; s++) {
            for (size_t t = 0; t < nb; t++) {
                ptrdiff_t start = bounds[s], stop = bounds[t];
                /* Python's clamping for step 1. */
                ptrdiff_t lo = start < 0 ? (start < -10 ? 0 : start + 10) : (start > 10 ? 10 : start);
                ptrdiff_t hi = stop < 0 ? (stop < -10 ? 0 : stop + 10) : (stop > 10 ? 10 : stop);
                size_t want = hi > lo ? (size_t)(hi - lo) : 0;
                size_t got = 999;
                memset(buf, 0xEE, sizeof buf);
                OK(ftarray_get_range(a, start, stop, buf, sizeof buf, &got));
                CHECK(got == want * item);
                for (size_t k = 0; k < want; k++) {
                    element(a, lo + (ptrdiff_t)k, one);
                    CHECK(memcmp(buf + k * item, one, item) == 0);
                }
                CHECK(buf[got] == 0xEE); /* nothing past the range */
            }
        }
        /* Too small: nothing written, the size needed reported. */
        size_t got = 0;
        memset(buf, 0xEE, sizeof buf);
        EXPECT(ftarray_get_range(a, 2, 8, buf, 6 * item - 1, &got), FTARRAY_STATUS_BUFFER_TOO_SMALL);
        CHECK(got == 6 * item && buf[0] == 0xEE);
        EXPECT(ftarray_get_range(a, 2, 8, NULL, 0, &got), FTARRAY_STATUS_BUFFER_TOO_SMALL);
        CHECK(got == 6 * item); /* the size query */
        EXPECT(ftarray_get_range(a, 0, 1, NULL, 8, &got), FTARRAY_STATUS_NULL_ARGUMENT);

        /* Set a range from a buffer: same length only; one instant; bits as they are. */
        unsigned char src[64];
        OK(ftarray_get_range(a, 0, 3, src, sizeof src, &got)); /* elements 0, 1, 2 */
        OK(ftarray_set_range(a, -3, PTRDIFF_MAX, src, 3 * item)); /* a[7:10] = a[0:3] */
        for (int k = 0; k < 3; k++) {
            unsigned char x[8], y[8];
            element(a, k, x);
            element(a, 7 + k, y);
            CHECK(memcmp(x, y, item) == 0);
        }
        EXPECT(ftarray_set_range(a, 0, 2, src, 3 * item), FTARRAY_STATUS_BAD_LENGTH);
        EXPECT(ftarray_set_range(a, 0, 3, src, 3 * item - 1), FTARRAY_STATUS_BAD_LENGTH);
        EXPECT(ftarray_set_range(a, 9, 20, src, 3 * item), FTARRAY_STATUS_BAD_LENGTH); /* clamped: 1 */
        OK(ftarray_set_range(a, 5, 5, NULL, 0));
        CHECK(len_of(a) == 10);

        /* Typed fills. */
        if (*c == 'f' || *c == 'd') {
            OK(ftarray_fill_f64(a, 2, 5, 2.5));
            EXPECT(ftarray_fill_i64(a, 0, 1, 1), FTARRAY_STATUS_OK); /* ints convert to floats */
            double x;
            OK(ftarray_get_f64(a, 4, &x));
            CHECK(x == 2.5);
            OK(ftarray_get_f64(a, 5, &x));
            CHECK(x == 5.0);
        } else if (*c == 'u' || *c == 'w') {
            uint32_t cp = 0x263A;
            OK(ftarray_fill_bytes(a, -2, PTRDIFF_MAX, &cp, item));
            int64_t x;
            OK(ftarray_get_i64(a, -1, &x));
            CHECK(x == 0x263A);
            EXPECT(ftarray_fill_f64(a, 0, 1, 1.0), FTARRAY_STATUS_WRONG_KIND);
            if (item == 4) {
                uint32_t bad = 0x110000;
                EXPECT(ftarray_fill_bytes(a, 0, 10, &bad, 4), FTARRAY_STATUS_OVERFLOW);
            }
        } else {
            OK(ftarray_fill_i64(a, 1, -1, 7));
            int64_t x;
            OK(ftarray_get_i64(a, 8, &x));
            CHECK(x == 7);
            OK(ftarray_get_i64(a, 9, &x));
            CHECK(x != 7);
            EXPECT(ftarray_fill_i64(a, 0, 10, 1000000), item < 4 ? FTARRAY_STATUS_OVERFLOW : FTARRAY_STATUS_OK);
            EXPECT(ftarray_fill_u64(a, 0, 10, UINT64_MAX),
                   *c == 'Q' || (*c == 'L' && item == 8) ? FTARRAY_STATUS_OK : FTARRAY_STATUS_OVERFLOW);
            EXPECT(ftarray_fill_f64(a, 0, 1, 1.0), FTARRAY_STATUS_WRONG_KIND);
        }
        CHECK(len_of(a) == 10);

        /* nbytes and shrink_to_fit. */
        OK(ftarray_reserve(a, 1000));
        size_t big = 0, small = 0;
        OK(ftarray_nbytes(a, &big));
        CHECK(big >= 1010 * item);
        OK(ftarray_shrink_to_fit(a));
        OK(ftarray_nbytes(a, &small));
        CHECK(small < big && small >= 10 * item);
        size_t cap = 0;
        OK(ftarray_capacity(a, &cap));
        CHECK(cap >= 10 && cap < 1010);
        OK(ftarray_free(a));
    }
}

static void sort_every_type(void) {
    for (const char *c = CODES; *c; c++) {
        ftarray *a = NULL;
        OK(ftarray_new(*c, &a));
        const int64_t v[] = {5, 3, 9, 0, 3, 7, 1};
        for (size_t k = 0; k < 7; k++) {
            if (*c == 'f' || *c == 'd') OK(ftarray_push_f64(a, (double)v[k]));
            else OK(ftarray_push_i64(a, v[k] + (*c == 'u' || *c == 'w' ? 0x41 : 0)));
        }
        OK(ftarray_sort(a));
        for (ptrdiff_t i = 1; i < 7; i++) {
            if (*c == 'f' || *c == 'd') {
                double x, y;
                OK(ftarray_get_f64(a, i - 1, &x));
                OK(ftarray_get_f64(a, i, &y));
                CHECK(x <= y);
            } else {
                int64_t x, y;
                OK(ftarray_get_i64(a, i - 1, &x));
                OK(ftarray_get_i64(a, i, &y));
                CHECK(x <= y);
            }
        }
        OK(ftarray_free(a));
    }
    /* Floats: IEEE total order, NaNs included (never an undefined order). */
    ftarray *d = NULL;
    OK(ftarray_new('d', &d));
    const double in[] = {1.0, NAN, -0.0, -INFINITY, 0.0, -NAN, 2.0};
    for (size_t k = 0; k < 7; k++) OK(ftarray_push_f64(d, in[k]));
    OK(ftarray_sort(d));
    double out[7];
    size_t got = 0;
    OK(ftarray_get_range(d, 0, PTRDIFF_MAX, out, sizeof out, &got));
    CHECK(got == sizeof out);
    CHECK(isnan(out[0]) && signbit(out[0]));
    CHECK(out[1] == -INFINITY);
    CHECK(out[2] == 0.0 && signbit(out[2]));
    CHECK(out[3] == 0.0 && !signbit(out[3]));
    CHECK(out[4] == 1.0 && out[5] == 2.0);
    CHECK(isnan(out[6]) && !signbit(out[6]));
    OK(ftarray_free(d));
}

/* Threaded: whole-array rewrites to one stamp; range copies must see one stamp. */
enum { LEN = 2048 };
static ftarray *shared;
static atomic_int stop;

static void *rewriter(void *arg) {
    long rounds = (long)arg;
    static int64_t block[LEN];
    for (long r = 1; r <= rounds; r++) {
        if (r % 2) {
            for (int i = 0; i < LEN; i++) block[i] = r;
            OK(ftarray_set_range(shared, 0, PTRDIFF_MAX, block, sizeof block));
        } else {
            OK(ftarray_fill_i64(shared, 0, PTRDIFF_MAX, r));
        }
    }
    atomic_store(&stop, 1);
    return NULL;
}

static void *range_reader(void *arg) {
    long k = (long)arg;
    int64_t buf[LEN];
    long copies = 0;
    while (!atomic_load(&stop)) {
        ptrdiff_t start = (ptrdiff_t)((copies * 37 + k * 11) % LEN), stop_at = start + 1 + (copies % 700);
        size_t got = 0;
        OK(ftarray_get_range(shared, start, stop_at, buf, sizeof buf, &got));
        size_t n = got / sizeof buf[0];
        for (size_t i = 1; i < n; i++) {
            if (buf[i] != buf[0]) {
                fprintf(stderr, "bulk: a range mixed stamps %" PRId64 " and %" PRId64 "\n", buf[0], buf[i]);
                exit(1);
            }
        }
        copies++;
    }
    return NULL;
}

static void ranges_are_one_instant(long rounds) {
    OK(ftarray_new('q', &shared));
    OK(ftarray_resize(shared, LEN, NULL, 0));
    pthread_t w, r[2];
    for (long k = 0; k < 2; k++) pthread_create(&r[k], NULL, range_reader, (void *)k);
    pthread_create(&w, NULL, rewriter, (void *)rounds);
    pthread_join(w, NULL);
    for (int k = 0; k < 2; k++) pthread_join(r[k], NULL);
    OK(ftarray_free(shared));
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 20000;
    ranges_every_type();
    sort_every_type();
    ranges_are_one_instant(rounds);
    OK(ftarray_drain());
    return report("bulk");
}
