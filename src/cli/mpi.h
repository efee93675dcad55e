/* Running under MPI: `mpirun -np P emfit ...` with a build configured
 * -DEMFIT_MPI=ON.  Each process reads one byte range of the input, the
 * rows are then moved so that every process holds whole E-step blocks,
 * and the model sees its part as a table split across processes
 * (em_parts): every pass over the rows, and every E-step, is carried from
 * process to process in row order, so the fit is the same to the last bit
 * as in one process.  Only rank 0 writes anything.
 *
 * Without EMFIT_MPI these are the one-process answers and cost nothing. */
#ifndef EMFIT_CLI_MPI_H
#define EMFIT_CLI_MPI_H

#include "emfit/emfit.h"

#ifdef EMFIT_MPI

#define CLI_MPI_BUILD 1

/* Starts MPI (it may edit argc and argv); call before anything else. */
void cli_mpi_start(int *argc, char ***argv);

/* This process's rank, the number of processes, and how many of them
 * run on this machine. */
int cli_mpi_rank(void);
int cli_mpi_size(void);
int cli_mpi_local_size(void);

/* Reads this process's part of the CSV file at path into *out (with
 * out->parts set), agreeing with the other processes on the first error
 * in row order, which every process then returns. */
em_status cli_mpi_read(const char *path, const em_csv_options *csv,
                       em_table *out, em_error *err);

/* The sharing of starts among the ranks (--spread-starts), or NULL in
 * one process. */
const em_search_share *cli_mpi_share(void);

/* Ends MPI and returns status: a failure stops every process at once
 * (MPI_Abort), since the others may be waiting on this one. */
int cli_mpi_finish(int status);

#else

#define CLI_MPI_BUILD 0

static inline void cli_mpi_start(int *argc, char ***argv)
{
    (void)argc, (void)argv;
}
static inline int cli_mpi_rank(void) { return 0; }
static inline int cli_mpi_size(void) { return 1; }
static inline int cli_mpi_local_size(void) { return 1; }
static inline em_status cli_mpi_read(const char *path,
                                     const em_csv_options *csv, em_table *out,
                                     em_error *err)
{
    return em_csv_read_file(path, csv, out, err);
}
static inline const em_search_share *cli_mpi_share(void) { return NULL; }
static inline int cli_mpi_finish(int status) { return status; }

#endif

#endif
