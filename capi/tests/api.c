/* Every entry point of libftarray, on its success paths, single-threaded: results checked
 * against what Python's array module would give. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "check.h"

static ftarray *make(char code) {
    ftarray *a = NULL;
    OK(ftarray_new(code, &a));
    CHECK(a != NULL);
    return a;
}

/* `a` as int64 values; `n` must be its length. */
static void expect_i64(const ftarray *a, const int64_t *want, size_t n) {
    CHECK(len_of(a) == n);
    for (size_t i = 0; i < n; i++) {
        int64_t x = 0;
        OK(ftarray_get_i64(a, (ptrdiff_t)i, &x));
        if (x != want[i]) {
            fprintf(stderr, "element %zu is %" PRId64 ", expected %" PRId64 "\n", i, x, want[i]);
        }
        CHECK(x == want[i]);
    }
}

static ftarray *from_i64(char code, const int64_t *v, size_t n) {
    ftarray *a = make(code);
    for (size_t i = 0; i < n; i++) OK(ftarray_push_i64(a, v[i]));
    return a;
}

static void test_library(void) {
    const char *v = ftarray_version();
    CHECK(v != NULL && strlen(v) >= 5);
    CHECK(strcmp(ftarray_status_str(FTARRAY_STATUS_OK), "FTARRAY_STATUS_OK") == 0);
    CHECK(strcmp(ftarray_status_str(FTARRAY_STATUS_EXPORTED), "FTARRAY_STATUS_EXPORTED") == 0);
    CHECK(strcmp(ftarray_status_str(FTARRAY_STATUS_ERROR), "FTARRAY_STATUS_ERROR") == 0);
    CHECK(strcmp(ftarray_status_str(-1), "unknown status") == 0);
    CHECK(strcmp(ftarray_status_str(999), "unknown status") == 0);
    OK(ftarray_init());
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    CHECK(st.inits == 1);
}

/* Header and library agree on the version; versioned structs carry their size, and a size the
 * library does not know is refused before anything happens. */
static void test_versioning(void) {
    CHECK(ftarray_version_number() == FTARRAY_VERSION_NUMBER);
    CHECK(strcmp(ftarray_version(), FTARRAY_VERSION) == 0);
    CHECK(FTARRAY_VERSION_NUMBER ==
          FTARRAY_VERSION_MAJOR * 1000000 + FTARRAY_VERSION_MINOR * 1000 + FTARRAY_VERSION_PATCH);
    ftarray_stats st = ftarray_stats_init();
    CHECK(st.size == sizeof st && st.live_handles == 0);
    st.size = sizeof st + 8; /* a newer header than this library */
    EXPECT(ftarray_get_stats(&st), FTARRAY_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "out->size") != NULL);
    st.size = 8; /* no version was ever this small */
    EXPECT(ftarray_get_stats(&st), FTARRAY_STATUS_INVALID_ARGUMENT);
    st.size = sizeof st;
    OK(ftarray_get_stats(&st));
    CHECK(st.size == sizeof st);

    ftarray *a = make('i');
    OK(ftarray_push_i64(a, 7));
    ftarray_buffer e;
    memset(&e, 0, sizeof e); /* size 0: as if the caller forgot to set it */
    EXPECT(ftarray_export_acquire(a, &e), FTARRAY_STATUS_INVALID_ARGUMENT);
    size_t exports = 9;
    OK(ftarray_export_count(a, &exports));
    CHECK(exports == 0); /* nothing was exported */
    e = ftarray_buffer_init();
    OK(ftarray_export_acquire(a, &e));
    CHECK(e.size == sizeof e && e.len == 1 && ((const int *)e.ptr)[0] == 7);
    OK(ftarray_export_release(a, e.token));
    OK(ftarray_free(a));
}

struct type_info {
    char code;
    size_t itemsize;
};

