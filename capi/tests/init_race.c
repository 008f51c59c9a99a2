/* Exactly-once initialisation: 16 threads make their first call into the library at the same
 * instant (released together by a barrier), each through a different entry point. The global
 * initialisation must run once (ftarray_stats.inits == 1), every call must succeed, and
 * every thread must find the library fully working afterwards.
 *
 * Only a process's first calls race for the initialisation, so each round runs in a fresh
 * child process (fork, before any thread exists).
 *
 * Usage: init_race [ROUNDS]   (default 20)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 16 };

static pthread_barrier_t barrier;
static ftarray *handles[THREADS];

static void *first_call(void *arg) {
    long t = (long)(intptr_t)arg;
    ftarray *a = NULL;
    pthread_barrier_wait(&barrier);
    /* The first call of this thread, and of the process: 16 of them at once. */
    switch (t % 8) {
    case 0: OK(ftarray_init()); break;
    case 1: OK(ftarray_new('q', &a)); break;
    case 2: OK(ftarray_session_enter()); OK(ftarray_session_leave()); break;
    case 3: {
        ftarray_stats st = ftarray_stats_init();
        OK(ftarray_get_stats(&st));
        CHECK(st.inits == 1); /* a finished initialisation, never a half-done one */
        break;
    }
    case 4: CHECK(ftarray_version() != NULL); break;
    case 5: EXPECT(ftarray_new('x', &a), FTARRAY_STATUS_BAD_TYPECODE); break;
    case 6: OK(ftarray_from_bytes('B', "abc", 3, &a)); break;
    default: {
        size_t n = 1;
        EXPECT(ftarray_len(NULL, &n), FTARRAY_STATUS_NULL_ARGUMENT);
        break;
    }
    }
    /* Then the library works on this thread. */
    if (a == NULL) OK(ftarray_new('i', &a));
    OK(ftarray_session_enter());
    for (int k = 0; k < 100; k++) OK(ftarray_push_i64(a, k));
    int64_t x = 0;
    OK(ftarray_get_i64(a, -1, &x));
    CHECK(x == 99);
    OK(ftarray_session_leave());
    handles[t] = a;
    return NULL;
}

static int one_round(void) {
    CHECK(pthread_barrier_init(&barrier, NULL, THREADS) == 0);
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, first_call, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(th[t], NULL) == 0);
    CHECK(pthread_barrier_destroy(&barrier) == 0);
    ftarray_stats st = ftarray_stats_init();
    OK(ftarray_get_stats(&st));
    CHECK(st.inits == 1);
    CHECK(st.live_handles == THREADS);
    for (int t = 0; t < THREADS; t++) OK(ftarray_free(handles[t]));
    OK(ftarray_get_stats(&st));
    CHECK(st.live_handles == 0 && st.inits == 1);
    return 0;
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 20;
    CHECK(rounds > 0);
    for (long r = 0; r < rounds; r++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            /* The child has not called into the library yet: its first calls race. */
            int rc = one_round();
            fflush(stdout);
            _exit(rc);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "init_race: round %ld failed (status %d)\n", r, status);
            return 1;
        }
    }
    printf("init_race: %ld rounds of %d threads making their first call at once: "
           "initialised exactly once each time\n", rounds, THREADS);
    return report("init_race");
}
