/* Every error path of libftarray: each failing call returns its status, leaves the array
 * exactly as it was (contents, length, capacity, exports, export rule) and out-parameters
 * untouched, and sets a last-error message. */
#include <stdint.h>

#include "check.h"

struct snap {
    char code;
    size_t len, cap, exports;
    bool strict;
    unsigned char *bytes;
    size_t nbytes;
};

static struct snap take(const ftarray *a) {
    struct snap s;
    memset(&s, 0, sizeof s);
    OK(ftarray_typecode(a, &s.code));
    OK(ftarray_len(a, &s.len));
    OK(ftarray_capacity(a, &s.cap));
    OK(ftarray_export_count(a, &s.exports));
    OK(ftarray_strict_exports(a, &s.strict));
    size_t need = 0;
    ftarray_status st = ftarray_copy_bytes(a, NULL, 0, &need);
    CHECK(st == FTARRAY_STATUS_OK || st == FTARRAY_STATUS_BUFFER_TOO_SMALL);
    s.bytes = (unsigned char *)malloc(need + 1);
    OK(ftarray_copy_bytes(a, s.bytes, need, &s.nbytes));
    return s;
}

/* `a` is as in `before` (which is freed). */
static void unchanged(const ftarray *a, struct snap before, int line) {
    struct snap now = take(a);
    if (now.code != before.code || now.len != before.len || now.cap != before.cap ||
        now.exports != before.exports || now.strict != before.strict ||
        now.nbytes != before.nbytes || memcmp(now.bytes, before.bytes, now.nbytes) != 0) {
        fprintf(stderr, "errors.c:%d: the array changed after a failed call\n", line);
        exit(1);
    }
    COUNT_CHECK();
    free(now.bytes);
    free(before.bytes);
}

/* `call` on `a` fails with `want`, changes nothing, and leaves a message mentioning `word`. */
#define FAILS(a, call, want, word)                                                           \
    do {                                                                                     \
        struct snap before_ = take(a);                                                       \
        EXPECT(call, want);                                                                  \
        const char *msg_ = last_error();                                                     \
        if (strstr(msg_, word) == NULL) {                                                    \
            fprintf(stderr, "errors.c:%d: message \"%s\" lacks \"%s\"\n", __LINE__, msg_,    \
                    word);                                                                   \
            exit(1);                                                                         \
        }                                                                                    \
        unchanged(a, before_, __LINE__);                                                     \
    } while (0)

static ftarray *make(char code, int64_t n) {
    ftarray *a = NULL;
    OK(ftarray_with_capacity(code, (size_t)n, &a));
    for (int64_t k = 0; k < n; k++) OK(ftarray_push_i64(a, k + 1));
    return a;
}

static void bad_type_codes(void) {
    const char bad[] = {'x', 'c', 'Z', '\0', '?', ' ', 'e', (char)0xE9};
    for (size_t k = 0; k < sizeof bad; k++) {
        ftarray *out = (ftarray *)(uintptr_t)0x1234; /* must stay untouched */
        EXPECT(ftarray_new(bad[k], &out), FTARRAY_STATUS_BAD_TYPECODE);
        CHECK(out == (ftarray *)(uintptr_t)0x1234);
        CHECK(strstr(last_error(), "typecode") != NULL);
        EXPECT(ftarray_with_capacity(bad[k], 4, &out), FTARRAY_STATUS_BAD_TYPECODE);
        EXPECT(ftarray_from_bytes(bad[k], "abcd", 4, &out), FTARRAY_STATUS_BAD_TYPECODE);
        CHECK(out == (ftarray *)(uintptr_t)0x1234);
    }
}

