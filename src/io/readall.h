/* Reading inputs, whole (the JSON reader) or in pieces (the CSV reader)
 * (internal). */
#ifndef EMFIT_READALL_H
#define EMFIT_READALL_H

#include <stddef.h>
#include <stdio.h>

#include "emfit/error.h"

/* Reads all of f (a pipe is fine) into *buf, malloc'd and not
 * NUL-terminated, of *len bytes.  Errors name the input as name:
 * EM_ERR_IO (a directory says so) or EM_ERR_NOMEM. */
em_status em_read_stream(FILE *f, const char *name, char **buf, size_t *len,
                         em_error *err);

/* Opens path ("-" is standard input) and reads it all as em_read_stream
 * does; *name is set to the name for messages ("<stdin>" for "-").  A path
 * that cannot be opened is EM_ERR_IO "cannot open: <reason>". */
em_status em_read_path(const char *path, const char **name, char **buf,
                       size_t *len, em_error *err);

/* Opens path ("-" is standard input) for reading; *name is the name for
 * messages ("<stdin>" for "-").  A path that cannot be opened is
 * EM_ERR_IO "cannot open: <reason>".  Close with em_close_input. */
em_status em_open_input(const char *path, FILE **f, const char **name,
                        em_error *err);
void em_close_input(FILE *f);

/* Reads up to size bytes of f into buf: *got of them, and *eof set at the
 * end of the input.  A read error is EM_ERR_IO naming name. */
em_status em_read_some(FILE *f, const char *name, char *buf, size_t size,
                       size_t *got, int *eof, em_error *err);

#endif
