/* The parts of the command line shared between its files (internal). */
#ifndef EMFIT_CLI_H
#define EMFIT_CLI_H

#include "cli/options.h"

/* The outcome of --restarts or a range for -k. */
typedef struct search_result {
    em_search_row *rows;
    size_t nrows, best;
} search_result;

/* The progress line (progress.c), drawn only once enabled: stderr is a
 * terminal, --quiet was not given and the trace is not on that terminal. */
typedef struct cli_progress {
    const char *label; /* the input, in a batch; NULL for a single run */
    double start;      /* seconds on the monotonic clock */
    double next_try;   /* when to consider drawing again */
    size_t steps;      /* iterations so far, over every start */
} cli_progress;

void cli_progress_enable(int on);
void cli_progress_start(cli_progress *p, const char *label);
void cli_progress_step(cli_progress *p, size_t iter, double loglik);
/* Clears the line if it is p's. */
void cli_progress_end(cli_progress *p);

/* Bracket every other write to the terminal (stderr, and stdout rows that
 * may share it): hold clears the progress line and keeps it off, and holds
 * back the writes of other threads until release. */
void cli_terminal_hold(void);
void cli_terminal_release(void);

/* Messages on stderr (messages.c): "emfit: [LABEL: ]...".  cli_note is
 * silenced by --quiet. */
void cli_say(const cli_options *opt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_note(const cli_options *opt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prints err and returns its exit status.  input names the data when the
 * error has no file of its own; in a batch (per_file) it always does. */
int cli_report(const em_error *err, const char *input, int per_file);

/* The trace rows kept for --plot: the start, then each iteration. */
typedef struct cli_recording {
    size_t nparams, nrows, cap;
    double *loglik; /* nrows values */
    double *params; /* nrows x nparams, row-major */
} cli_recording;

void cli_recording_free(cli_recording *r);

/* The per-iteration callback of a fit (tracer.c): the trace row, the
 * recording and the progress line. */
typedef struct cli_tracer {
    em_trace_writer tw;
    const char *path;   /* opened at the first row, or NULL: tw.f is set */
    cli_recording *rec; /* NULL unless the rows are kept */
    cli_progress progress;
} cli_tracer;

/* Sets t up for opt's trace of m; rec, when not NULL, is emptied and gets
 * the rows (free it with cli_recording_free). */
void cli_tracer_init(cli_tracer *t, const cli_options *opt, const em_model *m,
                     cli_recording *rec);
em_status cli_tracer_step(void *ctx, size_t iter, const double *theta,
                          double loglik, em_error *err);
/* Ends the progress line and closes a trace file; returns st, or the
 * close's error when st was EM_OK. */
em_status cli_tracer_close(cli_tracer *t, em_status st, em_error *err);

/* An em_trace_fn that only moves the progress line (ctx: cli_progress). */
em_status cli_progress_only(void *ctx, size_t iter, const double *theta,
                            double loglik, em_error *err);

/* Runs the restarts and the -k range; *chosen gets the k and seed of the
 * best fit, which the traced fit then repeats exactly.  sr->rows is the
 * caller's to free. */
em_status cli_choose_fit(const cli_options *opt, const em_model_type *type,
                         const em_table *data, cli_options *chosen,
                         search_result *sr, cli_progress *progress,
                         em_error *err);

/* The model --model names, checked against the model options given. */
em_status cli_find_model(const cli_options *opt, const em_model_type **type,
                         em_error *err);

/* What became of one input file. */
typedef struct cli_outcome {
    em_status st;
    em_error err;        /* when st is not EM_OK */
    int status;          /* the exit status of this file alone */
    int built;           /* the model was built: n and k are known */
    size_t n, k;         /* units with data; latent classes (0: none) */
    em_fit_result res;   /* when st is EM_OK */
} cli_outcome;

/* Fits opt->input and writes its outputs as opt says (fit.c).  Prints
 * notes but not the error, which out holds. */
void cli_fit_file(const cli_options *opt, cli_outcome *out);

/* The batch summary (summary.c): a header (none for JSON Lines), then a
 * row per file, in the format of --trace (csv unless tsv or jsonl). */
void cli_summary_header(FILE *f, em_trace_format format);
void cli_summary_row(FILE *f, em_trace_format format, const char *file,
                     const char *model, const cli_outcome *o);

/* Fits every input of a batch run and prints the summary; returns the
 * exit status (batch.c). */
int cli_run_batch(const cli_options *opt);

/* Writes --result for the fit (sr may hold no rows; se: the standard
 * errors with --se, NULL when there are none). */
em_status cli_write_result(const cli_options *opt, const em_model *m,
                           const em_table *data, const double *theta,
                           const unsigned char *fixed,
                           const em_fit_result *res, const search_result *sr,
                           const double *se, em_error *err);

/* --se after a fit (se_report.c): the standard errors into se (nparams),
 * and the table on stderr unless --quiet or a batch.  When the fit has
 * none (a singular information, a boundary) *have is 0 and a note says
 * why; other failures are errors. */
em_status cli_standard_errors(const cli_options *opt, em_model *m,
                              const double *theta, const unsigned char *fixed,
                              double *se, int *have, em_error *err);

/* Refuses, before any fit, per-row outputs the model cannot give. */
em_status cli_check_row_outputs(const cli_options *opt, const em_model *m,
                                em_error *err);

/* Writes --labels, --responsibilities and --impute after a fit. */
em_status cli_write_row_outputs(const cli_options *opt, em_model *m,
                                const em_table *data, const double *theta,
                                em_error *err);

/* Writes --plot after a fit, with the recorded trace (cols: the traced
 * parameters, or NULL for all). */
em_status cli_write_plot(const cli_options *opt, em_model *m,
                         const em_table *data, const double *theta,
                         const cli_recording *rec, const size_t *cols,
                         size_t ncols, em_error *err);

#endif
