/* Batch runs: several input files, or --output-dir.  Each file is fitted
 * alone with the same options, up to --jobs at a time, and stdout gets one
 * summary row per file in the order given, whatever order they finish in.
 * A failing file is reported and the others go on.
 *
 * Usage problems (a bad model, two inputs that would write the same
 * outputs, a directory that cannot be made) stop the run before any fit. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

typedef struct batch_file {
    const char *input;
    char *name;                /* the input's name without folder and
                                  extension, for --output-dir */
    char *trace, *result, *plot; /* paths under --output-dir, or NULL */
    cli_outcome out;
    int done;
} batch_file;

typedef struct batch {
    const cli_options *opt;
    batch_file *files;
    size_t n;
    em_trace_format summary;   /* format of the summary rows */
    pthread_mutex_t lock;      /* guards next_start, next_print, done */
    size_t next_start;         /* the next file to fit */
    size_t next_print;         /* the next row to print */
} batch;

static const char *trace_extension(em_trace_format f)
{
    switch (f) {
    case EM_TRACE_TABLE: return "txt";
    case EM_TRACE_CSV: return "csv";
    case EM_TRACE_TSV: return "tsv";
    case EM_TRACE_JSONL: return "jsonl";
    case EM_TRACE_NONE: break;
    }
    return NULL;
}

/* "data/a.b.csv" -> "a.b": the last path component without its
 * extension (a leading dot, as in ".hidden", is not one). */
static char *output_name(const char *input)
{
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *name = malloc(len + 1);
    if (name) {
        memcpy(name, base, len);
        name[len] = '\0';
    }
    return name;
}

static char *join(const char *dir, const char *name, const char *suffix)
{
    size_t len = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%s/%s%s", dir, name, suffix);
    return path;
}

