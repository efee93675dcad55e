#include "emfit/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void set_vmsg(em_error *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

void em_error_clear(em_error *err)
{
    if (!err)
        return;
    err->status = EM_OK;
    err->file[0] = '\0';
    err->line = 0;
    err->col = 0;
    err->msg[0] = '\0';
}

em_status em_error_set(em_error *err, em_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    em_error_clear(err);
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    set_vmsg(err, fmt, ap);
    va_end(ap);
    return st;
}

em_status em_error_at(em_error *err, em_status st, const char *file, long line,
                      long col, const char *fmt, ...)
{
    if (!err)
        return st;
    em_error_clear(err);
    err->status = st;
    copy_str(err->file, sizeof err->file, file);
    err->line = line;
    err->col = col;
    va_list ap;
    va_start(ap, fmt);
    set_vmsg(err, fmt, ap);
    va_end(ap);
    return st;
}

void em_error_format(const em_error *err, char *buf, size_t size)
{
    if (!size)
        return;
    if (!err->file[0])
        snprintf(buf, size, "%s", err->msg);
    else if (err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%ld:%ld: %s", err->file, err->line, err->col,
                 err->msg);
    else if (err->line > 0)
        snprintf(buf, size, "%s:%ld: %s", err->file, err->line, err->msg);
    else
        snprintf(buf, size, "%s: %s", err->file, err->msg);
}

const char *em_status_name(em_status st)
{
    switch (st) {
    case EM_OK: return "ok";
    case EM_ERR_ARG: return "bad argument";
    case EM_ERR_PARSE: return "parse error";
    case EM_ERR_IO: return "I/O error";
    case EM_ERR_DATA: return "data cannot be fitted";
    case EM_ERR_NUMERIC: return "numerical failure";
    case EM_ERR_NOMEM: return "out of memory";
    case EM_ERR_BUG: return "internal error";
    }
    return "unknown error";
}