static void test_shape_every_type(void) {
    const struct type_info types[] = {
        {'b', sizeof(signed char)}, {'B', sizeof(unsigned char)}, {'h', sizeof(short)},
        {'H', sizeof(unsigned short)}, {'i', sizeof(int)},       {'I', sizeof(unsigned int)},
        {'l', sizeof(long)},         {'L', sizeof(unsigned long)}, {'q', sizeof(long long)},
        {'Q', sizeof(unsigned long long)}, {'f', sizeof(float)}, {'d', sizeof(double)},
        {'w', 4},
    };
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        ftarray *a = make(types[k].code);
        size_t n = 0;
        char c = 0;
        const char *fmt = NULL;
        bool strict = true;
        OK(ftarray_itemsize(a, &n));
        CHECK(n == types[k].itemsize);
        OK(ftarray_typecode(a, &c));
        CHECK(c == types[k].code);
        OK(ftarray_format(a, &fmt));
        CHECK(fmt[0] == types[k].code && fmt[1] == '\0');
        OK(ftarray_strict_exports(a, &strict));
        CHECK(!strict);
        CHECK(len_of(a) == 0);
        /* 0..9 as integers, through every type (floats and characters too). */
        for (int64_t i = 0; i < 10; i++) OK(ftarray_push_i64(a, i));
        for (int64_t i = 0; i < 10; i++) {
            double d = 0;
            if (types[k].code == 'w') {
                int64_t x = -1;
                OK(ftarray_get_i64(a, (ptrdiff_t)i, &x));
                CHECK(x == i);
            } else {
                OK(ftarray_get_f64(a, (ptrdiff_t)i, &d));
                CHECK(d == (double)i);
            }
        }
        OK(ftarray_capacity(a, &n));
        CHECK(n >= 10);
        /* Bytes out, bytes back in: the same array. */
        unsigned char buf[10 * 8];
        size_t nbytes = 0;
        OK(ftarray_copy_bytes(a, buf, sizeof buf, &nbytes));
        CHECK(nbytes == 10 * types[k].itemsize);
        ftarray *b = NULL;
        OK(ftarray_from_bytes(types[k].code, buf, nbytes, &b));
        bool eq = false;
        OK(ftarray_compare(a, b, FTARRAY_COMPARE_OP_EQ, &eq));
        CHECK(eq);
        /* Element bytes: get, set, push, insert, pop. */
        unsigned char e[8], f[8];
        OK(ftarray_get_bytes(a, 3, e, types[k].itemsize));
        CHECK(memcmp(e, buf + 3 * types[k].itemsize, types[k].itemsize) == 0);
        OK(ftarray_set_bytes(b, 0, e, types[k].itemsize));
        OK(ftarray_push_bytes(b, e, types[k].itemsize));
        OK(ftarray_insert_bytes(b, 1, e, types[k].itemsize));
        CHECK(len_of(b) == 12);
        OK(ftarray_pop(b, -1, f, types[k].itemsize));
        CHECK(memcmp(e, f, types[k].itemsize) == 0);
        OK(ftarray_pop(b, 1, f, types[k].itemsize));
        CHECK(memcmp(e, f, types[k].itemsize) == 0);
        OK(ftarray_get_bytes(b, 0, f, types[k].itemsize));
        CHECK(memcmp(e, f, types[k].itemsize) == 0);
        /* byteswap twice is the identity. */
        OK(ftarray_byteswap(b));
        OK(ftarray_byteswap(b));
        OK(ftarray_set_bytes(b, 0, buf, types[k].itemsize));
        OK(ftarray_compare(a, b, FTARRAY_COMPARE_OP_EQ, &eq));
        CHECK(eq);
        OK(ftarray_free(b));
        OK(ftarray_free(a));
    }
}

static void test_conversions(void) {
    ftarray *q = make('Q');
    OK(ftarray_push_u64(q, UINT64_MAX));
    uint64_t u = 0;
    OK(ftarray_get_u64(q, 0, &u));
    CHECK(u == UINT64_MAX);
    OK(ftarray_free(q));

    ftarray *b = make('b');
    OK(ftarray_push_i64(b, -128));
    OK(ftarray_push_i64(b, 127));
    int64_t x = 0;
    OK(ftarray_get_i64(b, 0, &x));
    CHECK(x == -128);
    OK(ftarray_set_i64(b, 0, -1));
    unsigned char byte = 0;
    OK(ftarray_get_bytes(b, 0, &byte, 1));
    CHECK(byte == 0xff);
    OK(ftarray_free(b));

    ftarray *d = make('d');
    OK(ftarray_push_f64(d, 0.5));
    OK(ftarray_push_i64(d, 3)); /* integers go into float arrays */
    OK(ftarray_push_u64(d, UINT64_MAX));
    double y = 0;
    OK(ftarray_get_f64(d, 1, &y));
    CHECK(y == 3.0);
    OK(ftarray_get_f64(d, 2, &y));
    CHECK(y == 18446744073709551616.0);
    OK(ftarray_set_f64(d, 0, -2.25));
    OK(ftarray_insert_f64(d, 0, 1e300));
    OK(ftarray_get_f64(d, 0, &y));
    CHECK(y == 1e300);
    OK(ftarray_free(d));

    ftarray *f = make('f');
    OK(ftarray_push_f64(f, 0.1)); /* stored as the nearest float */
    OK(ftarray_get_f64(f, 0, &y));
    CHECK(y == (double)0.1f);
    OK(ftarray_free(f));
}

