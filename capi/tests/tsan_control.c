/* A negative control for the ThreadSanitizer run, which must FAIL: it reads an exported
 * element with a plain (non-atomic) load while another thread writes it through the library.
 * The test script expects ThreadSanitizer to report this data race; if it did not, the
 * sanitizer would not be seeing the library's accesses and a clean TSan run would prove
 * nothing. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>

#include "ftarray.h"

static ftarray *a;

static void *writer(void *arg) {
    (void)arg;
    for (int k = 0; k < 1000; k++) {
        if (ftarray_set_i64(a, 0, k) != FTARRAY_STATUS_OK) return (void *)1;
    }
    return NULL;
}

int main(void) {
    ftarray_buffer e = ftarray_buffer_init();
    if (ftarray_new('q', &a) != FTARRAY_STATUS_OK || ftarray_push_i64(a, 0) != FTARRAY_STATUS_OK ||
        ftarray_export_acquire(a, &e) != FTARRAY_STATUS_OK)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    long long sum = 0;
    for (int k = 0; k < 1000; k++) sum += ((volatile long long *)e.ptr)[0]; /* the race */
    pthread_join(t, NULL);
    if (ftarray_export_release(a, e.token) != FTARRAY_STATUS_OK || ftarray_free(a) != FTARRAY_STATUS_OK)
        return 1;
    printf("tsan_control: sum %lld (ThreadSanitizer should have reported a race)\n", sum);
    return 0;
}