static int by_name(const void *a, const void *b)
{
    const batch_file *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Two inputs with one NAME would overwrite each other's outputs. */
static em_status check_names(batch *b, em_error *err)
{
    const batch_file **sorted = malloc(b->n * sizeof *sorted);
    if (!sorted)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b->n; i++)
        sorted[i] = &b->files[i];
    qsort(sorted, b->n, sizeof *sorted, by_name);
    em_status st = EM_OK;
    for (size_t i = 0; i < b->n && st == EM_OK; i++) {
        if (!sorted[i]->name[0])
            st = em_error_set(err, EM_ERR_ARG,
                              "--output-dir: \"%s\" has no file name to name "
                              "its outputs after",
                              sorted[i]->input);
        else if (i > 0 && strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
            st = em_error_set(err, EM_ERR_ARG,
                              "--output-dir: \"%s\" and \"%s\" would both "
                              "write %s.*; rename one or run them apart",
                              sorted[i - 1]->input, sorted[i]->input,
                              sorted[i]->name);
    }
    free(sorted);
    return st;
}

/* mkdir -p: each missing folder on the way is made. */
static em_status make_dir(const char *dir, em_error *err)
{
    char *path = malloc(strlen(dir) + 1);
    if (!path)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    strcpy(path, dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
    int made = mkdir(path, 0777) == 0 || errno == EEXIST;
    int e = errno;
    struct stat sb;
    free(path);
    if (!made)
        return em_error_at(err, EM_ERR_IO, dir, 0, 0,
                           "cannot create the output directory: %s",
                           strerror(e));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return em_error_at(err, EM_ERR_IO, dir, 0, 0,
                           "the output directory exists but is not a "
                           "directory");
    return EM_OK;
}

static em_status name_outputs(batch *b, em_error *err)
{
    const cli_options *opt = b->opt;
    const char *ext = trace_extension(opt->trace);
    char suffix[32];
    for (size_t i = 0; i < b->n; i++) {
        batch_file *f = &b->files[i];
        if (!(f->name = output_name(f->input)))
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    em_status st = check_names(b, err);
    if (st != EM_OK)
        return st;
    if (ext)
        snprintf(suffix, sizeof suffix, ".trace.%s", ext);
    for (size_t i = 0; i < b->n; i++) {
        batch_file *f = &b->files[i];
        f->result = join(opt->output_dir, f->name, ".result.json");
        f->plot = join(opt->output_dir, f->name, ".svg");
        f->trace = ext ? join(opt->output_dir, f->name, suffix) : NULL;
        if (!f->result || !f->plot || (ext && !f->trace))
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    return make_dir(opt->output_dir, err);
}

static void fit_one(const batch *b, batch_file *f)
{
    cli_options o = *b->opt;
    o.input = f->input;
    o.label = f->input;
    o.result = f->result;
    o.plot = f->plot;
    o.trace_path = f->trace;
    /* without --output-dir, stdout is the summary's alone */
    if (!f->trace)
        o.trace = EM_TRACE_NONE;
    cli_fit_file(&o, &f->out);
    if (f->out.st == EM_OK)
        return;
    if (f->out.status == EXIT_INTERRUPTED)
        cli_say(&o, "interrupted before a fit to report");
    else
        cli_report(&f->out.err, f->input, 1);
}

/* Prints every finished row that no unfinished one precedes; the caller
 * holds b->lock. */
static void print_ready(batch *b)
{
    while (b->next_print < b->n && b->files[b->next_print].done) {
        const batch_file *f = &b->files[b->next_print++];
        cli_terminal_hold();
        cli_summary_row(stdout, b->summary, f->input, b->opt->model, &f->out);
        fflush(stdout);
        cli_terminal_release();
    }
}

/* Takes files off the list until it is empty or SIGINT stops the run. */
static void *worker(void *arg)
{
    batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        int stop = b->opt->stop && *b->opt->stop;
        size_t i = b->next_start < b->n && !stop ? b->next_start++ : b->n;
        pthread_mutex_unlock(&b->lock);
        if (i == b->n)
            return NULL;
        fit_one(b, &b->files[i]);
        pthread_mutex_lock(&b->lock);
        b->files[i].done = 1;
        print_ready(b);
        pthread_mutex_unlock(&b->lock);
    }
}

/* Runs the workers: the calling thread is one of them, so --jobs 1 (or a
 * system out of threads) still fits every file. */
static void run_workers(batch *b)
{
    size_t want = b->opt->jobs < b->n ? b->opt->jobs : b->n;
    pthread_t *tids = want > 1 ? calloc(want - 1, sizeof *tids) : NULL;
    size_t started = 0;
    while (tids && started < want - 1 &&
           pthread_create(&tids[started], NULL, worker, b) == 0)
        started++;
    worker(b);
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(tids);
}

static int batch_status(const batch *b)
{
    if (b->opt->stop && *b->opt->stop)
        return EXIT_INTERRUPTED;
    for (size_t i = 0; i < b->n; i++)
        if (b->files[i].out.status != EXIT_OK)
            return EXIT_SOME_FAILED;
    return EXIT_OK;
}

static void free_files(batch *b)
{
    for (size_t i = 0; b->files && i < b->n; i++) {
        free(b->files[i].name);
        free(b->files[i].trace);
        free(b->files[i].result);
        free(b->files[i].plot);
    }
    free(b->files);
}

int cli_run_batch(const cli_options *opt)
{
    batch b = {.opt = opt, .n = opt->ninputs};
    b.summary = opt->trace == EM_TRACE_TSV || opt->trace == EM_TRACE_JSONL
                    ? opt->trace
                    : EM_TRACE_CSV;
    em_error err;
    em_error_clear(&err);
    const em_model_type *type;
    em_status st = cli_find_model(opt, &type, &err);
    if (st == EM_OK && !(b.files = calloc(b.n, sizeof *b.files)))
        st = em_error_set(&err, EM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == EM_OK && i < b.n; i++)
        b.files[i].input = opt->inputs[i];
    if (st == EM_OK && opt->output_dir)
        st = name_outputs(&b, &err);
    if (st != EM_OK) {
        free_files(&b);
        return cli_report(&err, NULL, 0);
    }
    pthread_mutex_init(&b.lock, NULL);
    cli_summary_header(stdout, b.summary);
    fflush(stdout);
    run_workers(&b);
    pthread_mutex_destroy(&b.lock);
    int status = batch_status(&b);
    free_files(&b);
    return status;
}