static void out_of_range_indices(void) {
    ftarray *a = make('i', 3);
    int64_t x = -7;
    uint64_t u = 7;
    double d = 7;
    unsigned char b[4];
    const ptrdiff_t bad[] = {3, 4, -4, PTRDIFF_MAX, PTRDIFF_MIN};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ptrdiff_t i = bad[k];
        FAILS(a, ftarray_get_i64(a, i, &x), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_get_u64(a, i, &u), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_get_f64(a, i, &d), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_get_bytes(a, i, b, 4), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_set_i64(a, i, 1), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_set_u64(a, i, 1), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_set_bytes(a, i, b, 4), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_pop(a, i, b, 4), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        FAILS(a, ftarray_fetch_add_i64(a, i, 1, &x), FTARRAY_STATUS_INDEX_ERROR, "out of range");
        bool done = true;
        int64_t exp = 1;
        FAILS(a, ftarray_compare_exchange_i64(a, i, &exp, 2, &done), FTARRAY_STATUS_INDEX_ERROR,
              "out of range");
        CHECK(done && exp == 1);
    }
    CHECK(x == -7 && u == 7 && d == 7); /* out-parameters untouched */
    ftarray *e = make('d', 0);
    FAILS(e, ftarray_pop(e, -1, b, 8), FTARRAY_STATUS_EMPTY, "empty");
    FAILS(e, ftarray_set_f64(e, 0, 1.0), FTARRAY_STATUS_INDEX_ERROR, "out of range");
    OK(ftarray_free(e));
    OK(ftarray_free(a));
}

static void wrong_byte_lengths(void) {
    ftarray *a = make('i', 3);
    const unsigned char b[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    unsigned char out[16] = {0};
    const size_t bad[] = {0, 1, 3, 5, 8};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t n = bad[k];
        FAILS(a, ftarray_set_bytes(a, 0, b, n), FTARRAY_STATUS_BAD_LENGTH, "length");
        FAILS(a, ftarray_push_bytes(a, b, n), FTARRAY_STATUS_BAD_LENGTH, "length");
        FAILS(a, ftarray_insert_bytes(a, 0, b, n), FTARRAY_STATUS_BAD_LENGTH, "length");
        FAILS(a, ftarray_get_bytes(a, 0, out, n), FTARRAY_STATUS_BAD_LENGTH, "length");
        FAILS(a, ftarray_pop(a, 0, out, n), FTARRAY_STATUS_BAD_LENGTH, "length");
        FAILS(a, ftarray_resize(a, 10, b, n == 0 ? 3 : n), FTARRAY_STATUS_BAD_LENGTH, "length");
    }
    const size_t not_multiple[] = {1, 3, 5, 7, 13};
    for (size_t k = 0; k < sizeof not_multiple / sizeof not_multiple[0]; k++) {
        size_t n = not_multiple[k];
        FAILS(a, ftarray_extend_bytes(a, b, n), FTARRAY_STATUS_BAD_LENGTH, "multiple");
        FAILS(a, ftarray_set_slice_bytes(a, 0, 1, 1, b, n), FTARRAY_STATUS_BAD_LENGTH,
              "multiple");
        ftarray *out_a = NULL;
        EXPECT(ftarray_from_bytes('i', b, n, &out_a), FTARRAY_STATUS_BAD_LENGTH);
        CHECK(out_a == NULL);
    }
    for (size_t k = 0; k < 16; k++) CHECK(out[k] == 0);
    /* Extended slice assignment needs as many elements as the selection. */
    FAILS(a, ftarray_set_slice_bytes(a, 0, PTRDIFF_MAX, 2, b, 12), FTARRAY_STATUS_BAD_LENGTH,
          "length");
    OK(ftarray_free(a));
}

#define NULLS(call) EXPECT(call, FTARRAY_STATUS_NULL_ARGUMENT)

