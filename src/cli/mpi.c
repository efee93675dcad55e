/* The MPI layer of the command line: see mpi.h.  Compiled only when
 * configured with -DEMFIT_MPI=ON. */
#include "cli/mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RELAY_TAG 17

/* The dealt lines become the table's line array as they are. */
_Static_assert(sizeof(long) == sizeof(int64_t), "64-bit long");

static int rank, size = 1, local_size = 1;
static em_parts parts;

void cli_mpi_start(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank,
                        MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local_size);
    MPI_Comm_free(&node);
}

int cli_mpi_local_size(void)
{
    return local_size;
}

int cli_mpi_rank(void)
{
    return rank;
}

int cli_mpi_size(void)
{
    return size;
}

/* How long a failing rank waits for the others to fail too. */
#define AGREE_SECONDS 5.0

int cli_mpi_finish(int status)
{
    /* Most failures are met by every rank at once (they see the same
     * sums), and rank 0 has said why: end together.  A rank left waiting
     * on this one would wait for ever, so after a while abort them all. */
    if (status != 0 && size > 1) {
        MPI_Request req;
        int done = 0;
        MPI_Ibarrier(MPI_COMM_WORLD, &req);
        double until = MPI_Wtime() + AGREE_SECONDS;
        while (!done && MPI_Wtime() < until) {
            MPI_Test(&req, &done, MPI_STATUS_IGNORE);
            if (!done)
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
        if (!done)
            MPI_Abort(MPI_COMM_WORLD, status);
    }
    MPI_Finalize();
    return status;
}

static int too_big(size_t n)
{
    return n > (size_t)INT_MAX;
}

/* em_parts.relay: the accumulator goes down the ranks in order, and the
 * last rank's is shared with all. */
static em_status relay(void *ctx, int before, double *acc, size_t n,
                       em_error *err)
{
    (void)ctx;
    if (too_big(n))
        return em_error_set(err, EM_ERR_NOMEM,
                            "%zu numbers are too many for one MPI message",
                            n);
    if (before) {
        if (rank > 0)
            MPI_Recv(acc, (int)n, MPI_DOUBLE, rank - 1, RELAY_TAG,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        return EM_OK;
    }
    if (rank < size - 1)
        MPI_Send(acc, (int)n, MPI_DOUBLE, rank + 1, RELAY_TAG,
                 MPI_COMM_WORLD);
    MPI_Bcast(acc, (int)n, MPI_DOUBLE, size - 1, MPI_COMM_WORLD);
    return EM_OK;
}

/* em_search_share.gather: start j comes from rank j % size. */
static em_status gather_starts(void *ctx, em_search_start *starts, size_t n,
                               em_error *err)
{
    (void)ctx;
    size_t bytes = n * sizeof *starts;
    em_search_start *all = too_big(bytes) || too_big(bytes * (size_t)size)
                               ? NULL
                               : malloc(bytes * (size_t)size);
    if (!all)
        return em_error_set(err, EM_ERR_NOMEM,
                            "out of memory gathering the starts");
    MPI_Allgather(starts, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE,
                  MPI_COMM_WORLD);
    for (size_t j = 0; j < n; j++)
        starts[j] = all[(j % (size_t)size) * n + j];
    free(all);
    return EM_OK;
}

const em_search_share *cli_mpi_share(void)
{
    static em_search_share share;
    if (size <= 1)
        return NULL;
    share = (em_search_share){.part = (size_t)rank,
                              .nparts = (size_t)size,
                              .gather = gather_starts};
    return &share;
}

/* Byte r * bytes / size, without overflow. */
static unsigned long long share(unsigned long long bytes, int r)
{
    return bytes / (unsigned)size * (unsigned)r +
           bytes % (unsigned)size * (unsigned)r / (unsigned)size;
}

/* The first row of rank r once the rows are dealt out: an equal share,
 * rounded down to a whole E-step block. */
static size_t first_row(size_t total, int r)
{
    if (r >= size)
        return total;
    size_t s = (size_t)share(total, r);
    return s / EM_BLOCK_UNITS * EM_BLOCK_UNITS;
}

/* Every rank gets the error of the first rank that failed, with its line
 * counted from the top of the file. */
static em_status agree(em_status st, long nlines, em_error *err)
{
    int mine = st == EM_OK ? size : rank, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == size)
        return EM_OK;
    long before = 0;
    MPI_Exscan(&nlines, &before, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == first && rank > 0 && err->line > 0)
        err->line += before;
    MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, first, MPI_COMM_WORLD);
    return err->status;
}

/* Rows and lines of one rank, for the exchange. */
typedef struct slice {
    double *values;
    int64_t *lines;
    size_t nrows, row0; /* global index of the first */
} slice;

/* Moves the rows so that rank r holds [first_row(r), first_row(r + 1)).
 * Counts are in rows (an MPI type of ncols doubles), so that a rank may
 * hold up to 2^31 - 1 rows. */