static void test_indices_and_slices(void) {
    const int64_t init[] = {0, 1, 2, 3, 4, 5, 6, 7};
    ftarray *a = from_i64('i', init, 8);
    int64_t x = 0;
    OK(ftarray_get_i64(a, -1, &x));
    CHECK(x == 7);
    OK(ftarray_get_i64(a, -8, &x));
    CHECK(x == 0);
    OK(ftarray_insert_i64(a, -100, -1)); /* clamped to the front */
    OK(ftarray_insert_i64(a, 100, 8));   /* clamped to the end */
    OK(ftarray_insert_i64(a, -1, 77));   /* before the last */
    {
        const int64_t want[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 77, 8};
        expect_i64(a, want, 11);
    }
    unsigned char out[4];
    OK(ftarray_pop(a, -2, out, sizeof out));
    int32_t popped;
    memcpy(&popped, out, 4);
    CHECK(popped == 77);
    OK(ftarray_pop(a, 0, out, sizeof out));
    OK(ftarray_pop(a, -1, out, sizeof out));
    expect_i64(a, init, 8);

    /* a[::-1] */
    ftarray *r = NULL;
    OK(ftarray_get_slice(a, PTRDIFF_MAX, PTRDIFF_MIN, -1, &r));
    {
        const int64_t want[] = {7, 6, 5, 4, 3, 2, 1, 0};
        expect_i64(r, want, 8);
    }
    /* a[1::3] */
    ftarray *s = NULL;
    OK(ftarray_get_slice(a, 1, PTRDIFF_MAX, 3, &s));
    {
        const int64_t want[] = {1, 4, 7};
        expect_i64(s, want, 3);
    }
    /* a[::2] = r[:4]  (step 2, same length) */
    ftarray *r4 = NULL;
    OK(ftarray_get_slice(r, 0, 4, 1, &r4));
    OK(ftarray_set_slice(a, 0, PTRDIFF_MAX, 2, r4));
    {
        const int64_t want[] = {7, 1, 6, 3, 5, 5, 4, 7};
        expect_i64(a, want, 8);
    }
    /* a[2:6] = s  (step 1, any length) */
    OK(ftarray_set_slice(a, 2, 6, 1, s));
    {
        const int64_t want[] = {7, 1, 1, 4, 7, 4, 7};
        expect_i64(a, want, 7);
    }
    /* a[-2:] = bytes of {9, 9, 9} */
    const int32_t nines[] = {9, 9, 9};
    OK(ftarray_set_slice_bytes(a, -2, PTRDIFF_MAX, 1, nines, sizeof nines));
    {
        const int64_t want[] = {7, 1, 1, 4, 7, 9, 9, 9};
        expect_i64(a, want, 8);
    }
    /* del a[::3] */
    OK(ftarray_del_slice(a, 0, PTRDIFF_MAX, 3));
    {
        const int64_t want[] = {1, 1, 7, 9, 9};
        expect_i64(a, want, 5);
    }
    /* a[1:1] = a  (self-assignment) */
    OK(ftarray_set_slice(a, 1, 1, 1, a));
    {
        const int64_t want[] = {1, 1, 1, 7, 9, 9, 1, 7, 9, 9};
        expect_i64(a, want, 10);
    }
    OK(ftarray_free(r4));
    OK(ftarray_free(s));
    OK(ftarray_free(r));
    OK(ftarray_free(a));
}

