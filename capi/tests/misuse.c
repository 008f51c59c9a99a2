/* Misuse is reported, not fatal; error kinds match their causes; exact bits survive; a host
 * that frees everything and drains at exit leaves nothing for a leak checker.
 *
 * - a freed handle, a double free and a pointer the library did not make get
 *   FTARRAY_STATUS_MISUSE (the magic word), not a crash;
 * - a handle freed while other threads are inside calls on it is not a use-after-free (its
 *   memory is retired to the epoch collector): their calls finish, later ones get MISUSE;
 * - the last error names the call that set it, and can be cleared;
 * - repeat past what any array can hold is CAPACITY_OVERFLOW for every length; a byte length
 *   no object can have is BAD_LENGTH before anything is allocated;
 * - pop returns a float's stored bits (a signalling NaN stays signalling);
 * - a 'w' code point given as bytes meets the rules of one given as an integer;
 * - after ftarray_drain no retired memory or freed handle is left.
 * Usage: misuse [ROUNDS]   (rounds of the racing free; default 50) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include "check.h"

static void freed_and_foreign_handles(void) {
    /* In a session, the freed handle's memory cannot be reclaimed while we look at it. */
    OK(ftarray_session_enter());
    ftarray *a = NULL;
    OK(ftarray_new('i', &a));
    OK(ftarray_push_i64(a, 1));
    OK(ftarray_free(a));
    size_t n = 0;
    EXPECT(ftarray_len(a, &n), FTARRAY_STATUS_MISUSE);
    CHECK(strstr(last_error(), "ftarray_len: ") == last_error());
    CHECK(strstr(last_error(), "freed") != NULL);
    EXPECT(ftarray_push_i64(a, 2), FTARRAY_STATUS_MISUSE);
    EXPECT(ftarray_free(a), FTARRAY_STATUS_MISUSE); /* a double free */
    CHECK(strstr(last_error(), "ftarray_free: ") == last_error());
    ftarray *b = NULL;
    OK(ftarray_new('i', &b));
    EXPECT(ftarray_extend(b, a), FTARRAY_STATUS_MISUSE); /* the second argument is checked too */
    CHECK(strstr(last_error(), "`other`") != NULL);
    CHECK(len_of(b) == 0);
    OK(ftarray_free(b));
    OK(ftarray_session_leave());

    /* Memory the library did not make: refused by the magic word (its first 8 bytes, all
     * that is read of it). */
    _Alignas(16) uint64_t junk[2];
    for (int k = 0; k < 2; k++) junk[k] = 0x0123456789abcdefULL * (uint64_t)(k + 1);
    EXPECT(ftarray_len((const ftarray *)(void *)junk, &n), FTARRAY_STATUS_MISUSE);
    CHECK(strstr(last_error(), "not made by this library") != NULL);
    EXPECT(ftarray_push_i64((ftarray *)(void *)junk, 1), FTARRAY_STATUS_MISUSE);
    EXPECT(ftarray_free((ftarray *)(void *)junk), FTARRAY_STATUS_MISUSE);
    EXPECT(ftarray_len((const ftarray *)(void *)((char *)junk + 1), &n), FTARRAY_STATUS_MISUSE);
}

/* Threads hammer one handle while the main thread frees it. Each thread stays in a session
 * (so the handle's memory outlives every call that could still see it live) and stops at its
 * first MISUSE. */
static ftarray *victim;
static atomic_int started;

static void *hammer(void *arg) {
    long k = (long)arg;
    static _Thread_local unsigned char buf[1 << 16];
    OK(ftarray_session_enter());
    atomic_fetch_add(&started, 1);
    long calls = 0;
    for (;;) {
        ftarray_status s;
        int64_t x;
        size_t got;
        switch ((calls + k) % 4) {
        case 0: s = ftarray_get_i64(victim, 0, &x); break;
        case 1: s = ftarray_push_i64(victim, k); break;
        case 2: s = ftarray_copy_bytes(victim, buf, sizeof buf, &got); break;
        default: s = ftarray_len(victim, &got); break;
        }
        calls++;
        if (s == FTARRAY_STATUS_MISUSE) break;
        CHECK(s == FTARRAY_STATUS_OK || s == FTARRAY_STATUS_BUFFER_TOO_SMALL ||
              s == FTARRAY_STATUS_INDEX_ERROR);
        if (calls % 64 == 0) OK(ftarray_session_quiescent());
    }
    OK(ftarray_session_leave());
    return NULL;
}

static void racing_free(int rounds) {
    for (int r = 0; r < rounds; r++) {
        OK(ftarray_new('q', &victim));
        for (int i = 0; i < 1000; i++) OK(ftarray_push_i64(victim, i));
        atomic_store(&started, 0);
        pthread_t t[3];
        for (long k = 0; k < 3; k++) pthread_create(&t[k], NULL, hammer, (void *)k);
        while (atomic_load(&started) < 3) {
        }
        /* Free it while they run (shrink it first: a long array is a long copy). */
        OK(ftarray_truncate(victim, (size_t)(r % 7) * 100));
        OK(ftarray_free(victim));
        for (int k = 0; k < 3; k++) pthread_join(t[k], NULL);
    }
    OK(ftarray_drain());
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    CHECK(st.live_handles == 0);
    CHECK(st.retired_bytes == 0);
}

