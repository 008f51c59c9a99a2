/* The Arrow C Data Interface: ftarray_export_arrow hands one instant of an array to a
 * consumer without a copy (the data buffer is the snapshot's memory, which the array's later
 * writes never touch) and release frees it; ftarray_import_arrow copies a primitive array in
 * and refuses what an array cannot hold. Threads: a writer rewrites and resizes the array
 * while the main thread exports, checks and releases; every export holds one value only.
 * Usage: arrow [ROUNDS]   (exports taken while the writer runs; default 20000) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

static void export_is_one_instant_and_outlives_the_array(void) {
    ftarray *a = NULL;
    OK(ftarray_new('d', &a));
    for (int k = 0; k < 4; k++) OK(ftarray_push_f64(a, 0.5 + k));
    struct ArrowArray arr;
    struct ArrowSchema sch;
    OK(ftarray_export_arrow(a, &arr, &sch));
    CHECK(strcmp(sch.format, "g") == 0);
    CHECK(arr.length == 4 && arr.null_count == 0 && arr.offset == 0 && arr.n_buffers == 2);
    CHECK(arr.buffers[0] == NULL && arr.release != NULL && sch.release != NULL);
    const double *data = (const double *)arr.buffers[1];
    /* The array goes on; the export does not see it. */
    OK(ftarray_set_f64(a, 0, 100.0));
    OK(ftarray_push_f64(a, 9.0));
    OK(ftarray_clear(a));
    for (int k = 0; k < 4; k++) CHECK(data[k] == 0.5 + k);
    /* An array made from the export holds the exported instant. */
    ftarray *b = NULL;
    OK(ftarray_import_arrow(&arr, &sch, &b));
    char code = 0;
    OK(ftarray_typecode(b, &code));
    CHECK(code == 'd' && len_of(b) == 4);
    double x = 0;
    OK(ftarray_get_f64(b, 3, &x));
    CHECK(x == 3.5);
    OK(ftarray_free(a));
    for (int k = 0; k < 4; k++) CHECK(data[k] == 0.5 + k); /* after the array is gone too */
    arr.release(&arr);
    sch.release(&sch);
    CHECK(arr.release == NULL && sch.release == NULL);
    OK(ftarray_free(b));
}

static void every_type_code_has_its_format(void) {
    static const char codes[] = "bBhHiIlLqQfduw";
    for (const char *c = codes; *c; c++) {
        ftarray *a = NULL;
        OK(ftarray_new(*c, &a));
        if (*c == 'f' || *c == 'd') OK(ftarray_push_f64(a, 1.0));
        else OK(ftarray_push_i64(a, 0x41));
        struct ArrowArray arr;
        struct ArrowSchema sch;
        OK(ftarray_export_arrow(a, &arr, &sch));
        size_t itemsize = 0;
        OK(ftarray_itemsize(a, &itemsize));
        /* Signed c s i l, unsigned C S I L (the characters too), floats f g. */
        const char *f = sch.format;
        CHECK(strlen(f) == 1);
        size_t size = (*f == 'c' || *f == 'C') ? 1 : (*f == 's' || *f == 'S') ? 2
                    : (*f == 'i' || *f == 'I' || *f == 'f') ? 4 : 8;
        CHECK(size == itemsize);
        ftarray *b = NULL;
        OK(ftarray_import_arrow(&arr, &sch, &b));
        CHECK(len_of(b) == 1);
        unsigned char x[8], y[8];
        OK(ftarray_get_bytes(a, 0, x, itemsize));
        OK(ftarray_get_bytes(b, 0, y, itemsize));
        CHECK(memcmp(x, y, itemsize) == 0);
        arr.release(&arr);
        sch.release(&sch);
        OK(ftarray_free(a));
        OK(ftarray_free(b));
    }
}

static void imports_refuse_what_an_array_cannot_hold(void) {
    ftarray *a = NULL;
    OK(ftarray_new('i', &a));
    for (int k = 0; k < 4; k++) OK(ftarray_push_i64(a, k));
    struct ArrowArray arr;
    struct ArrowSchema sch;
    OK(ftarray_export_arrow(a, &arr, &sch));
    ftarray *b = NULL;
    arr.offset = 1;
    arr.length = 2;
    OK(ftarray_import_arrow(&arr, &sch, &b));
    int64_t v = 0;
    OK(ftarray_get_i64(b, 0, &v));
    CHECK(len_of(b) == 2 && v == 1);
    OK(ftarray_free(b));
    b = NULL;
    arr.null_count = 1;
    EXPECT(ftarray_import_arrow(&arr, &sch, &b), FTARRAY_STATUS_ERROR);
    CHECK(b == NULL && strstr(last_error(), "nulls") != NULL);
    arr.null_count = 0;
    EXPECT(ftarray_import_arrow(NULL, &sch, &b), FTARRAY_STATUS_NULL_ARGUMENT);
    arr.release(&arr);
    sch.release(&sch);
    EXPECT(ftarray_import_arrow(&arr, &sch, &b), FTARRAY_STATUS_ERROR); /* released */
    CHECK(b == NULL);
    EXPECT(ftarray_export_arrow(a, NULL, &sch), FTARRAY_STATUS_NULL_ARGUMENT);
    OK(ftarray_free(a));
}

static ftarray *shared;
static atomic_int stop;

/* Replaces the contents with one stamp repeated, growing and shrinking the array. */
static void *writer(void *arg) {
    (void)arg;
    int64_t stamp = 1;
    while (!atomic_load(&stop)) {
        int64_t n = 16 + stamp % 200;
        OK(ftarray_clear(shared));
        for (int64_t k = 0; k < n; k++) OK(ftarray_push_i64(shared, stamp));
        stamp++;
    }
    return NULL;
}

static void exports_while_a_writer_runs(int rounds) {
    OK(ftarray_new('q', &shared));
    OK(ftarray_push_i64(shared, 0));
    pthread_t w;
    CHECK(pthread_create(&w, NULL, writer, NULL) == 0);
    for (int r = 0; r < rounds; r++) {
        struct ArrowArray arr;
        struct ArrowSchema sch;
        OK(ftarray_export_arrow(shared, &arr, &sch));
        const int64_t *data = (const int64_t *)arr.buffers[1];
        /* One instant: a cleared array (length 0), or one stamp throughout, and it stays so. */
        for (int pass = 0; pass < 2; pass++)
            for (int64_t k = 1; k < arr.length; k++) CHECK(data[k] == data[0]);
        arr.release(&arr);
        sch.release(&sch);
    }
    atomic_store(&stop, 1);
    CHECK(pthread_join(w, NULL) == 0);
    OK(ftarray_free(shared));
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    export_is_one_instant_and_outlives_the_array();
    every_type_code_has_its_format();
    imports_refuse_what_an_array_cannot_hold();
    exports_while_a_writer_runs(rounds);
    OK(ftarray_drain());
    return report("arrow");
}