static void test_bulk(void) {
    const int64_t init[] = {1, 2, 3};
    ftarray *a = from_i64('h', init, 3);
    OK(ftarray_extend(a, a));
    {
        const int64_t want[] = {1, 2, 3, 1, 2, 3};
        expect_i64(a, want, 6);
    }
    ftarray *c = NULL;
    OK(ftarray_concat(a, a, &c));
    CHECK(len_of(c) == 12);
    ftarray *rep = NULL;
    OK(ftarray_repeat(a, 2, &rep));
    bool eq = false;
    OK(ftarray_compare(c, rep, FTARRAY_COMPARE_OP_EQ, &eq));
    CHECK(eq);
    OK(ftarray_free(c));
    OK(ftarray_free(rep));
    OK(ftarray_repeat(a, -5, &c)); /* a new, empty array */
    CHECK(len_of(c) == 0);
    OK(ftarray_free(c));
    OK(ftarray_truncate(a, 4));
    OK(ftarray_truncate(a, 100)); /* not longer: nothing */
    OK(ftarray_reverse(a));
    {
        const int64_t want[] = {1, 3, 2, 1};
        expect_i64(a, want, 4);
    }
    OK(ftarray_repeat_in_place(a, 2));
    CHECK(len_of(a) == 8);
    OK(ftarray_repeat_in_place(a, 0));
    CHECK(len_of(a) == 0);
    int16_t fill = 42;
    OK(ftarray_resize(a, 3, &fill, sizeof fill));
    OK(ftarray_resize(a, 5, NULL, 0));
    {
        const int64_t want[] = {42, 42, 42, 0, 0};
        expect_i64(a, want, 5);
    }
    OK(ftarray_resize(a, 1, NULL, 0));
    OK(ftarray_reserve(a, 1000));
    size_t cap = 0;
    OK(ftarray_capacity(a, &cap));
    CHECK(cap >= 1001);
    OK(ftarray_clear(a));
    CHECK(len_of(a) == 0);
    OK(ftarray_capacity(a, &cap));
    CHECK(cap >= 1001); /* clear keeps the capacity */
    const int16_t more[] = {5, 6};
    OK(ftarray_extend_bytes(a, more, sizeof more));
    OK(ftarray_extend_bytes(a, NULL, 0));
    {
        const int64_t want[] = {5, 6};
        expect_i64(a, want, 2);
    }
    /* Snapshot copy with the needed-size query. */
    size_t need = 0;
    EXPECT(ftarray_copy_bytes(a, NULL, 0, &need), FTARRAY_STATUS_BUFFER_TOO_SMALL);
    CHECK(need == 4);
    int16_t out[2] = {0, 0};
    size_t got = 0;
    OK(ftarray_copy_bytes(a, out, need, &got));
    CHECK(got == 4 && out[0] == 5 && out[1] == 6);
    ftarray *cl = NULL;
    OK(ftarray_clone(a, &cl));
    OK(ftarray_push_i64(a, 7));
    CHECK(len_of(cl) == 2); /* a snapshot, not a view */
    OK(ftarray_free(cl));
    OK(ftarray_free(a));
}

static void test_search_and_compare(void) {
    const int64_t init[] = {5, 3, 5, 1};
    ftarray *a = from_i64('I', init, 4);
    bool yes = false;
    size_t n = 0;
    OK(ftarray_contains_i64(a, 3, &yes));
    CHECK(yes);
    OK(ftarray_contains_i64(a, -3, &yes));
    CHECK(!yes);
    OK(ftarray_contains_u64(a, UINT64_MAX, &yes));
    CHECK(!yes);
    OK(ftarray_count_i64(a, 5, &n));
    CHECK(n == 2);
    OK(ftarray_count_u64(a, 1, &n));
    CHECK(n == 1);
    OK(ftarray_index_i64(a, 5, 1, PTRDIFF_MAX, &n));
    CHECK(n == 2);
    OK(ftarray_index_u64(a, 5, -4, -1, &n));
    CHECK(n == 0);
    EXPECT(ftarray_index_i64(a, 1, 0, 3, &n), FTARRAY_STATUS_NOT_FOUND);
    OK(ftarray_remove_i64(a, 5, &n));
    CHECK(n == 0);
    OK(ftarray_remove_u64(a, 1, &n));
    CHECK(n == 2);
    {
        const int64_t want[] = {3, 5};
        expect_i64(a, want, 2);
    }
    /* Comparison by value across type codes. */
    ftarray *d = make('d');
    OK(ftarray_push_f64(d, 3.0));
    OK(ftarray_push_f64(d, 5.0));
    bool r = false;
    OK(ftarray_compare(a, d, FTARRAY_COMPARE_OP_EQ, &r));
    CHECK(r);
    OK(ftarray_push_f64(d, 0.5));
    OK(ftarray_compare(a, d, FTARRAY_COMPARE_OP_LT, &r));
    CHECK(r); /* a prefix is smaller */
    OK(ftarray_set_f64(d, 1, 4.5));
    OK(ftarray_compare(a, d, FTARRAY_COMPARE_OP_GT, &r));
    CHECK(r); /* 5 > 4.5 decides */
    OK(ftarray_compare(a, d, FTARRAY_COMPARE_OP_NE, &r));
    CHECK(r);
    OK(ftarray_compare(a, a, FTARRAY_COMPARE_OP_LE, &r));
    CHECK(r);
    OK(ftarray_contains_f64(d, 4.5, &yes));
    CHECK(yes);
    OK(ftarray_contains_f64(d, NAN, &yes));
    CHECK(!yes);
    OK(ftarray_count_f64(d, 0.5, &n));
    CHECK(n == 1);
    OK(ftarray_index_f64(d, 0.5, 0, PTRDIFF_MAX, &n));
    CHECK(n == 2);
    OK(ftarray_remove_f64(d, 3.0, &n));
    CHECK(n == 0 && len_of(d) == 2);
    OK(ftarray_free(d));
    OK(ftarray_free(a));
}

