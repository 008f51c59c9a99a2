/* Summing 1M doubles from C three ways: a plain C array (the floor), ftarray_get_range in
 * chunks into a caller buffer (one call and one pin per chunk), and a loop of ftarray_get_f64
 * (one call, one pin and one fence per element). Prints the best of REPS timings of each and
 * the ratios to the plain array; run by scripts/bench-capi.sh.
 *
 * Usage: bulk_sum [REPS] [CHUNK]   (defaults 15 and 4096 elements: 32 KiB, in L1/L2) */
#define _POSIX_C_SOURCE 200809L
#include <ftarray.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { N = 1000000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void ok(ftarray_status s, const char *what) {
    if (s != FTARRAY_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", what, ftarray_status_str(s));
        exit(1);
    }
}

/* The same summation loop for every variant. */
static double sum_of(const double *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 15;
    size_t chunk = argc > 2 ? (size_t)atol(argv[2]) : 4096;
    double *plain = malloc(N * sizeof *plain);
    double *buf = malloc(chunk * sizeof *buf);
    if (plain == NULL || buf == NULL) return 1;
    ftarray *a;
    ok(ftarray_with_capacity('d', N, &a), "new");
    for (size_t i = 0; i < N; i++) {
        plain[i] = (double)(i % 1000) * 0.5;
        ok(ftarray_push_f64(a, plain[i]), "push");
    }
    double best[3] = {1e9, 1e9, 1e9}, sums[3] = {0, 0, 0};
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        sums[0] = sum_of(plain, N);
        double t1 = now();
        double s = 0;
        for (size_t start = 0; start < N; start += chunk) {
            size_t got = 0;
            ok(ftarray_get_range(a, (ptrdiff_t)start, (ptrdiff_t)(start + chunk), buf,
                                 chunk * sizeof *buf, &got),
               "get_range");
            s += sum_of(buf, got / sizeof *buf);
        }
        sums[1] = s;
        double t2 = now();
        s = 0;
        for (size_t i = 0; i < N; i++) {
            double x;
            ok(ftarray_get_f64(a, (ptrdiff_t)i, &x), "get_f64");
            s += x;
        }
        sums[2] = s;
        double t3 = now();
        if (t1 - t0 < best[0]) best[0] = t1 - t0;
        if (t2 - t1 < best[1]) best[1] = t2 - t1;
        if (t3 - t2 < best[2]) best[2] = t3 - t2;
    }
    if (sums[0] != sums[1] || sums[0] != sums[2]) {
        fprintf(stderr, "sums differ: %.1f %.1f %.1f\n", sums[0], sums[1], sums[2]);
        return 1;
    }
    printf("bulk_sum: 1M doubles, best of %d; chunk %zu elements\n", reps, chunk);
    printf("  plain C array          %8.3f ms   1.00x\n", best[0] * 1e3);
    printf("  ftarray_get_range      %8.3f ms   %.2fx\n", best[1] * 1e3, best[1] / best[0]);
    printf("  ftarray_get_f64 loop   %8.3f ms   %.2fx\n", best[2] * 1e3, best[2] / best[0]);
    ok(ftarray_free(a), "free");
    free(plain);
    free(buf);
    /* The target: the range copy within 1.5x of the plain array. */
    return best[1] / best[0] <= 1.5 ? 0 : 2;
}
