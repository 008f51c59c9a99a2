/* Linked into the C tests only under ThreadSanitizer.
 *
 * The Rust library is instrumented by nightly rustc's LLVM, whose ThreadSanitizer calls
 * __tsan_memcpy, __tsan_memmove and __tsan_memset for memory intrinsics. GCC's older libtsan
 * does not define them; its interceptors for memcpy, memmove and memset check the same
 * accesses, so these forward to them. */
#include <stddef.h>
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n);
void *__tsan_memmove(void *dst, const void *src, size_t n);
void *__tsan_memset(void *dst, int c, size_t n);

void *__tsan_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }
void *__tsan_memmove(void *dst, const void *src, size_t n) { return memmove(dst, src, n); }
void *__tsan_memset(void *dst, int c, size_t n) { return memset(dst, c, n); }