static void test_atomics(void) {
    ftarray *b = make('B');
    OK(ftarray_push_i64(b, 255));
    int64_t old = 0;
    OK(ftarray_fetch_add_i64(b, 0, 1, &old)); /* wraps */
    CHECK(old == 255);
    uint64_t uold = 0;
    OK(ftarray_fetch_add_u64(b, -1, UINT64_MAX, &uold)); /* subtracts 1, mod 256 */
    CHECK(uold == 0);
    OK(ftarray_get_u64(b, 0, &uold));
    CHECK(uold == 255);
    int64_t expected = 7;
    bool done = true;
    OK(ftarray_compare_exchange_i64(b, 0, &expected, 9, &done));
    CHECK(!done && expected == 255);
    OK(ftarray_compare_exchange_i64(b, 0, &expected, 9, &done));
    CHECK(done && expected == 255);
    uint64_t uexp = 9;
    OK(ftarray_compare_exchange_u64(b, 0, &uexp, 10, &done));
    CHECK(done);
    OK(ftarray_free(b));

    ftarray *q = make('Q');
    OK(ftarray_push_u64(q, UINT64_MAX));
    OK(ftarray_fetch_add_u64(q, 0, 2, &uold));
    CHECK(uold == UINT64_MAX);
    OK(ftarray_get_u64(q, 0, &uold));
    CHECK(uold == 1);
    OK(ftarray_free(q));

    ftarray *d = make('d');
    OK(ftarray_push_f64(d, 1.5));
    double dold = 0;
    OK(ftarray_fetch_add_f64(d, 0, 0.25, &dold));
    CHECK(dold == 1.5);
    OK(ftarray_get_f64(d, 0, &dold));
    CHECK(dold == 1.75);
    OK(ftarray_free(d));

    ftarray *i = make('q');
    OK(ftarray_push_i64(i, INT64_MAX));
    OK(ftarray_fetch_add_i64(i, 0, 1, &old));
    CHECK(old == INT64_MAX);
    OK(ftarray_get_i64(i, 0, &old));
    CHECK(old == INT64_MIN);
    OK(ftarray_free(i));
}

static void test_exports(void) {
    ftarray *a = NULL;
    OK(ftarray_with_capacity('i', 16, &a));
    for (int64_t k = 0; k < 4; k++) OK(ftarray_push_i64(a, k * 10));
    ftarray_buffer e = ftarray_buffer_init(), f = ftarray_buffer_init();
    OK(ftarray_export_acquire(a, &e));
    OK(ftarray_export_acquire(a, &f));
    CHECK(e.token != f.token);
    CHECK(e.ptr == f.ptr && e.len == 4 && e.itemsize == 4 && e.typecode == 'i');
    CHECK(strcmp(e.format, "i") == 0);
    const int32_t *p = (const int32_t *)e.ptr;
    CHECK(p[0] == 0 && p[3] == 30);
    size_t n = 0;
    OK(ftarray_export_count(a, &n));
    CHECK(n == 2);
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    CHECK(st.live_exports == 2);
    /* Non-strict: in-place changes work and show through the pointer. */
    OK(ftarray_set_i64(a, 0, 99));
    CHECK(p[0] == 99);
    OK(ftarray_reverse(a));
    CHECK(p[0] == 30 && p[3] == 99);
    OK(ftarray_push_i64(a, 1)); /* within the capacity */
    int32_t last = 0;
    OK(ftarray_pop(a, -1, &last, sizeof last));
    CHECK(last == 1);
    OK(ftarray_export_release(a, f.token));
    OK(ftarray_export_release(a, e.token));
    OK(ftarray_export_count(a, &n));
    CHECK(n == 0);
    OK(ftarray_get_stats(&st));
    CHECK(st.live_exports == 0);
    /* An empty array exports a non-NULL pointer and length 0. */
    ftarray *z = make('d');
    OK(ftarray_export_acquire(z, &e));
    CHECK(e.ptr != NULL && e.len == 0 && e.itemsize == 8);
    OK(ftarray_export_release(z, e.token));
    OK(ftarray_free(z));
    /* Strict mode can be switched on and off. */
    bool strict = false;
    OK(ftarray_set_strict_exports(a, true));
    OK(ftarray_strict_exports(a, &strict));
    CHECK(strict);
    OK(ftarray_set_strict_exports(a, false));
    OK(ftarray_free(a));
}

