/* libFuzzer harness for em_csv_read_buffer.
 *
 * Byte 0 picks the options: bits 0-1 the delimiter, bits 2-4 a column
 * selection.  The rest is the CSV text.  A successful read must give a
 * well-formed table; abort() (fine in a fuzz harness only) makes the
 * fuzzer report any violation. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emfit/csv.h"
#include "fuzz.h"


static const char delims[4] = {',', ';', '\t', 0 /* default: ',' */};
/* Each selection with the number of columns it must yield (0: all,
 * -1: never succeeds) and the names a token that is not all digits fixes
 * (such a token can only be a name). */
static const struct {
    const char *spec;
    int ncols;
    const char *names[3];
} sels[8] = {
    {NULL, 0, {0}},        {"1,2", 2, {0}},          {"y,x", 2, {"y", "x"}},
    {"", 0, {0}},          {"2", 1, {0}},            {"x", 1, {"x"}},
    {"1,1", -1, {0}} /* a column twice */,           {"y,1,3", 3, {"y"}},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    em_csv_options opt = {.delimiter = delims[data[0] & 3],
                          .columns = sels[(data[0] >> 2) & 7].spec};
    int want = sels[(data[0] >> 2) & 7].ncols;
    const char *const *names = sels[(data[0] >> 2) & 7].names;
    em_table t;
    memset(&t, 0xA5, sizeof t); /* the reader must overwrite it either way */
    em_error err;
    em_status st = em_csv_read_buffer((const char *)data + 1, size - 1,
                                      "fuzz.csv", &opt, &t, &err);
    CHECK(err.status == st);
    if (st != EM_OK) {
        /* A buffer cannot give EM_ERR_IO, and tiny inputs no EM_ERR_NOMEM. */
        CHECK(st == EM_ERR_PARSE || st == EM_ERR_ARG);
        CHECK(t.nrows == 0 && t.ncols == 0 && !t.names && !t.values &&
              !t.lines && !t.source);
        return 0;
    }
    CHECK(want >= 0);
    CHECK(t.nrows > 0 && t.ncols > 0);
    CHECK(want == 0 || t.ncols == (size_t)want);
    CHECK(t.names && t.values && t.first_line >= 2 && t.source);
    CHECK(strcmp(t.source, "fuzz.csv") == 0);
    for (size_t j = 0; j < t.ncols; j++)
        CHECK(t.names[j] != NULL &&
              (j >= 3 || !names[j] || strcmp(t.names[j], names[j]) == 0));
    for (size_t i = 0; i < t.nrows * t.ncols; i++)
        CHECK(!isinf(t.values[i])); /* finite, or NaN for missing */
    /* Data rows start after the header, in order. */
    for (size_t i = 0; i < t.nrows; i++)
        CHECK(em_table_line(&t, i) >= 2 &&
              (i == 0 || em_table_line(&t, i) > em_table_line(&t, i - 1)));
    em_table_free(&t);
    CHECK(t.nrows == 0 && !t.values);
    return 0;
}