static void last_error_names_its_call_and_clears(void) {
    ftarray *a = NULL;
    OK(ftarray_new('i', &a));
    int64_t x;
    EXPECT(ftarray_get_i64(a, 5, &x), FTARRAY_STATUS_INDEX_ERROR);
    CHECK(strcmp(last_error(), "ftarray_get_i64: index 5 out of range for array of length 0") == 0);
    OK(ftarray_push_i64(a, 1)); /* success leaves it */
    CHECK(strstr(last_error(), "ftarray_get_i64") != NULL);
    ftarray_clear_error();
    size_t needed = 99;
    char buf[8];
    OK(ftarray_last_error(buf, sizeof buf, &needed));
    CHECK(needed == 1 && buf[0] == '\0');
    EXPECT(ftarray_new('x', NULL), FTARRAY_STATUS_NULL_ARGUMENT);
    CHECK(strstr(last_error(), "ftarray_new: ") == last_error());
    OK(ftarray_free(a));
}

static void error_kinds_match_causes(void) {
    const char codes[] = {'b', 'h', 'i', 'd'};
    for (size_t c = 0; c < sizeof codes; c++) {
        for (int64_t len = 0; len < 4; len++) {
            ftarray *a = NULL, *out = NULL;
            OK(ftarray_new(codes[c], &a));
            for (int64_t k = 0; k < len; k++) OK(ftarray_push_i64(a, k));
            ftarray_status want = len == 0 ? FTARRAY_STATUS_OK : FTARRAY_STATUS_CAPACITY_OVERFLOW;
            EXPECT(ftarray_repeat(a, PTRDIFF_MAX, &out), want);
            if (out != NULL) OK(ftarray_free(out));
            EXPECT(ftarray_repeat_in_place(a, PTRDIFF_MAX), want);
            CHECK(len_of(a) == (size_t)len);
            /* Lengths no object can have: refused before anything is allocated or read. */
            char small[8] = {0};
            EXPECT(ftarray_extend_bytes(a, small, SIZE_MAX), FTARRAY_STATUS_BAD_LENGTH);
            EXPECT(ftarray_extend_bytes(a, small, (size_t)PTRDIFF_MAX + 1), FTARRAY_STATUS_BAD_LENGTH);
            EXPECT(ftarray_set_slice_bytes(a, 0, 0, 1, small, SIZE_MAX), FTARRAY_STATUS_BAD_LENGTH);
            CHECK(len_of(a) == (size_t)len);
            EXPECT(ftarray_from_bytes(codes[c], small, SIZE_MAX, &out), FTARRAY_STATUS_BAD_LENGTH);
            OK(ftarray_free(a));
        }
    }
}

static void pop_returns_the_stored_bits(void) {
    ftarray *f = NULL, *d = NULL;
    OK(ftarray_new('f', &f));
    OK(ftarray_new('d', &d));
    uint32_t snan32 = 0x7f800001u, got32 = 0;
    uint64_t snan64 = 0x7ff0000000000001ull, got64 = 0;
    OK(ftarray_push_bytes(f, &snan32, 4));
    OK(ftarray_push_bytes(f, &snan32, 4));
    OK(ftarray_push_bytes(d, &snan64, 8));
    OK(ftarray_pop(f, -1, &got32, 4));
    CHECK(got32 == 0x7f800001u);
    OK(ftarray_pop(f, 0, &got32, 4));
    CHECK(got32 == 0x7f800001u);
    OK(ftarray_pop(d, -1, &got64, 8));
    CHECK(got64 == 0x7ff0000000000001ull);
    OK(ftarray_free(f));
    OK(ftarray_free(d));
}

static void code_points_are_checked_alike(void) {
    ftarray *w = NULL;
    OK(ftarray_new('w', &w));
    uint32_t bad = 0x110000, surrogate = 0xD800, a = 0x41;
    OK(ftarray_push_bytes(w, &a, 4));
    EXPECT(ftarray_push_i64(w, bad), FTARRAY_STATUS_OVERFLOW);
    EXPECT(ftarray_push_bytes(w, &bad, 4), FTARRAY_STATUS_OVERFLOW);
    EXPECT(ftarray_set_bytes(w, 0, &bad, 4), FTARRAY_STATUS_OVERFLOW);
    EXPECT(ftarray_insert_bytes(w, 0, &bad, 4), FTARRAY_STATUS_OVERFLOW);
    EXPECT(ftarray_resize(w, 4, &bad, 4), FTARRAY_STATUS_OVERFLOW);
    CHECK(len_of(w) == 1);
    /* Lone surrogates: accepted by every one of them (Python's str has them). */
    OK(ftarray_push_i64(w, surrogate));
    OK(ftarray_push_bytes(w, &surrogate, 4));
    OK(ftarray_set_bytes(w, 0, &surrogate, 4));
    OK(ftarray_insert_bytes(w, 0, &surrogate, 4));
    OK(ftarray_resize(w, 6, &surrogate, 4));
    CHECK(len_of(w) == 6);
    OK(ftarray_free(w));
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 50;
    freed_and_foreign_handles();
    last_error_names_its_call_and_clears();
    error_kinds_match_causes();
    pop_returns_the_stored_bits();
    code_points_are_checked_alike();
    racing_free(rounds);
    /* A host's clean exit: everything freed, retired memory drained. */
    OK(ftarray_drain());
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    CHECK(st.live_handles == 0 && st.live_exports == 0 && st.retired_bytes == 0);
    return report("misuse");
}
