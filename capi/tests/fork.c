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
 *
 * Then a fork that skips the library's pthread_atfork handlers (the raw system call) while a
 * thread is inside a long write: after ftarray_after_fork_child the child gets
 * FTARRAY_STATUS_FORKED for that array (never a hang) and can free it and use the others.
 * Usage: fork [FORKS]   (default 40). Prints "fork: H of N children hung, F failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
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

/* Under AddressSanitizer only: GCC 12's libasan has no fork interceptor, so a child forked
 * while another thread holds one of ASan's own allocator locks waits for it for ever (seen: 1
 * child in about 200, stuck in __sanitizer::SizeClassAllocator64::ReturnToAllocator from a
 * free() in the child; the library's locks were free). There the workers step aside between
 * two calls while the main thread forks: every library path still runs in the child, the
 * session thread is still pinned at the fork, but no worker is inside malloc. Other modes fork
 * with the workers anywhere. */
#if defined(__SANITIZE_ADDRESS__)
#define STEP_ASIDE_AT_FORK 1
#else
#define STEP_ASIDE_AT_FORK 0
#endif
static atomic_int forking, aside;

/* A worker's point between two calls: under STEP_ASIDE_AT_FORK, waits while a fork is made. */
static void between_calls(void) {
    if (!STEP_ASIDE_AT_FORK || !atomic_load(&forking)) return;
    atomic_fetch_add(&aside, 1);
    while (atomic_load(&forking)) {
    }
    atomic_fetch_sub(&aside, 1);
}

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
        between_calls();
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
        between_calls();
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
        between_calls();
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

/* What a child does. Returns its result: 0 when everything held. */
static int child(void *arg) {
    (void)arg;
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

/* Forks by `how` (fork(), or the raw system call); the child runs `body` and reports its result
 * through a pipe before it exits (under valgrind a child's own exit status is valgrind's verdict
 * on memory the parent's threads, absent in the child, still point to). Returns the child's
 * result, or -1 if it did not report within 20 s (then it is killed: a hang). */
static int in_child(int (*body)(void *), void *arg, bool raw) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL); /* a child must not write the parent's buffered output again */
#ifdef SYS_fork
    pid_t pid = raw ? (pid_t)syscall(SYS_fork) : fork();
#else
    (void)raw;
    pid_t pid = fork();
#endif
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        unsigned char result = (unsigned char)body(arg);
        if (write(fds[1], &result, 1) != 1) _exit(2);
        _exit(result);
    }
    close(fds[1]);
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < 2000 && done == 0; waited++) {
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0) sleep_ms(10);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        close(fds[0]);
        return -1;
    }
    unsigned char result = 255; /* no report: the child died before it could give one */
    if (read(fds[0], &result, 1) != 1) result = 255;
    close(fds[0]);
    if (result != 0) fprintf(stderr, "child: result %d, status 0x%x\n", result, status);
    return result;
}

#if !defined(__SANITIZE_THREAD__) && defined(SYS_fork)
#define RAW_FORK 1
#else
#define RAW_FORK 0
#endif

#if RAW_FORK
static ftarray *busy;
static atomic_int busy_started;

static void *long_write(void *arg) {
    (void)arg;
    atomic_store(&busy_started, 1);
    OK(ftarray_reverse(busy)); /* 128 MiB under the writer lock: a long O(n) step */
    return NULL;
}

static int raw_child(void *arg) {
    ftarray *other = arg;
    OK(ftarray_after_fork_child());
    OK(ftarray_after_fork_child()); /* a second call does nothing */
    size_t n = 0;
    EXPECT(ftarray_len(busy, &n), FTARRAY_STATUS_FORKED);
    CHECK(strstr(last_error(), "ftarray_len: ") == last_error());
    EXPECT(ftarray_push_i64(busy, 1), FTARRAY_STATUS_FORKED);
    OK(ftarray_free(busy)); /* the handle goes; the storage, locked for good, is leaked */
    EXPECT(ftarray_len(busy, &n), FTARRAY_STATUS_MISUSE);
    OK(ftarray_push_i64(other, 7)); /* arrays nobody was writing work */
    int64_t x = 0;
    OK(ftarray_get_i64(other, -1, &x));
    CHECK(x == 7);
    ftarray *fresh = NULL;
    OK(ftarray_new('d', &fresh));
    OK(ftarray_push_f64(fresh, 1.5));
    OK(ftarray_free(fresh));
    OK(ftarray_free(other));
    return 0;
}

#endif

/* A fork by the raw system call, which runs no pthread_atfork handler, while a thread is in
 * the middle of a 128 MiB reverse. (Not under ThreadSanitizer, whose runtime needs its own fork
 * interception.) */
static void raw_fork_marks_locked_arrays(void) {
#if !RAW_FORK
    printf("fork: raw fork part skipped (ThreadSanitizer or no SYS_fork)\n");
#else
    ftarray *other = NULL;
    OK(ftarray_new('q', &other));
    OK(ftarray_new('q', &busy));
    OK(ftarray_resize(busy, (size_t)16 << 20, NULL, 0));
    pthread_t t;
    pthread_create(&t, NULL, long_write, NULL);
    while (!atomic_load(&busy_started)) {
    }
    sleep_ms(20); /* inside the copy: the lock is held, no allocation in progress */
    int result = in_child(raw_child, other, true);
    pthread_join(t, NULL);
    if (result != 0) {
        fprintf(stderr, "raw fork: child %s\n", result == -1 ? "hung" : "failed");
        exit(1);
    }
    OK(ftarray_free(busy));
    OK(ftarray_free(other));
    printf("fork: raw fork during a write: the child got FTARRAY_STATUS_FORKED, no hang\n");
#endif
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
        if (STEP_ASIDE_AT_FORK) {
            atomic_store(&forking, 1);
            while (atomic_load(&aside) < 4) {
            }
        }
        /* Up to 20 s (valgrind is slow); a healthy child takes milliseconds. */
        int result = in_child(child, NULL, false);
        atomic_store(&forking, 0);
        if (result == -1) {
            hung++;
        } else if (result != 0) {
            failed++;
            fprintf(stderr, "fork %d: child failed (%d)\n", i, result);
        }
    }
    atomic_store(&stop, true);
    for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
    OK(ftarray_free(shared_array));
    printf("fork: %d of %d children hung, %d failed\n", hung, forks, failed);
    CHECK(hung == 0);
    CHECK(failed == 0);
    raw_fork_marks_locked_arrays();
    return report("fork");
}
