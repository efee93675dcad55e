#include "io/readall.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CHUNK 65536

static em_status read_error(const char *name, int e, em_error *err)
{
#ifdef EISDIR
    /* fopen succeeds on a directory on Linux; only reading it fails. */
    if (e == EISDIR)
        return em_error_at(err, EM_ERR_IO, name, 0, 0,
                           "cannot read: is a directory");
#endif
    return em_error_at(err, EM_ERR_IO, name, 0, 0, "cannot read: %s",
                       e ? strerror(e) : "read error");
}

em_status em_read_stream(FILE *f, const char *name, char **buf, size_t *len,
                         em_error *err)
{
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t c = cap ? (cap > SIZE_MAX / 2 ? 0 : 2 * cap) : FIRST_CHUNK;
            char *t = c ? realloc(b, c) : NULL;
            if (!t) {
                free(b);
                return em_error_at(err, EM_ERR_NOMEM, name, 0, 0,
                                   "out of memory");
            }
            b = t;
            cap = c;
        }
        errno = 0;
        n += fread(b + n, 1, cap - n, f);
        if (ferror(f)) {
            int e = errno;
            free(b);
            return read_error(name, e, err);
        }
        if (feof(f))
            break;
    }
    *buf = b;
    *len = n;
    return EM_OK;
}

em_status em_read_path(const char *path, const char **name, char **buf,
                       size_t *len, em_error *err)
{
    int use_stdin = strcmp(path, "-") == 0;
    *name = use_stdin ? "<stdin>" : path;
    errno = 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        int e = errno;
        return em_error_at(err, EM_ERR_IO, path, 0, 0, "cannot open: %s",
                           e ? strerror(e) : "unknown error");
    }
    em_status st = em_read_stream(f, *name, buf, len, err);
    if (!use_stdin)
        fclose(f);
    return st;
}
