/* Saving and loading .npy files through the C ABI: round trips for every numeric type code
 * (the loaded type code is picked from the file), numpy's exact byte layout for one file, and
 * every error path: a missing file, a file that is not .npy, a truncated file, characters,
 * an unwritable target, NULL arguments. A failed save leaves the target as it was; a failed
 * load leaves `*out` untouched. */
#define _XOPEN_SOURCE 700
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char dir[] = "/tmp/ftarray-persist-XXXXXX";

static void path_in(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(bytes, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

static size_t file_size(const char *path) {
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (size_t)st.st_size;
}

static void round_trips(void) {
    const char *codes = "bBhHiIlLqQfd";
    for (const char *c = codes; *c; c++) {
        ftarray *a = NULL, *b = NULL;
        OK(ftarray_new(*c, &a));
        for (int64_t v = 0; v < 5; v++) OK(ftarray_push_i64(a, v * 3));
        char path[256];
        path_in(path, sizeof path, "rt.npy");
        OK(ftarray_save_npy(a, path));
        OK(ftarray_load_npy(path, &b));
        CHECK(len_of(b) == 5);
        size_t ia = 0, ib = 0;
        OK(ftarray_itemsize(a, &ia));
        OK(ftarray_itemsize(b, &ib));
        CHECK(ia == ib);
        /* 'l'/'L' come back as the fixed-size code of the platform's long; the rest as is. */
        char back = 0;
        OK(ftarray_typecode(b, &back));
        if (*c == 'l') CHECK(back == (sizeof(long) == 8 ? 'q' : 'i'));
        else if (*c == 'L') CHECK(back == (sizeof(long) == 8 ? 'Q' : 'I'));
        else CHECK(back == *c);
        for (ptrdiff_t i = 0; i < 5; i++) {
            double x = 0, y = 0;
            OK(ftarray_get_f64(a, i, &x));
            OK(ftarray_get_f64(b, i, &y));
            CHECK(x == y && y == (double)(i * 3));
        }
        /* numpy's layout: a header padded to a 64-byte boundary, then the data. */
        CHECK(file_size(path) == 128 + 5 * ia);
        OK(ftarray_free(a));
        OK(ftarray_free(b));
        CHECK(unlink(path) == 0);
    }
}

static void errors(void) {
    char path[256], missing[256], bad[256], cut[256], nodir[256];
    path_in(path, sizeof path, "keep.npy");
    path_in(missing, sizeof missing, "no-such-file.npy");
    path_in(bad, sizeof bad, "not-npy.npy");
    path_in(cut, sizeof cut, "cut.npy");
    path_in(nodir, sizeof nodir, "no-such-dir/x.npy");

    ftarray *a = NULL, *sentinel = (ftarray *)(uintptr_t)0x1, *out = sentinel;
    OK(ftarray_new('d', &a));
    OK(ftarray_push_f64(a, 1.5));
    OK(ftarray_save_npy(a, path));
    size_t kept = file_size(path);

    EXPECT(ftarray_load_npy(missing, &out), FTARRAY_STATUS_IO);
    CHECK(out == sentinel);
    CHECK(strstr(last_error(), "no-such-file.npy") != NULL);

    write_file(bad, "PK\x03\x04 this is a zip file", 24);
    EXPECT(ftarray_load_npy(bad, &out), FTARRAY_STATUS_BAD_FILE);
    CHECK(out == sentinel);
    CHECK(strstr(last_error(), "not a .npy file") != NULL);

    /* A complete file cut short inside its data. */
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    CHECK(fclose(f) == 0);
    CHECK(n == kept);
    write_file(cut, buf, n - 3);
    EXPECT(ftarray_load_npy(cut, &out), FTARRAY_STATUS_BAD_FILE);
    CHECK(strstr(last_error(), "truncated data") != NULL);
    CHECK(out == sentinel);

    /* Characters have no .npy type: refused, and the target is untouched. */
    ftarray *w = NULL;
    OK(ftarray_new('w', &w));
    OK(ftarray_push_i64(w, 65));
    EXPECT(ftarray_save_npy(w, path), FTARRAY_STATUS_BAD_FILE);
    CHECK(file_size(path) == kept);
    OK(ftarray_free(w));

    /* An unwritable target: nothing is created. */
    EXPECT(ftarray_save_npy(a, nodir), FTARRAY_STATUS_IO);
    CHECK(access(nodir, F_OK) != 0);

    EXPECT(ftarray_save_npy(a, NULL), FTARRAY_STATUS_NULL_ARGUMENT);
    EXPECT(ftarray_save_npy(NULL, path), FTARRAY_STATUS_NULL_ARGUMENT);
    EXPECT(ftarray_load_npy(NULL, &out), FTARRAY_STATUS_NULL_ARGUMENT);
    EXPECT(ftarray_load_npy(path, NULL), FTARRAY_STATUS_NULL_ARGUMENT);
    CHECK(out == sentinel);

    /* The kept file still loads and holds what was saved. */
    ftarray *b = NULL;
    OK(ftarray_load_npy(path, &b));
    double x = 0;
    OK(ftarray_get_f64(b, 0, &x));
    CHECK(x == 1.5);
    OK(ftarray_free(b));
    OK(ftarray_free(a));
    unlink(path);
    unlink(bad);
    unlink(cut);
}

/* What saves killed before their rename leave behind is removed by the cleanup call; the
 * target and files that only look alike are left alone. */
static void stale_temporary_files(void) {
    char target[256], stale1[256], stale2[256], other[256], unrelated[256];
    path_in(target, sizeof target, "data.npy");
    path_in(stale1, sizeof stale1, ".data.npy.Ab12Cd.ftarray-tmp");
    path_in(stale2, sizeof stale2, ".data.npy.zz99ZZ.ftarray-tmp");
    path_in(other, sizeof other, ".other.npy.Ab12Cd.ftarray-tmp");
    path_in(unrelated, sizeof unrelated, "data.npy.bak");
    ftarray *a = NULL;
    OK(ftarray_new('d', &a));
    OK(ftarray_push_f64(a, 1.5));
    OK(ftarray_save_npy(a, target));
    write_file(stale1, "partial", 7);
    write_file(stale2, "partial", 7);
    write_file(other, "partial", 7);
    write_file(unrelated, "keep", 4);
    size_t removed = 99;
    OK(ftarray_remove_stale_npy_temp_files(target, &removed));
    CHECK(removed == 2);
    CHECK(access(stale1, F_OK) != 0 && access(stale2, F_OK) != 0);
    CHECK(access(other, F_OK) == 0 && access(unrelated, F_OK) == 0);
    ftarray *b = NULL;
    OK(ftarray_load_npy(target, &b)); /* the target is untouched */
    CHECK(len_of(b) == 1);
    OK(ftarray_remove_stale_npy_temp_files(target, NULL)); /* none left: fine */
    EXPECT(ftarray_remove_stale_npy_temp_files(NULL, &removed), FTARRAY_STATUS_NULL_ARGUMENT);
    char missing[256];
    path_in(missing, sizeof missing, "no-such-dir/x.npy");
    EXPECT(ftarray_remove_stale_npy_temp_files(missing, &removed), FTARRAY_STATUS_IO);
    CHECK(strstr(last_error(), "ftarray_remove_stale_npy_temp_files: ") == last_error());
    CHECK(unlink(other) == 0 && unlink(unrelated) == 0 && unlink(target) == 0);
    OK(ftarray_free(a));
    OK(ftarray_free(b));
}

int main(void) {
    CHECK(mkdtemp(dir) != NULL);
    round_trips();
    errors();
    stale_temporary_files();
    CHECK(rmdir(dir) == 0);
    return report("persist");
}
