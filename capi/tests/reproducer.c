/* CPython issue #146007, in C against libftarray: 4 readers read element 0 while 4 writers
 * clear the array and extend it again, ITERATIONS times each (default 1000000).
 *
 * In CPython's array module, clear() freed the item buffer while a reader was still
 * dereferencing it: a use-after-free. Here every value a reader gets must be one that a writer
 * stored at index 0 (a first element of some extend, with a valid checksum, from an iteration
 * that writer had already started), or the read must fail cleanly with
 * FTARRAY_STATUS_INDEX_ERROR on an empty array. Nothing else is allowed.
 *
 * Usage: reproducer [ITERATIONS]
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

enum { WRITERS = 4, READERS = 4, BLOCK = 4 };

static ftarray *shared;
static long iterations = 1000000;
/* The iteration each writer has started (published before its extend). */
static atomic_long progress[WRITERS];
static atomic_int writers_done;

/* A 64-bit element: writer (2 bits), iteration (30 bits), position in the block (2 bits), and
 * a 30-bit checksum of the rest, so a torn or invented value cannot pass. */
static uint32_t checksum(uint64_t w, uint64_t it, uint64_t k) {
    uint64_t h = (w + 1) * 0x9E3779B97F4A7C15ull ^ (it + 7) * 0xC2B2AE3D27D4EB4Full ^ k;
    h ^= h >> 29;
    return (uint32_t)(h & 0x3FFFFFFFu);
}

static int64_t encode(uint64_t w, uint64_t it, uint64_t k) {
    return (int64_t)((w << 62) | (it << 32) | (k << 30) | checksum(w, it, k));
}

struct reader_stats {
    long reads, hits, empty;
    long per_writer[WRITERS];
};

static void *writer(void *arg) {
    long w = (long)(intptr_t)arg;
    int64_t block[BLOCK];
    for (long it = 0; it < iterations; it++) {
        for (int k = 0; k < BLOCK; k++) block[k] = encode((uint64_t)w, (uint64_t)it, (uint64_t)k);
        /* Release: a reader that sees this iteration's value and then loads progress must see
         * at least this iteration. */
        atomic_store_explicit(&progress[w], it, memory_order_release);
        OK(ftarray_clear(shared));
        OK(ftarray_extend_bytes(shared, block, sizeof block));
    }
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void *reader(void *arg) {
    struct reader_stats *st = (struct reader_stats *)arg;
    while (atomic_load(&writers_done) < WRITERS) {
        int64_t v = 0;
        ftarray_status s = ftarray_get_i64(shared, 0, &v);
        st->reads++;
        if (s == FTARRAY_STATUS_INDEX_ERROR) {
            st->empty++;
            continue;
        }
        if (s != FTARRAY_STATUS_OK) {
            fprintf(stderr, "reader: get(0) returned %s\n", ftarray_status_str((int)s));
            exit(1);
        }
        uint64_t u = (uint64_t)v;
        uint64_t w = u >> 62, it = (u >> 32) & 0x3FFFFFFFu, k = (u >> 30) & 3u;
        uint32_t sum = (uint32_t)(u & 0x3FFFFFFFu);
        if (sum != checksum(w, it, k) || k != 0 || (long)it >= iterations) {
            fprintf(stderr, "reader: invented value 0x%016" PRIx64 " at index 0\n", u);
            exit(1);
        }
        /* Acquire pairs with the writer's release: no value from the future. */
        long started = atomic_load_explicit(&progress[w], memory_order_acquire);
        if ((long)it > started) {
            fprintf(stderr, "reader: value of iteration %" PRIu64 " of writer %" PRIu64
                    " before that iteration started (%ld)\n", it, w, started);
            exit(1);
        }
        st->hits++;
        st->per_writer[w]++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) iterations = atol(argv[1]);
    CHECK(iterations > 0 && iterations < (1L << 30));
    OK(ftarray_new('q', &shared));
    for (int w = 0; w < WRITERS; w++) atomic_init(&progress[w], -1);
    atomic_init(&writers_done, 0);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t wt[WRITERS], rt[READERS];
    struct reader_stats stats[READERS];
    memset(stats, 0, sizeof stats);
    for (int r = 0; r < READERS; r++) CHECK(pthread_create(&rt[r], NULL, reader, &stats[r]) == 0);
    for (long w = 0; w < WRITERS; w++)
        CHECK(pthread_create(&wt[w], NULL, writer, (void *)(intptr_t)w) == 0);
    for (int w = 0; w < WRITERS; w++) CHECK(pthread_join(wt[w], NULL) == 0);
    for (int r = 0; r < READERS; r++) CHECK(pthread_join(rt[r], NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    struct reader_stats total;
    memset(&total, 0, sizeof total);
    for (int r = 0; r < READERS; r++) {
        total.reads += stats[r].reads;
        total.hits += stats[r].hits;
        total.empty += stats[r].empty;
        for (int w = 0; w < WRITERS; w++) total.per_writer[w] += stats[r].per_writer[w];
    }
    /* A run where no reader ever saw a value would prove nothing. */
    CHECK(total.hits > 0);
    CHECK(total.hits + total.empty == total.reads);
    /* After the last clear+extend the array holds 1 to 4 blocks, all well formed. */
    size_t n = len_of(shared);
    CHECK(n >= BLOCK && n <= WRITERS * BLOCK && n % BLOCK == 0);
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    printf("reproducer: %d writers x %ld iterations (clear + extend of %d), %d readers: "
           "%ld reads of a[0] (%ld values, %ld empty), writers seen %ld/%ld/%ld/%ld, "
           "%.2f s, %.0f writer ops/s, %.0f reads/s, retired bytes at end %zu\n",
           WRITERS, iterations, BLOCK, READERS, total.reads, total.hits, total.empty,
           total.per_writer[0], total.per_writer[1], total.per_writer[2], total.per_writer[3],
           secs, 2.0 * WRITERS * (double)iterations / secs, (double)total.reads / secs,
           st.retired_bytes);
    OK(ftarray_free(shared));
    return report("reproducer");
}
