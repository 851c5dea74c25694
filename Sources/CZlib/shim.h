// Function wrappers for zlib's init macros, which Swift cannot call directly.
#ifndef DYNAMO_MIGRATE_CZLIB_SHIM_H
#define DYNAMO_MIGRATE_CZLIB_SHIM_H
#include <zlib.h>

static inline int dm_deflateInit2(z_streamp strm, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}
static inline int dm_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