static void test_last_error_contract(void) {
    ftarray *a = make('i');
    int64_t x;
    EXPECT(ftarray_get_i64(a, 5, &x), FTARRAY_STATUS_INDEX_ERROR);
    size_t needed = 0;
    EXPECT(ftarray_last_error(NULL, 0, &needed), FTARRAY_STATUS_BUFFER_TOO_SMALL);
    CHECK(needed > 10);
    char *full = (char *)malloc(needed);
    size_t again = 0;
    OK(ftarray_last_error(full, needed, &again));
    CHECK(again == needed && strlen(full) == needed - 1);
    CHECK(strstr(full, "out of range") != NULL);
    char small[8];
    EXPECT(ftarray_last_error(small, sizeof small, NULL), FTARRAY_STATUS_BUFFER_TOO_SMALL);
    CHECK(strlen(small) == 7 && strncmp(small, full, 7) == 0);
    EXPECT(ftarray_last_error(NULL, 4, NULL), FTARRAY_STATUS_NULL_ARGUMENT);
    /* A successful call leaves the message alone; reading it does not clear it. */
    OK(ftarray_push_i64(a, 1));
    char again_buf[256];
    OK(ftarray_last_error(again_buf, sizeof again_buf, NULL));
    CHECK(strcmp(again_buf, full) == 0);
    free(full);
    OK(ftarray_free(a));
}

static void test_sessions(void) {
    size_t depth = 9;
    OK(ftarray_session_depth(&depth));
    CHECK(depth == 0);
    OK(ftarray_session_enter());
    OK(ftarray_session_enter());
    OK(ftarray_session_depth(&depth));
    CHECK(depth == 2);
    ftarray *a = make('q');
    OK(ftarray_push_i64(a, 1));
    int64_t x = 0;
    for (int k = 0; k < 1000; k++) {
        OK(ftarray_get_i64(a, 0, &x));
        if (k % 100 == 0) OK(ftarray_session_quiescent());
    }
    CHECK(x == 1);
    OK(ftarray_session_leave());
    OK(ftarray_session_quiescent()); /* still inside the outer level */
    OK(ftarray_session_leave());
    OK(ftarray_session_depth(&depth));
    CHECK(depth == 0);
    OK(ftarray_free(a));
}

static void test_characters(void) {
    ftarray *w = make('w');
    OK(ftarray_push_i64(w, 0x10FFFF));
    OK(ftarray_push_u64(w, 'A'));
    int64_t c = 0;
    OK(ftarray_get_i64(w, 0, &c));
    CHECK(c == 0x10FFFF);
    uint32_t raw = 0;
    OK(ftarray_get_bytes(w, 1, &raw, 4));
    CHECK(raw == 'A');
    OK(ftarray_free(w));
}

int main(void) {
    test_versioning();
    ftarray_stats before = ftarray_stats_init();
    test_library();
    OK(ftarray_get_stats(&before));
    test_shape_every_type();
    test_conversions();
    test_indices_and_slices();
    test_bulk();
    test_search_and_compare();
    test_atomics();
    test_exports();
    test_last_error_contract();
    test_sessions();
    test_characters();
    OK(ftarray_free(NULL));
    ftarray_stats after = ftarray_stats_init();
    OK(ftarray_get_stats(&after));
    CHECK(after.live_handles == before.live_handles);
    CHECK(after.live_exports == 0);
    return report("api");
}
