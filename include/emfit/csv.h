/* CSV reader: RFC 4180 text in, an em_table of doubles out.
 *
 * The reader knows nothing about models.  It reads a header row of column
 * names, then data rows; it keeps only the selected columns and parses each
 * of their fields as a finite decimal number.  Missing values are an empty
 * field, "NA", "NaN" or "nan" (any letter case for nan); they become NaN.
 * Anything else that is not a finite number is an error reported with the
 * file, line and column where the offending field starts.
 *
 * Accepted: quoted fields ("" is a quote inside quotes, delimiters and line
 * breaks may appear inside quotes), LF, CRLF or lone CR line ends, a UTF-8
 * byte order mark before the header, a missing line end after the last row,
 * spaces and tabs around an unquoted number.  Blank lines are skipped (so in a
 * one-column file a missing value must be written NA or NaN).
 */
#ifndef EMFIT_CSV_H
#define EMFIT_CSV_H

#include <stdio.h>

#include "emfit/error.h"
#include "emfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct em_csv_options {
    /* Field separator; 0 means ','.  Must not be '"', '\r' or '\n'. */
    char delimiter;
    /* Column selection, e.g. "x,y" or "1,3" or "y,1": comma-separated names
     * or 1-based indices.  A token that equals a header name exactly is a
     * name; otherwise a token of digits only is an index.  NULL or "" keeps
     * every column.  Selecting a column twice, an unknown name, an index out
     * of range, or a name that several header columns share is EM_ERR_ARG. */
    const char *columns;
    /* Columns read as symbols rather than numbers: a list resolved as
     * columns is, or "*" for every selected column; NULL or "" for none.
     * Each must be selected.  Any text is a symbol; the distinct values of
     * a column are coded 0, 1, ... in the order first met (the table keeps
     * their text in levels), and a missing value (empty, NA, NaN, nan)
     * becomes NaN.  Unquoted symbols are trimmed of spaces and tabs like
     * numbers; a symbol that is not valid UTF-8 is EM_ERR_PARSE. */
    const char *symbols;
} em_csv_options;

/* Reads the file at path ("-" is standard input, named "<stdin>" in
 * messages) into *out.  On success *out owns its memory (em_table_free).
 * On failure *out is left zeroed and err says what is wrong:
 *   EM_ERR_IO    the file cannot be opened or read (err->file set)
 *   EM_ERR_PARSE malformed CSV or a field that is not a finite number,
 *                with file, line and column
 *   EM_ERR_ARG   a bad column selection or delimiter
 *   EM_ERR_NOMEM out of memory
 * A file with a header but no data rows is EM_ERR_PARSE. */
em_status em_csv_read_file(const char *path, const em_csv_options *opt,
                           em_table *out, em_error *err);

/* As em_csv_read_file, from an open stream; name is used in messages. */
em_status em_csv_read_stream(FILE *f, const char *name,
                             const em_csv_options *opt, em_table *out,
                             em_error *err);

/* As em_csv_read_file, from len bytes in memory (which may contain NULs,
 * reported as errors); name is used in messages. */
em_status em_csv_read_buffer(const char *buf, size_t len, const char *name,
                             const em_csv_options *opt, em_table *out,
                             em_error *err);

/* Called by em_csv_read_batches with each run of rows: batch holds them
 * (its values, lines and first_line; names and levels as read so far).
 * Anything but EM_OK stops the reading with that status and err. */
typedef em_status (*em_csv_batch_fn)(void *ctx, const em_table *batch,
                                     em_error *err);

/* As em_csv_read_file, but the rows are not kept: they go to batch in
 * runs of as many rows as fit in run_bytes of values (at least one; the
 * last run may be shorter), so memory holds one run.  On success *head has the names, source and levels, nrows counts
 * every row, and values and lines are NULL.  A parse error may come after
 * some runs were handed over. */
em_status em_csv_read_batches(const char *path, const em_csv_options *opt,
                              size_t run_bytes, em_csv_batch_fn batch,
                              void *ctx, em_table *head, em_error *err);

/* Reads one part of the file at path (a regular file; "-" is EM_ERR_ARG)
 * for one of several processes that share it out by byte ranges: the
 * rows whose line starts in [begin, end).  end past the file's size is
 * taken as the size.
 *
 * - The header is always read from the start of the file and selects the
 *   columns as usual, so every part has the same ncols and names.
 * - A part's text starts at its first line start: begin itself when begin
 *   is 0 or byte begin-1 ends a line ('\n', or a '\r' with no '\n' after
 *   it), otherwise just past the next line end (a '\r' at begin-1 and
 *   '\n' at begin: begin+1).  A line start inside the header, and begin
 *   0, mean the line after the header, which is never read as a row.
 * - The part reads each row whose line starts before the first line start
 *   at or after end, and stops there; a row that starts before end and
 *   goes on past it is this part's, whole.  Parts whose ranges tile
 *   [0, size) thus read every row once, and in file order.
 * - A part without rows (blank lines only, or a range inside one line) is
 *   EM_OK with nrows 0 and the names set: only a whole file without rows
 *   is an error, which is for the caller to find.
 * - Lines are numbered from 1 at the part's first line start (for the part
 *   with begin 0, from the start of the file, as em_csv_read_file does):
 *   em_table_line and err->line use these numbers; columns are byte
 *   columns within the line, as ever.  *nlines gets the count of line
 *   ends from there to the next part's first line start (the one at or
 *   after end), or to the end of the file (the range [0, 0) has none);
 *   so the line in the whole file of a part's line L is L plus the nlines
 *   of every earlier part.
 * - A quoted field holding a line break must lie within one part: the
 *   boundaries are found from line ends alone, so one that falls inside
 *   such a field splits it, which gives an error or wrong rows.
 * - Symbols (opt->symbols) are EM_ERR_ARG: each part would number its
 *   codes in its own order.
 * Memory holds the part's rows and one read buffer, never the whole file.
 * Errors are em_csv_read_file's (but for the one about no data rows),
 * EM_ERR_ARG for begin > end, and EM_ERR_IO for a path that is not a
 * regular file; on any error *out is zeroed and *nlines is 0. */
em_status em_csv_read_part(const char *path, const em_csv_options *opt,
                           unsigned long long begin, unsigned long long end,
                           em_table *out, long *nlines, em_error *err);

/* Writes s as one CSV field, quoted (with "" for a quote) when it holds a
 * comma, quote or line break. */
void em_csv_write_field(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif

#endif
