/* Per-row scratch arrays that follow the data out of memory (internal). */
#ifndef EMFIT_SCRATCH_H
#define EMFIT_SCRATCH_H

#include <stddef.h>

#include "emfit/table.h"

/* Room for count elements of size bytes, one per row of t: from malloc
 * for a table in memory, and for a table mapped from a cache (--stream)
 * from a mapping of an unlinked temporary file in $TMPDIR (else /tmp), so
 * that, like the data, it may be larger than the memory allowed.  NULL
 * when neither can be had.  Free with em_row_scratch_free. */
void *em_row_scratch(const em_table *t, size_t count, size_t size);
void em_row_scratch_free(void *p);

/* $TMPDIR, or /tmp when it is unset or empty. */
const char *em_temp_dir(void);

/* A new file in $TMPDIR (else /tmp), already unlinked so that nothing is
 * left behind however the process ends, open for reading and writing: its
 * descriptor, or -1 with errno set; *name (room for 4096 bytes) gets its
 * former name, for messages. */
int em_temp_fd(const char *prefix, char *name);

#endif