static em_status deal_rows(const slice *in, size_t ncols, size_t total,
                           slice *out, em_error *err)
{
    size_t lo = first_row(total, rank), hi = first_row(total, rank + 1);
    out->nrows = hi - lo, out->row0 = lo;
    if (too_big(in->nrows) || too_big(out->nrows) || too_big(ncols))
        return em_error_set(err, EM_ERR_NOMEM,
                            "more than 2^31 - 1 rows for one process: use "
                            "more processes");
    int *cnt = calloc(4 * (size_t)size, sizeof *cnt);
    unsigned long long mine[2] = {in->row0, in->nrows}, *all =
        malloc(2 * (size_t)size * sizeof *all);
    out->values = malloc((out->nrows ? out->nrows : 1) * ncols * sizeof(double));
    out->lines = malloc((out->nrows ? out->nrows : 1) * sizeof(int64_t));
    if (!cnt || !all || !out->values || !out->lines) {
        free(cnt), free(all);
        return em_error_set(err, EM_ERR_NOMEM,
                            "out of memory dealing the rows out");
    }
    MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2,
                  MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    int *sc = cnt, *sd = cnt + size, *rc = cnt + 2 * size, *rd = cnt + 3 * size;
    for (int q = 0; q < size; q++) {
        /* what I send to q: my rows inside q's range */
        size_t a = first_row(total, q), b = first_row(total, q + 1);
        size_t s0 = in->row0 > a ? in->row0 : a;
        size_t s1 = in->row0 + in->nrows < b ? in->row0 + in->nrows : b;
        sc[q] = s1 > s0 ? (int)(s1 - s0) : 0;
        sd[q] = s1 > s0 ? (int)(s0 - in->row0) : 0;
        /* what q sends me: its rows inside mine */
        size_t q0 = (size_t)all[2 * q], q1 = q0 + (size_t)all[2 * q + 1];
        size_t r0 = q0 > lo ? q0 : lo, r1 = q1 < hi ? q1 : hi;
        rc[q] = r1 > r0 ? (int)(r1 - r0) : 0;
        rd[q] = r1 > r0 ? (int)(r0 - lo) : 0;
    }
    MPI_Datatype row;
    MPI_Type_contiguous((int)ncols, MPI_DOUBLE, &row);
    MPI_Type_commit(&row);
    MPI_Alltoallv(in->values, sc, sd, row, out->values, rc, rd, row,
                  MPI_COMM_WORLD);
    MPI_Type_free(&row);
    MPI_Alltoallv(in->lines, sc, sd, MPI_INT64_T, out->lines, rc, rd,
                  MPI_INT64_T, MPI_COMM_WORLD);
    free(cnt), free(all);
    return EM_OK;
}

/* This rank's rows with their lines counted from the top of the file. */
static em_status own_slice(const em_table *t, long nlines, slice *s,
                           size_t *total, em_error *err)
{
    long before = 0;
    unsigned long long n = t->nrows, row0 = 0, sum = 0;
    MPI_Exscan(&nlines, &before, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Exscan(&n, &row0, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&n, &sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
    if (rank == 0)
        before = 0, row0 = 0; /* Exscan leaves rank 0's undefined */
    *s = (slice){.values = t->values, .nrows = t->nrows, .row0 = row0};
    *total = (size_t)sum;
    s->lines = malloc((t->nrows ? t->nrows : 1) * sizeof *s->lines);
    if (!s->lines)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->nrows; i++)
        s->lines[i] = em_table_line(t, i) + before;
    return EM_OK;
}

/* A file with a header and no rows at all: rank 0 reads it whole (it is
 * only the header) for the usual message, which all then share. */
static em_status no_rows(const char *path, const em_csv_options *csv,
                         em_error *err)
{
    if (rank == 0) {
        em_table t;
        em_csv_read_file(path, csv, &t, err);
        em_table_free(&t);
    }
    MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, 0, MPI_COMM_WORLD);
    return err->status;
}

em_status cli_mpi_read(const char *path, const em_csv_options *csv,
                       em_table *out, em_error *err)
{
    struct stat sb;
    em_table part = {0};
    long nlines = 0;
    em_status st = EM_OK;
    *out = (em_table){0};
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = em_csv_read_file(path, csv, &part, err); /* its own message */
    else
        st = em_csv_read_part(path, csv, share((unsigned long long)sb.st_size, rank),
                              share((unsigned long long)sb.st_size, rank + 1),
                              &part, &nlines, err);
    if ((st = agree(st, nlines, err)) != EM_OK) {
        em_table_free(&part);
        return st;
    }
    slice mine, dealt = {0};
    size_t total;
    st = own_slice(&part, nlines, &mine, &total, err);
    if (st == EM_OK && total == 0)
        st = no_rows(path, csv, err);
    if (st == EM_OK)
        st = deal_rows(&mine, part.ncols, total, &dealt, err);
    free(mine.lines);
    if (st != EM_OK) {
        free(dealt.values), free(dealt.lines);
        em_table_free(&part);
        return st;
    }
    parts = (em_parts){.part = (size_t)rank,
                       .nparts = (size_t)size,
                       .row0 = dealt.row0,
                       .total = total,
                       .relay = relay};
    free(part.values), free(part.lines);
    *out = part;
    out->values = dealt.values;
    out->lines = (long *)dealt.lines;
    out->nrows = dealt.nrows;
    out->first_line = 0;
    out->parts = &parts;
    return EM_OK;
}
