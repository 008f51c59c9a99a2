/* fork() while other threads use the library.
 *
 * The parent keeps threads writing one array (appends, pops, O(n) rewrites that hold the
 * writer lock for long), reading it, and sitting in a reader session with no quiescent point,
 * and forks children meanwhile. Each child, single-threaded, uses the array the parent's
 * threads were writing at the fork (every call must return OK, never hang), makes and frees
 * arrays of its own, and retires 48 MiB of storage, which must come back to the allocator
 * although a parent thread was pinned (in a session, or inside a read) at the fork.
 *
 * The parent waits for each child with a timeout; a child still running after it is a hang.
 * Usage: fork [FORKS]   (default 40). Prints "fork: H of N children hung, F failed". */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static ftarray *shared_array;
static atomic_bool stop;

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static void *writer(void *arg) {
    long k = (long)arg;
    int64_t block[256];
    for (int i = 0; i < 256; i++) block[i] = i;
    while (!atomic_load(&stop)) {
        OK(ftarray_push_i64(shared_array, k));
        OK(ftarray_extend_bytes(shared_array, block, sizeof block));
        OK(ftarray_reverse(shared_array)); /* O(n) under the lock: long critical sections */
        size_t n = len_of(shared_array);
        if (n > 200000) OK(ftarray_truncate(shared_array, 1000));
        if (k == 1) OK(ftarray_clear(shared_array)); /* retires nothing, but moves the length */
    }
    return NULL;
}

static void *reader(void *arg) {
    (void)arg;
    static unsigned char buf[1 << 22];
    while (!atomic_load(&stop)) {
        size_t got = 0;
        ftarray_status s = ftarray_copy_bytes(shared_array, buf, sizeof buf, &got);
        CHECK(s == FTARRAY_STATUS_OK || s == FTARRAY_STATUS_BUFFER_TOO_SMALL);
        int64_t x;
        s = ftarray_get_i64(shared_array, 0, &x);
        CHECK(s == FTARRAY_STATUS_OK || s == FTARRAY_STATUS_INDEX_ERROR);
    }
    return NULL;
}

/* Enters a session and stays in it until told to stop, with a quiescent point every
 * millisecond (so the parent's own retired memory comes back): pinned at almost every fork,
 * a thread the child will not have. */
static void *sitter(void *arg) {
    (void)arg;
    OK(ftarray_session_enter());
    int64_t x;
    while (!atomic_load(&stop)) {
        ftarray_status s = ftarray_get_i64(shared_array, 0, &x);
        CHECK(s == FTARRAY_STATUS_OK || s == FTARRAY_STATUS_INDEX_ERROR);
        sleep_ms(1);
        OK(ftarray_session_quiescent());
    }
    OK(ftarray_session_leave());
    return NULL;
}

static size_t retired_now(void) {
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    return st.retired_bytes;
}

/* What a child does. Returns its exit status: 0 when everything held. */
static int child(void) {
    /* The array the parent's threads were writing: every call works. */
    size_t n = len_of(shared_array);
    OK(ftarray_push_i64(shared_array, 42));
    int64_t x = 0;
    OK(ftarray_get_i64(shared_array, -1, &x));
    CHECK(x == 42);
    CHECK(len_of(shared_array) == n + 1);
    OK(ftarray_reverse(shared_array));
    OK(ftarray_clear(shared_array));
    CHECK(len_of(shared_array) == 0);

    /* Reclamation goes on in the child: 48 MiB retired, 1 MiB at a time, must come back. */
    size_t before = retired_now();
    ftarray *a;
    OK(ftarray_new('d', &a));
    OK(ftarray_resize(a, 131072, NULL, 0)); /* 1 MiB */
    for (int round = 0; round < 48; round++) {
        OK(ftarray_reverse(a)); /* a new block, published; the old 1 MiB one is retired */
    }
    OK(ftarray_free(a));
#ifndef NO_DRAIN
    OK(ftarray_drain());
#endif
    size_t after = retired_now();
    if (after > before + (4u << 20)) {
        fprintf(stderr, "child: retired bytes %zu before, %zu after 48 MiB of retirements\n",
                before, after);
        return 3;
    }
    return 0;
}

int main(int argc, char **argv) {
    int forks = argc > 1 ? atoi(argv[1]) : 40;
    OK(ftarray_new('q', &shared_array));
    pthread_t t[4];
    pthread_create(&t[0], NULL, writer, (void *)0L);
    pthread_create(&t[1], NULL, writer, (void *)1L);
    pthread_create(&t[2], NULL, reader, NULL);
    pthread_create(&t[3], NULL, sitter, NULL);
    sleep_ms(20);

    int hung = 0, failed = 0;
    for (int i = 0; i < forks; i++) {
        sleep_ms(3 + i % 7);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) _exit(child());
        /* Up to 20 s (valgrind is slow); a healthy child takes milliseconds. */
        int status = 0;
        pid_t done = 0;
        for (int waited = 0; waited < 2000 && done == 0; waited++) {
            done = waitpid(pid, &status, WNOHANG);
            if (done == 0) sleep_ms(10);
        }
        if (done == 0) {
            hung++;
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
            fprintf(stderr, "fork %d: child ended with status 0x%x\n", i, status);
        }
    }
    atomic_store(&stop, true);
    for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
    OK(ftarray_free(shared_array));
    printf("fork: %d of %d children hung, %d failed\n", hung, forks, failed);
    CHECK(hung == 0);
    CHECK(failed == 0);
    return report("fork");
}
