/* A binary cache of parsed CSV values, for fits that stream their data.
 *
 * em_cache_open parses the input once, a run of rows at a time, writes the
 * values to a cache file, and maps that file read-only as the table's
 * values.  The process's own memory then holds one run of rows while
 * parsing and nothing per row afterwards: each E-step pass walks the
 * mapped values block by block, the kernel reads them in as they are
 * touched, and since file pages can be dropped and read again, the data
 * may be far larger than the memory a process is allowed.
 *
 * With a path the cache stays there.  A later em_cache_open with the same
 * path maps it again without parsing when it matches: same input file
 * (device, inode, size and modification time to the nanosecond), same
 * delimiter and column selection, a file of the size its header promises,
 * and a header and column names that pass their check (FNV-1a); anything
 * else rebuilds it.  The values themselves are not checked.  Standard input is always parsed.
 * The file is written next to path under a temporary name and renamed into
 * place when complete, so an interrupted build leaves no half cache.
 * Without a path the cache is an unlinked file in $TMPDIR (else /tmp),
 * gone once the table is freed.
 *
 * Layout, in the machine's own byte order (a cache does not move between
 * machines of different kinds; one with the wrong order is rebuilt):
 *   a fixed header (see cache.c), then the delimiter byte, the --columns
 *   text and the column names, each NUL-terminated; zeros up to the next
 *   multiple of 4096 bytes; nrows x ncols doubles, row-major, NaN for a
 *   missing value; and, only when some row is not on the line after the
 *   previous one, nrows 64-bit source line numbers.
 */
#ifndef EMFIT_CACHE_H
#define EMFIT_CACHE_H

#include "emfit/csv.h"
#include "emfit/error.h"
#include "emfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads input ("-" for standard input) as em_csv_read_file would, through
 * the cache at path (NULL: a temporary one), into *out, whose values are
 * mapped from the cache (out->map set).  *reused (may be NULL) is set to 1
 * when an existing cache was mapped without parsing.  Errors are those of
 * em_csv_read_file, plus EM_ERR_IO when the cache cannot be written or
 * mapped (err->file names the cache) and EM_ERR_ARG for symbol columns,
 * which are not cached. */
em_status em_cache_open(const char *input, const em_csv_options *csv,
                        const char *path, em_table *out, int *reused,
                        em_error *err);

#ifdef __cplusplus
}
#endif

#endif
