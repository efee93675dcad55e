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

em_status em_read_some(FILE *f, const char *name, char *buf, size_t size,
                       size_t *got, int *eof, em_error *err)
{
    errno = 0;
    *eof = 0;
    *got = fread(buf, 1, size, f);
    if (ferror(f))
        return read_error(name, errno, err);
    *eof = feof(f) != 0;
    return EM_OK;
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
        size_t got;
        int eof;
        em_status st = em_read_some(f, name, b + n, cap - n, &got, &eof, err);
        if (st != EM_OK) {
            free(b);
            return st;
        }
        n += got;
        if (eof)
            break;
    }
    *buf = b;
    *len = n;
    return EM_OK;
}

em_status em_open_input(const char *path, FILE **f, const char **name,
                        em_error *err)
{
    int use_stdin = strcmp(path, "-") == 0;
    *name = use_stdin ? "<stdin>" : path;
    errno = 0;
    *f = use_stdin ? stdin : fopen(path, "rb");
    if (!*f) {
        int e = errno;
        return em_error_at(err, EM_ERR_IO, path, 0, 0, "cannot open: %s",
                           e ? strerror(e) : "unknown error");
    }
    return EM_OK;
}

void em_close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

em_status em_read_path(const char *path, const char **name, char **buf,
                       size_t *len, em_error *err)
{
    FILE *f;
    em_status st = em_open_input(path, &f, name, err);
    if (st != EM_OK)
        return st;
    st = em_read_stream(f, *name, buf, len, err);
    em_close_input(f);
    return st;
}
