/* The emfit command line: options, their parsing, usage text and exit
 * statuses.  Only the CLI prints or exits. */
#ifndef EMFIT_CLI_OPTIONS_H
#define EMFIT_CLI_OPTIONS_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "emfit/emfit.h"

/* Exit statuses: a contract with scripts (README and --help list them). */
enum {
    EXIT_OK = 0,        /* fit finished (converged or stopped at --max-iter) */
    EXIT_USAGE = 2,     /* bad option, option value or column selection */
    EXIT_INPUT = 3,     /* malformed data or parameter file */
    EXIT_IO = 4,        /* a file could not be opened, read or written */
    EXIT_FIT = 5,       /* data the model cannot fit, or numerical failure */
    EXIT_INTERNAL = 6,  /* log-likelihood decreased: a bug in emfit */
    EXIT_NOMEM = 7,     /* out of memory */
    EXIT_SOME_FAILED = 8, /* batch run: at least one input file failed */
    EXIT_INTERRUPTED = 130 /* SIGINT: a partial result, marked so */
};

typedef struct cli_options {
    const char *model;
    const char *columns;
    char delimiter;
    em_trace_format trace;
    const char *result;
    const char *init_params;
    const char *start;
    const char *fix;
    const char *labels, *responsibilities, *impute;
    const char *decode, *posteriors; /* hmm: Viterbi path, state
                                        probabilities per row */
    const char *sequence_id;         /* hmm: --sequence-id COL */
    const char *trace_params;
    size_t max_iter;
    unsigned long long seed;
    size_t k_min, k_max;  /* -k A-B; both 0 when -k was not given */
    size_t restarts;
    size_t threads;
    em_criterion criterion;
    int verbose;
    int init_from_params; /* --init params */
    volatile sig_atomic_t *stop; /* set by SIGINT (main) */
    double tol;
    em_model_config config;
    int quiet;
    int help, version;
    const char *input;     /* the file being fitted ("-" is stdin) */
    const char *const *inputs; /* every input file given, in order */
    size_t ninputs;
    int batch;             /* several inputs or --output-dir */
    const char *output_dir;
    size_t jobs;           /* files fitted at once in a batch */
    int threads_given;
    int digits;            /* decimals of the table trace */
    const char *plot;      /* SVG of the fit */
    int se;                /* --se: standard errors */
    em_accel accel;        /* --accel */
    int stream;            /* --stream (or --cache) */
    int spread_starts;     /* --spread-starts: under mpirun, ranks share
                              the starts, not the rows */
    const char *cache;     /* --cache PATH, or NULL */
    /* Set per file in a batch: the trace goes to trace_path (opened at
     * its first row) instead of stdout, and notes name label. */
    const char *trace_path;
    const char *label;
    /* model-specific options given, by long name, for the model check */
    const char *model_options[16];
    size_t nmodel_options;
} cli_options;

/* Parses argv into opt.  Returns EM_OK, or EM_ERR_ARG with err set. */
em_status cli_parse(int argc, char **argv, cli_options *opt, em_error *err);

/* EM_ERR_ARG for what cannot run split across MPI processes: per-row
 * outputs and plots, batches, standard input and --stream (with
 * --spread-starts, only batches and standard input). */
em_status cli_check_mpi(const cli_options *opt, em_error *err);

/* The full --help text. */
void cli_usage(FILE *f);

/* The exit status for a library status. */
int cli_exit_status(em_status st);

#endif