static void null_arguments(void) {
    ftarray *a = make('i', 3);
    ftarray *n = NULL, *out = NULL;
    int64_t x;
    uint64_t u;
    double d;
    size_t z;
    bool b;
    char c;
    const char *s;
    unsigned char buf[8];
    ftarray_buffer e = ftarray_buffer_init();
    /* NULL handle. */
    NULLS(ftarray_clone(n, &out));
    NULLS(ftarray_len(n, &z));
    NULLS(ftarray_capacity(n, &z));
    NULLS(ftarray_itemsize(n, &z));
    NULLS(ftarray_typecode(n, &c));
    NULLS(ftarray_format(n, &s));
    NULLS(ftarray_set_strict_exports(n, true));
    NULLS(ftarray_strict_exports(n, &b));
    NULLS(ftarray_get_bytes(n, 0, buf, 4));
    NULLS(ftarray_get_i64(n, 0, &x));
    NULLS(ftarray_get_u64(n, 0, &u));
    NULLS(ftarray_get_f64(n, 0, &d));
    NULLS(ftarray_set_bytes(n, 0, buf, 4));
    NULLS(ftarray_set_i64(n, 0, 1));
    NULLS(ftarray_set_u64(n, 0, 1));
    NULLS(ftarray_set_f64(n, 0, 1));
    NULLS(ftarray_push_bytes(n, buf, 4));
    NULLS(ftarray_push_i64(n, 1));
    NULLS(ftarray_push_u64(n, 1));
    NULLS(ftarray_push_f64(n, 1));
    NULLS(ftarray_pop(n, -1, buf, 4));
    NULLS(ftarray_insert_bytes(n, 0, buf, 4));
    NULLS(ftarray_insert_i64(n, 0, 1));
    NULLS(ftarray_insert_u64(n, 0, 1));
    NULLS(ftarray_insert_f64(n, 0, 1));
    NULLS(ftarray_extend_bytes(n, buf, 4));
    NULLS(ftarray_extend(n, a));
    NULLS(ftarray_extend(a, n));
    NULLS(ftarray_truncate(n, 0));
    NULLS(ftarray_resize(n, 0, NULL, 0));
    NULLS(ftarray_clear(n));
    NULLS(ftarray_reserve(n, 1));
    NULLS(ftarray_reverse(n));
    NULLS(ftarray_byteswap(n));
    NULLS(ftarray_repeat_in_place(n, 2));
    NULLS(ftarray_repeat(n, 2, &out));
    NULLS(ftarray_concat(n, a, &out));
    NULLS(ftarray_concat(a, n, &out));
    NULLS(ftarray_get_slice(n, 0, 1, 1, &out));
    NULLS(ftarray_set_slice(n, 0, 1, 1, a));
    NULLS(ftarray_set_slice(a, 0, 1, 1, n));
    NULLS(ftarray_set_slice_bytes(n, 0, 1, 1, buf, 4));
    NULLS(ftarray_del_slice(n, 0, 1, 1));
    NULLS(ftarray_copy_bytes(n, buf, 8, &z));
    NULLS(ftarray_compare(n, a, FTARRAY_COMPARE_OP_EQ, &b));
    NULLS(ftarray_compare(a, n, FTARRAY_COMPARE_OP_EQ, &b));
    NULLS(ftarray_contains_i64(n, 1, &b));
    NULLS(ftarray_contains_u64(n, 1, &b));
    NULLS(ftarray_contains_f64(n, 1, &b));
    NULLS(ftarray_index_i64(n, 1, 0, 9, &z));
    NULLS(ftarray_index_u64(n, 1, 0, 9, &z));
    NULLS(ftarray_index_f64(n, 1, 0, 9, &z));
    NULLS(ftarray_count_i64(n, 1, &z));
    NULLS(ftarray_count_u64(n, 1, &z));
    NULLS(ftarray_count_f64(n, 1, &z));
    NULLS(ftarray_remove_i64(n, 1, &z));
    NULLS(ftarray_remove_u64(n, 1, &z));
    NULLS(ftarray_remove_f64(n, 1, &z));
    NULLS(ftarray_fetch_add_i64(n, 0, 1, &x));
    NULLS(ftarray_fetch_add_u64(n, 0, 1, &u));
    NULLS(ftarray_fetch_add_f64(n, 0, 1, &d));
    NULLS(ftarray_compare_exchange_i64(n, 0, &x, 1, &b));
    NULLS(ftarray_compare_exchange_u64(n, 0, &u, 1, &b));
    NULLS(ftarray_export_acquire(n, &e));
    NULLS(ftarray_export_release(n, 1));
    NULLS(ftarray_export_count(n, &z));
    CHECK(strstr(last_error(), "`a`") != NULL);
    /* NULL out-parameters and buffers: the array is unchanged. */
    FAILS(a, ftarray_new('i', NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_with_capacity('i', 1, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_from_bytes('i', NULL, 4, &out), FTARRAY_STATUS_NULL_ARGUMENT, "`bytes`");
    FAILS(a, ftarray_clone(a, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_len(a, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_get_i64(a, 0, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_get_bytes(a, 0, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_set_bytes(a, 0, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`bytes`");
    FAILS(a, ftarray_push_bytes(a, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`bytes`");
    FAILS(a, ftarray_insert_bytes(a, 0, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`bytes`");
    FAILS(a, ftarray_pop(a, -1, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_extend_bytes(a, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`bytes`");
    FAILS(a, ftarray_set_slice_bytes(a, 0, 1, 1, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT,
          "`bytes`");
    FAILS(a, ftarray_resize(a, 9, NULL, 4), FTARRAY_STATUS_NULL_ARGUMENT, "`fill`");
    FAILS(a, ftarray_copy_bytes(a, NULL, 12, &z), FTARRAY_STATUS_NULL_ARGUMENT, "`dst`");
    FAILS(a, ftarray_copy_bytes(a, buf, 8, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`nbytes`");
    FAILS(a, ftarray_fetch_add_i64(a, 0, 1, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`old`");
    FAILS(a, ftarray_compare_exchange_i64(a, 0, NULL, 5, &b), FTARRAY_STATUS_NULL_ARGUMENT,
          "`expected`");
    FAILS(a, ftarray_compare_exchange_i64(a, 0, &x, 5, NULL), FTARRAY_STATUS_NULL_ARGUMENT,
          "`exchanged`");
    FAILS(a, ftarray_remove_i64(a, 1, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`index_out`");
    FAILS(a, ftarray_repeat(a, 2, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_export_acquire(a, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    FAILS(a, ftarray_get_slice(a, 0, 1, 1, NULL), FTARRAY_STATUS_NULL_ARGUMENT, "`out`");
    NULLS(ftarray_get_stats(NULL));
    NULLS(ftarray_session_depth(NULL));
    OK(ftarray_free(NULL)); /* as free(NULL) */
    OK(ftarray_free(a));
}

static void overflow_on_conversion(void) {
    ftarray *b = make('b', 2);
    FAILS(b, ftarray_set_i64(b, 0, 128), FTARRAY_STATUS_OVERFLOW, "maximum");
    FAILS(b, ftarray_set_i64(b, 0, -129), FTARRAY_STATUS_OVERFLOW, "minimum");
    FAILS(b, ftarray_push_i64(b, 1000), FTARRAY_STATUS_OVERFLOW, "maximum");
    FAILS(b, ftarray_push_u64(b, UINT64_MAX), FTARRAY_STATUS_OVERFLOW, "maximum");
    FAILS(b, ftarray_insert_i64(b, 0, INT64_MIN), FTARRAY_STATUS_OVERFLOW, "minimum");
    int64_t e = 1;
    bool done = true;
    FAILS(b, ftarray_compare_exchange_i64(b, 0, &e, 300, &done), FTARRAY_STATUS_OVERFLOW,
          "maximum");
    CHECK(done && e == 1);
    OK(ftarray_free(b));

    ftarray *u = make('B', 2);
    FAILS(u, ftarray_set_i64(u, 0, -1), FTARRAY_STATUS_OVERFLOW, "minimum");
    FAILS(u, ftarray_push_u64(u, 256), FTARRAY_STATUS_OVERFLOW, "maximum");
    OK(ftarray_free(u));

    ftarray *q = make('Q', 0);
    OK(ftarray_push_u64(q, UINT64_MAX));
    int64_t x = 5;
    FAILS(q, ftarray_get_i64(q, 0, &x), FTARRAY_STATUS_OVERFLOW, "int64_t");
    CHECK(x == 5);
    OK(ftarray_free(q));

    ftarray *s = make('q', 0);
    OK(ftarray_push_i64(s, -1));
    uint64_t y = 5;
    FAILS(s, ftarray_get_u64(s, 0, &y), FTARRAY_STATUS_OVERFLOW, "uint64_t");
    CHECK(y == 5);
    FAILS(s, ftarray_set_u64(s, 0, UINT64_MAX), FTARRAY_STATUS_OVERFLOW, "maximum");
    OK(ftarray_free(s));

    ftarray *w = make('w', 0);
    FAILS(w, ftarray_push_i64(w, 0x110000), FTARRAY_STATUS_OVERFLOW, "maximum");
    const uint32_t too_big = 0x110000;
    FAILS(w, ftarray_resize(w, 3, &too_big, 4), FTARRAY_STATUS_OVERFLOW, "maximum");
    OK(ftarray_free(w));
}

static void wrong_kinds(void) {
    ftarray *i = make('i', 2);
    FAILS(i, ftarray_set_f64(i, 0, 1.5), FTARRAY_STATUS_WRONG_KIND, "integer");
    FAILS(i, ftarray_push_f64(i, 1.0), FTARRAY_STATUS_WRONG_KIND, "integer");
    FAILS(i, ftarray_insert_f64(i, 0, 1.0), FTARRAY_STATUS_WRONG_KIND, "integer");
    double d;
    uint64_t u;
    FAILS(i, ftarray_fetch_add_f64(i, 0, 1.0, &d), FTARRAY_STATUS_WRONG_KIND, "float");
    FAILS(i, ftarray_fetch_add_u64(i, 0, 1, &u), FTARRAY_STATUS_WRONG_KIND, "unsigned");
    bool b;
    FAILS(i, ftarray_compare_exchange_u64(i, 0, &u, 1, &b), FTARRAY_STATUS_WRONG_KIND,
          "unsigned");
    OK(ftarray_free(i));

    ftarray *f = make('d', 2);
    int64_t x;
    FAILS(f, ftarray_get_i64(f, 0, &x), FTARRAY_STATUS_WRONG_KIND, "int64_t");
    FAILS(f, ftarray_get_u64(f, 0, &u), FTARRAY_STATUS_WRONG_KIND, "uint64_t");
    FAILS(f, ftarray_fetch_add_i64(f, 0, 1, &x), FTARRAY_STATUS_WRONG_KIND, "int64_t");
    FAILS(f, ftarray_compare_exchange_i64(f, 0, &x, 1, &b), FTARRAY_STATUS_WRONG_KIND,
          "int64_t");
    OK(ftarray_free(f));

    ftarray *q = make('Q', 2); /* old values may not fit an int64_t */
    FAILS(q, ftarray_fetch_add_i64(q, 0, 1, &x), FTARRAY_STATUS_WRONG_KIND, "int64_t");
    OK(ftarray_free(q));

    ftarray *w = make('w', 2);
    FAILS(w, ftarray_get_f64(w, 0, &d), FTARRAY_STATUS_WRONG_KIND, "double");
    FAILS(w, ftarray_set_f64(w, 0, 65.0), FTARRAY_STATUS_WRONG_KIND, "character");
    FAILS(w, ftarray_fetch_add_i64(w, 0, 1, &x), FTARRAY_STATUS_WRONG_KIND, "int64_t");
    OK(ftarray_free(w));
}

static void exports_pin_storage(void) {
    /* Non-strict: whatever would move or free the storage fails. */
    ftarray *a = make('i', 4);
    size_t cap = 0;
    OK(ftarray_capacity(a, &cap));
    while (len_of(a) < cap) OK(ftarray_push_i64(a, 7)); /* full: one more push must move */
    ftarray_buffer e = ftarray_buffer_init();
    OK(ftarray_export_acquire(a, &e));
    FAILS(a, ftarray_push_i64(a, 5), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(a, ftarray_reserve(a, 100), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(a, ftarray_insert_i64(a, 0, 5), FTARRAY_STATUS_EXPORTED, "export");
    unsigned char buf[4];
    FAILS(a, ftarray_pop(a, 0, buf, 4), FTARRAY_STATUS_EXPORTED, "export");
    size_t idx;
    FAILS(a, ftarray_remove_i64(a, 1, &idx), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(a, ftarray_del_slice(a, 0, 2, 1), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(a, ftarray_extend(a, a), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(a, ftarray_repeat_in_place(a, 3), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(a, ftarray_resize(a, 64, NULL, 0), FTARRAY_STATUS_EXPORTED, "export");
    /* Freeing it would leave the export dangling. */
    FAILS(a, ftarray_free(a), FTARRAY_STATUS_EXPORTED, "export");
    OK(ftarray_export_release(a, e.token));

    /* Strict: every change of length fails, even in place. */
    ftarray *s = NULL;
    OK(ftarray_with_capacity('i', 64, &s));
    OK(ftarray_push_i64(s, 1));
    OK(ftarray_push_i64(s, 2));
    OK(ftarray_set_strict_exports(s, true));
    OK(ftarray_export_acquire(s, &e));
    FAILS(s, ftarray_push_i64(s, 3), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(s, ftarray_pop(s, -1, buf, 4), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(s, ftarray_clear(s), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(s, ftarray_truncate(s, 1), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(s, ftarray_resize(s, 5, NULL, 0), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(s, ftarray_extend_bytes(s, buf, 4), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(s, ftarray_del_slice(s, 0, 0, 1), FTARRAY_STATUS_EXPORTED, "export");
    /* Same-length changes still work under the strict rule. */
    OK(ftarray_set_i64(s, 0, 9));
    OK(ftarray_reverse(s));
    CHECK(((int32_t *)e.ptr)[1] == 9);
    OK(ftarray_export_release(s, e.token));
    OK(ftarray_push_i64(s, 3)); /* the export is gone */
    OK(ftarray_free(s));

    /* Unknown export tokens: never acquired, released twice, from another array. */
    ftarray_buffer f = ftarray_buffer_init(), g = ftarray_buffer_init();
    OK(ftarray_export_acquire(a, &f));
    ftarray *other = make('i', 1);
    OK(ftarray_export_acquire(other, &g));
    FAILS(a, ftarray_export_release(a, 0), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    FAILS(a, ftarray_export_release(a, f.token + 1000), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    FAILS(a, ftarray_export_release(a, UINT64_MAX), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    OK(ftarray_export_release(a, f.token));
    FAILS(a, ftarray_export_release(a, f.token), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    FAILS(a, ftarray_export_release(a, g.token), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    /* The other array's export is still pinned: its count was not touched. */
    size_t n = 0;
    OK(ftarray_export_count(other, &n));
    CHECK(n == 1);
    OK(ftarray_export_release(other, g.token));
    OK(ftarray_free(other));
    OK(ftarray_free(a));
}

/* A token names one export in the whole process. The first exports of two fresh arrays were
 * both token 1 while tokens were counted per array, and releasing one array's token on the
 * other dropped that array's real pin (its view then freed under the host). */
static void tokens_of_another_array(void) {
    ftarray *x = make('i', 3);
    ftarray *y = make('i', 3);
    ftarray_buffer ex = ftarray_buffer_init(), ey = ftarray_buffer_init();
    OK(ftarray_export_acquire(x, &ex));
    OK(ftarray_export_acquire(y, &ey));
    /* Both ways round: nothing released, the counts untouched (FAILS checks them). */
    FAILS(y, ftarray_export_release(y, ex.token), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    FAILS(x, ftarray_export_release(x, ey.token), FTARRAY_STATUS_UNKNOWN_EXPORT, "token");
    CHECK(ex.token != ey.token);
    size_t n = 0;
    OK(ftarray_export_count(y, &n));
    CHECK(n == 1);
    /* y's export still pins its storage: what would move it is refused, freeing is refused,
     * and the view shows y's elements. */
    FAILS(y, ftarray_reserve(y, 1 << 20), FTARRAY_STATUS_EXPORTED, "export");
    FAILS(y, ftarray_free(y), FTARRAY_STATUS_EXPORTED, "export");
    const int32_t *view = (const int32_t *)ey.ptr;
    CHECK(ey.len == 3 && view[0] == 1 && view[1] == 2 && view[2] == 3);
    OK(ftarray_set_i64(y, 2, 30));
    CHECK(view[2] == 30);
    OK(ftarray_export_release(x, ex.token));
    OK(ftarray_export_release(y, ey.token));
    OK(ftarray_free(x));
    OK(ftarray_free(y));
}

static void other_errors(void) {
    ftarray *a = make('i', 4);
    ftarray *d = make('d', 2);
    ftarray *out = NULL;
    bool r;
    size_t z;
    FAILS(a, ftarray_extend(a, d), FTARRAY_STATUS_TYPE_MISMATCH, "different");
    FAILS(a, ftarray_set_slice(a, 0, 1, 1, d), FTARRAY_STATUS_TYPE_MISMATCH, "different");
    FAILS(a, ftarray_concat(a, d, &out), FTARRAY_STATUS_TYPE_MISMATCH, "different");
    CHECK(out == NULL);
    FAILS(a, ftarray_get_slice(a, 0, 4, 0, &out), FTARRAY_STATUS_ZERO_STEP, "zero");
    FAILS(a, ftarray_set_slice(a, 0, 4, 0, a), FTARRAY_STATUS_ZERO_STEP, "zero");
    FAILS(a, ftarray_del_slice(a, 0, 4, 0), FTARRAY_STATUS_ZERO_STEP, "zero");
    FAILS(a, ftarray_remove_i64(a, 42, &z), FTARRAY_STATUS_NOT_FOUND, "not in");
    /* By value, as Python: 1.5 is in no integer array (1.0 would be found: it equals 1). */
    FAILS(a, ftarray_remove_f64(a, 1.5, &z), FTARRAY_STATUS_NOT_FOUND, "not in");
    OK(ftarray_contains_f64(a, 1.0, &r));
    CHECK(r);
    FAILS(a, ftarray_index_i64(a, 42, 0, PTRDIFF_MAX, &z), FTARRAY_STATUS_NOT_FOUND, "not in");
    FAILS(a, ftarray_compare(a, d, 6, &r), FTARRAY_STATUS_INVALID_ARGUMENT, "operator");
    FAILS(a, ftarray_compare(a, d, -1, &r), FTARRAY_STATUS_INVALID_ARGUMENT, "operator");
    unsigned char small[8];
    z = 0;
    FAILS(a, ftarray_copy_bytes(a, small, sizeof small, &z), FTARRAY_STATUS_BUFFER_TOO_SMALL,
          "16 bytes");
    CHECK(z == 16); /* the needed size is reported */
    /* Character arrays are not ordered against numbers. */
    ftarray *w = make('w', 2);
    FAILS(w, ftarray_compare(w, a, FTARRAY_COMPARE_OP_LT, &r), FTARRAY_STATUS_UNORDERED,
          "ordered");
    OK(ftarray_compare(w, a, FTARRAY_COMPARE_OP_EQ, &r)); /* equality is fine: false */
    CHECK(!r);
    OK(ftarray_free(w));
    /* Sizes that do not fit the address space, and allocations the allocator refuses. */
    FAILS(a, ftarray_reserve(a, SIZE_MAX), FTARRAY_STATUS_CAPACITY_OVERFLOW, "capacity");
    FAILS(a, ftarray_resize(a, SIZE_MAX / 2, NULL, 0), FTARRAY_STATUS_CAPACITY_OVERFLOW,
          "capacity");
    FAILS(a, ftarray_repeat_in_place(a, PTRDIFF_MAX), FTARRAY_STATUS_CAPACITY_OVERFLOW,
          "capacity");
    FAILS(a, ftarray_repeat(a, PTRDIFF_MAX, &out), FTARRAY_STATUS_CAPACITY_OVERFLOW, "capacity");
    CHECK(out == NULL);
    EXPECT(ftarray_with_capacity('d', SIZE_MAX / 4, &out), FTARRAY_STATUS_CAPACITY_OVERFLOW);
    /* 2^62 bytes: below isize::MAX, beyond any address space; the allocator says no. */
    EXPECT(ftarray_with_capacity('d', (size_t)1 << 59, &out), FTARRAY_STATUS_OUT_OF_MEMORY);
    CHECK(strstr(last_error(), "allocation") != NULL);
    FAILS(a, ftarray_reserve(a, (size_t)1 << 60), FTARRAY_STATUS_OUT_OF_MEMORY, "allocation");
    CHECK(out == NULL);
    /* Sessions: leave or quiesce without entering. */
    EXPECT(ftarray_session_leave(), FTARRAY_STATUS_NOT_IN_SESSION);
    EXPECT(ftarray_session_quiescent(), FTARRAY_STATUS_NOT_IN_SESSION);
    CHECK(strstr(last_error(), "session") != NULL);
    OK(ftarray_session_enter());
    OK(ftarray_session_leave());
    EXPECT(ftarray_session_leave(), FTARRAY_STATUS_NOT_IN_SESSION);
    OK(ftarray_session_depth(&z));
    CHECK(z == 0);
    OK(ftarray_free(d));
    OK(ftarray_free(a));
}

int main(void) {
    ftarray_stats before = ftarray_stats_init(), after = ftarray_stats_init();
    OK(ftarray_get_stats(&before));
    bad_type_codes();
    out_of_range_indices();
    wrong_byte_lengths();
    null_arguments();
    overflow_on_conversion();
    wrong_kinds();
    exports_pin_storage();
    tokens_of_another_array();
    other_errors();
    OK(ftarray_get_stats(&after));
    CHECK(after.live_handles == before.live_handles);
    CHECK(after.live_exports == 0);
    return report("errors");
}
