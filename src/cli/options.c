#include "cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_INIT_PARAMS = 256,
    OPT_TOL,
    OPT_ESTEP,
    OPT_FILL,
    OPT_FIX,
    OPT_SIGMA,
    OPT_FREE_SIGMA,
    OPT_COV,
    OPT_REG,
    OPT_INIT,
    OPT_SEED,
    OPT_RESTARTS,
    OPT_CRITERION,
    OPT_LABELS,
    OPT_RESPONSIBILITIES,
    OPT_IMPUTE,
    OPT_TRACE_PARAMS,
    OPT_THREADS,
    OPT_OUTPUT_DIR,
    OPT_JOBS,
    OPT_DIGITS,
    OPT_PLOT,
    OPT_EMISSION,
    OPT_SEQUENCE_ID,
    OPT_DECODE,
    OPT_POSTERIORS,
    OPT_SE,
    OPT_ACCEL,
    OPT_STREAM,
    OPT_CACHE,
    OPT_SPREAD_STARTS,
};

static const struct option long_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"columns", required_argument, NULL, 'c'},
    {"delimiter", required_argument, NULL, 'd'},
    {"trace", required_argument, NULL, 't'},
    {"result", required_argument, NULL, 'r'},
    {"init-params", required_argument, NULL, OPT_INIT_PARAMS},
    {"start", required_argument, NULL, 's'},
    {"max-iter", required_argument, NULL, 'n'},
    {"tol", required_argument, NULL, OPT_TOL},
    {"estep", required_argument, NULL, OPT_ESTEP},
    {"fill", required_argument, NULL, OPT_FILL},
    {"fix", required_argument, NULL, OPT_FIX},
    {"sigma", required_argument, NULL, OPT_SIGMA},
    {"free-sigma", no_argument, NULL, OPT_FREE_SIGMA},
    {"components", required_argument, NULL, 'k'},
    {"cov", required_argument, NULL, OPT_COV},
    {"reg", required_argument, NULL, OPT_REG},
    {"init", required_argument, NULL, OPT_INIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"restarts", required_argument, NULL, OPT_RESTARTS},
    {"criterion", required_argument, NULL, OPT_CRITERION},
    {"verbose", no_argument, NULL, 'v'},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"responsibilities", required_argument, NULL, OPT_RESPONSIBILITIES},
    {"impute", required_argument, NULL, OPT_IMPUTE},
    {"trace-params", required_argument, NULL, OPT_TRACE_PARAMS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"output-dir", required_argument, NULL, OPT_OUTPUT_DIR},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"digits", required_argument, NULL, OPT_DIGITS},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"emission", required_argument, NULL, OPT_EMISSION},
    {"sequence-id", required_argument, NULL, OPT_SEQUENCE_ID},
    {"decode", required_argument, NULL, OPT_DECODE},
    {"posteriors", required_argument, NULL, OPT_POSTERIORS},
    {"se", no_argument, NULL, OPT_SE},
    {"accel", required_argument, NULL, OPT_ACCEL},
    {"stream", no_argument, NULL, OPT_STREAM},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"spread-starts", no_argument, NULL, OPT_SPREAD_STARTS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void cli_usage(FILE *f)
{
    fprintf(f,
"Usage: emfit --model NAME [OPTIONS] FILE...\n"
"Fit a statistical model to the CSV file FILE by the EM algorithm and print\n"
"the parameters and log-likelihood of every iteration.  FILE - is stdin.\n"
"Several files (or --output-dir) make a batch run: each file is fitted\n"
"alone, and stdout carries one summary row per file.\n"
"\n"
"Models:\n");
    for (const em_model_type *const *t = em_model_types(); *t; t++)
        fprintf(f, "  %-14s %s\n", (*t)->name, (*t)->summary);
    fprintf(f,
"\n"
"Input:\n"
"  -m, --model NAME       the model to fit (required)\n"
"  -c, --columns LIST     columns to fit, by header name or 1-based index,\n"
"                         comma-separated (default: every column)\n"
"  -d, --delimiter C      field separator: one character, or 'tab'\n"
"                         (default ',')\n"
"  Missing values are empty fields, NA, NaN or nan.\n"
"      --stream           keep the data out of memory: parse FILE once into\n"
"                         a binary cache and map it, so each iteration\n"
"                         reads the values again from there (bvn, mvn,\n"
"                         gmm, three-coin, mixed-normal); same fit\n"
"      --cache PATH       --stream with the cache kept at PATH; a later run\n"
"                         on the same unchanged FILE reuses it unparsed\n"
"                         (default: a temporary file, removed at exit)\n"
"\n"
"Fitting:\n"
"  -n, --max-iter N       at most N EM iterations (default %d); 0 only\n"
"                         evaluates the starting values\n"
"      --tol X            stop when the log-likelihood changes by at most\n"
"                         X * max(1, |loglik|) (default %g)\n"
"  -s, --start LIST       starting values, e.g. mu1=0,rho=0.5; the rest come\n"
"                         from the data\n"
"      --init-params PATH start from the \"params\" of a --result file\n"
"                         (--start, if also given, overrides it)\n"
"      --threads N        threads for the E-step (default: the cores\n"
"                         available, shared out among --jobs); the fit is\n"
"                         the same for any N\n"
"      --fix LIST         hold these parameters at their starting values,\n"
"                         e.g. --fix pi (three-coin, mixed-normal, hmm)\n"
"      --spread-starts    under mpirun: every rank reads all of FILE and\n"
"                         fits its share of the starts (--restarts, -k A-B)\n"
"                         instead of a share of the rows of every fit\n"
"      --accel none|squarem\n"
"                         squarem: SQUAREM-accelerated EM, fewer E-steps to\n"
"                         the same fit; the trace gains an esteps column\n"
"                         (default none)\n"
"      --se               standard errors of the estimates, from the observed\n"
"                         information, in the result and the closing summary\n"
"\n",
            EM_DEFAULT_MAX_ITER, EM_DEFAULT_TOL);
    fputs(
"bvn and mvn models:\n"
"      --estep full|mean  full: true EM (default); mean: the document's\n"
"                         procedure, filling missing values with their\n"
"                         conditional means only (not maximum likelihood)\n"
"      --fill X           start from the fit to the data with every missing\n"
"                         value set to X (the document uses 0)\n"
"\n"
"three-coin model: one or more 0/1 columns, the tosses of one row made with\n"
"the same coin; parameters pi, p, q.\n"
"\n"
"gmm model: the selected columns; parameters w1.., mean1_1.., and\n"
"cov1_1_1.. (full), var1_1.. (diag), var1.. (spherical) or cov_1_1.. (tied)\n"
"  -k, --components K     number of components (default 1); A-B fits each\n"
"                         K from A to B and keeps the best by --criterion\n"
"      --cov TYPE         full (default), diag, spherical or tied\n"
"      --reg X            added to every covariance diagonal (default 1e-6)\n"
"      --init METHOD      kmeans++ (default) or random starting centres, or\n"
"                         params (the start of --init-params)\n"
"      --seed S           seed of the random start (default 1)\n"
"      --restarts R       R starts (seeds S, S+1, ...), keep the best\n"
"                         log-likelihood (default 1)\n"
"      --criterion C      bic (default) or aic, to choose K in a range\n"
"\n"
"mixed-normal model: one column; parameters mu, p (the weight of N(-mu))\n"
"      --sigma X          the known common standard deviation (default 1)\n"
"      --free-sigma       estimate sigma too (parameter sigma)\n"
"\n", f);
    fputs(
"hmm model: K hidden states (-k, required) over the rows in order;\n"
"parameters start_i, trans_i_j, then the emission's: as gmm names them\n"
"(gaussian) or emit_i_SYMBOL (categorical).  -k, --cov, --reg, --init,\n"
"--seed and --restarts work as for gmm; --fix start,trans holds those.\n"
"      --emission TYPE    gaussian (default): the selected columns, NaN\n"
"                         coordinates marginalised; categorical: one\n"
"                         column of symbols (any text, integers too)\n"
"      --sequence-id COL  a new sequence starts at each change of COL's\n"
"                         value (any text); COL is not an emission\n"
"      --decode PATH      CSV of each row's state (from 1) on the most\n"
"                         likely path (Viterbi)\n"
"      --posteriors PATH  CSV of each row's state probabilities p1..pK\n"
"  With --max-iter 0 and --init-params the given model is only evaluated.\n"
"\n", f);
    fputs(
"Output:\n"
"  -t, --trace FORMAT     per-iteration trace on stdout: table (default),\n"
"                         csv, tsv, jsonl or none\n"
"      --trace-params LIST\n"
"                         trace only these parameters; NAME* matches a\n"
"                         prefix, e.g. w*,mean1_*\n"
"  -r, --result PATH      write the final fit as JSON to PATH (- = stdout,\n"
"                         which needs --trace none)\n"
"      --labels PATH      CSV of each row's most likely component (gmm)\n"
"      --responsibilities PATH\n"
"                         CSV of each row's component probabilities (gmm)\n"
"      --impute PATH      the data with missing values replaced by their\n"
"                         conditional expectations (gmm, bvn, mvn)\n"
"      --plot PATH        an SVG picture of the fit: log-likelihood and\n"
"                         parameter traces, and the data with the fit\n"
"                         (- = stdout, which needs --trace none)\n"
"      --digits N         decimals of the table trace, 1 to 17 (default 6);\n"
"                         csv, tsv, jsonl and JSON always round-trip\n"
"  -q, --quiet            no notes or progress line on stderr, only errors\n"
"  -v, --verbose          also each start's final log-likelihood on stderr\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"  On a terminal, a fit running longer than a second shows its progress on\n"
"  one line of stderr (not when the trace is on that terminal).\n"
"\n", f);
    fputs(
"Batch runs (several FILEs, or --output-dir):\n"
"      --output-dir DIR   write each FILE's outputs under DIR, named after\n"
"                         it: NAME.trace.EXT (txt, csv, tsv or jsonl, as\n"
"                         --trace), NAME.result.json and NAME.svg\n"
"      --jobs N           fit up to N files at once (default 1); the\n"
"                         output is the same for any N\n"
"  stdout carries a header and one row per FILE, in the order given:\n"
"  file,model,n,k,loglik,iterations,converged,bic,status (status: the\n"
"  exit status of that file alone), as CSV, or TSV or JSON Lines with\n"
"  --trace tsv or jsonl.  --result, --labels, --responsibilities, --impute\n"
"  and --plot do not apply: --output-dir names the outputs.\n"
"\n"
"Exit status:\n"
"  0  the fit finished (converged, or stopped at --max-iter with a note)\n"
"  2  usage error: bad option, option value or column selection\n"
"  3  malformed input: data or parameter file (FILE:LINE:COL in the message)\n"
"  4  a file could not be opened, read or written\n"
"  5  the data cannot be fitted (degenerate data or numerical failure)\n"
"  6  internal error: the log-likelihood decreased (please report it)\n"
"  7  out of memory\n"
"  8  batch run: at least one file failed (its row gives its status)\n"
"  130 interrupted (SIGINT): the result written is partial and says so\n"
"\n"
"Examples:\n"
"  emfit --model bvn data/efron_hastie_bvn.csv\n"
"  emfit --model bvn --trace none --result - data/efron_hastie_bvn.csv\n"
"  emfit --model bvn --estep mean --fill 0 --tol 0 --max-iter 19 \\\n"
"        data/efron_hastie_bvn.csv     # document 000's table\n"
"  emfit --model three-coin --start pi=0.4,p=0.6,q=0.7 data/three_coin_li.csv\n"
"  emfit --model gmm -k 1-6 --restarts 5 --trace none data/faithful.csv\n"
"  emfit --model gmm -k 2 --plot fit.svg data/faithful.csv\n"
"  emfit --model gmm -k 3 --jobs 2 --output-dir fits data/*.csv\n",
          f);
}

int cli_exit_status(em_status st)
{
    switch (st) {
    case EM_OK: return EXIT_OK;
    case EM_ERR_ARG: return EXIT_USAGE;
    case EM_ERR_PARSE: return EXIT_INPUT;
    case EM_ERR_IO: return EXIT_IO;
    case EM_ERR_DATA:
    case EM_ERR_NUMERIC: return EXIT_FIT;
    case EM_ERR_BUG: return EXIT_INTERNAL;
    case EM_ERR_NOMEM: return EXIT_NOMEM;
    }
    return EXIT_INTERNAL;
}

static em_status parse_count(const char *opt, const char *s, size_t *out,
                             em_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *s == '+' || *end != '\0' || errno ||
        v > 1000000000ULL)
        return em_error_set(err, EM_ERR_ARG,
                            "%s needs a whole number from 0 to 1000000000, "
                            "not \"%s\"",
                            opt, s);
    *out = (size_t)v;
    return EM_OK;
}

static em_status parse_real(const char *opt, const char *s, double *out,
                            em_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
        return em_error_set(err, EM_ERR_ARG,
                            "%s needs a finite number, not \"%s\"", opt, s);
    *out = v;
    return EM_OK;
}

static em_status parse_delimiter(const char *s, char *out, em_error *err)
{
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0)
        *out = '\t';
    else if (strlen(s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r')
        *out = s[0];
    else
        return em_error_set(err, EM_ERR_ARG,
                            "--delimiter needs one character (not a quote or "
                            "line break) or 'tab', not \"%s\"",
                            s);
    return EM_OK;
}

/* The cores available, for the default of --threads. */
static size_t default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > EM_MAX_THREADS ? EM_MAX_THREADS : (size_t)n;
}

/* -k K or -k A-B, 1 <= A <= B. */
static em_status parse_range(const char *arg, cli_options *opt, em_error *err)
{
    char buf[64];
    const char *dash = strchr(arg, '-');
    size_t a = 0, b = 0;
    if (!dash || dash == arg || strlen(arg) >= sizeof buf) {
        if (parse_count("-k", arg, &a, err) != EM_OK)
            return EM_ERR_ARG;
        b = a;
    } else {
        memcpy(buf, arg, (size_t)(dash - arg));
        buf[dash - arg] = '\0';
        if (parse_count("-k", buf, &a, err) != EM_OK ||
            parse_count("-k", dash + 1, &b, err) != EM_OK)
            return EM_ERR_ARG;
    }
    if (a == 0 || b < a || b > 100000)
        return em_error_set(err, EM_ERR_ARG,
                            "-k must be a number of components from 1, or a "
                            "range A-B with 1 <= A <= B, not \"%s\"",
                            arg);
    opt->k_min = a, opt->k_max = b, opt->config.k = a;
    return EM_OK;
}

static void note_model_option(cli_options *opt, const char *name)
{
    size_t max = sizeof opt->model_options / sizeof opt->model_options[0];
    for (size_t i = 0; i < opt->nmodel_options; i++)
        if (strcmp(opt->model_options[i], name) == 0)
            return;
    if (opt->nmodel_options < max)
        opt->model_options[opt->nmodel_options++] = name;
}

/* Handles one option returned by getopt_long. */
static em_status apply_option(int c, const char *arg, cli_options *opt,
                              em_error *err)
{
    switch (c) {
    case 'm': opt->model = arg; return EM_OK;
    case 'c': opt->columns = arg; return EM_OK;
    case 'd': return parse_delimiter(arg, &opt->delimiter, err);
    case 't':
        if (!em_trace_format_parse(arg, &opt->trace))
            return em_error_set(err, EM_ERR_ARG,
                                "--trace must be table, csv, tsv, jsonl or "
                                "none, not \"%s\"",
                                arg);
        return EM_OK;
    case 'r': opt->result = arg; return EM_OK;
    case OPT_INIT_PARAMS: opt->init_params = arg; return EM_OK;
    case 's': opt->start = arg; return EM_OK;
    case 'n': return parse_count("--max-iter", arg, &opt->max_iter, err);
    case OPT_TOL:
        if (parse_real("--tol", arg, &opt->tol, err) != EM_OK)
            return EM_ERR_ARG;
        if (opt->tol < 0)
            return em_error_set(err, EM_ERR_ARG, "--tol must be >= 0");
        return EM_OK;
    case OPT_ESTEP:
        if (strcmp(arg, "full") != 0 && strcmp(arg, "mean") != 0)
            return em_error_set(err, EM_ERR_ARG,
                                "--estep must be full or mean, not \"%s\"",
                                arg);
        opt->config.estep = arg;
        note_model_option(opt, "estep");
        return EM_OK;
    case OPT_FILL:
        note_model_option(opt, "fill");
        opt->config.has_fill = 1;
        return parse_real("--fill", arg, &opt->config.fill, err);
    case OPT_FIX: opt->fix = arg; return EM_OK;
    case OPT_SIGMA:
        note_model_option(opt, "sigma");
        opt->config.has_sigma = 1;
        if (parse_real("--sigma", arg, &opt->config.sigma, err) != EM_OK)
            return EM_ERR_ARG;
        if (!(opt->config.sigma > 0))
            return em_error_set(err, EM_ERR_ARG, "--sigma must be > 0");
        return EM_OK;
    case OPT_FREE_SIGMA:
        note_model_option(opt, "free-sigma");
        opt->config.free_sigma = 1;
        return EM_OK;
    case 'k':
        note_model_option(opt, "components");
        return parse_range(arg, opt, err);
    case OPT_COV:
        note_model_option(opt, "cov");
        opt->config.cov = arg;
        return EM_OK;
    case OPT_REG:
        note_model_option(opt, "reg");
        opt->config.has_reg = 1;
        if (parse_real("--reg", arg, &opt->config.reg, err) != EM_OK)
            return EM_ERR_ARG;
        if (opt->config.reg < 0)
            return em_error_set(err, EM_ERR_ARG, "--reg must be >= 0");
        return EM_OK;
    case OPT_INIT:
        note_model_option(opt, "init");
        /* "params" names the start given by --init-params */
        opt->init_from_params = strcmp(arg, "params") == 0;
        opt->config.init = opt->init_from_params ? NULL : arg;
        return EM_OK;
    case OPT_SEED: {
        size_t seed = 0;
        if (parse_count("--seed", arg, &seed, err) != EM_OK)
            return EM_ERR_ARG;
        opt->seed = seed;
        return EM_OK;
    }
    case OPT_RESTARTS:
        note_model_option(opt, "restarts");
        if (parse_count("--restarts", arg, &opt->restarts, err) != EM_OK)
            return EM_ERR_ARG;
        if (opt->restarts == 0)
            return em_error_set(err, EM_ERR_ARG,
                                "--restarts must be at least 1");
        return EM_OK;
    case OPT_CRITERION:
        note_model_option(opt, "criterion");
        if (strcmp(arg, "bic") == 0)
            opt->criterion = EM_CRIT_BIC;
        else if (strcmp(arg, "aic") == 0)
            opt->criterion = EM_CRIT_AIC;
        else
            return em_error_set(err, EM_ERR_ARG,
                                "--criterion must be bic or aic, not \"%s\"",
                                arg);
        return EM_OK;
    case 'v': opt->verbose = 1; return EM_OK;
    case OPT_LABELS: opt->labels = arg; return EM_OK;
    case OPT_RESPONSIBILITIES: opt->responsibilities = arg; return EM_OK;
    case OPT_IMPUTE: opt->impute = arg; return EM_OK;
    case OPT_TRACE_PARAMS: opt->trace_params = arg; return EM_OK;
    case OPT_THREADS:
        if (parse_count("--threads", arg, &opt->threads, err) != EM_OK)
            return EM_ERR_ARG;
        if (opt->threads < 1 || opt->threads > EM_MAX_THREADS)
            return em_error_set(err, EM_ERR_ARG,
                                "--threads must be from 1 to %d",
                                EM_MAX_THREADS);
        opt->threads_given = 1;
        return EM_OK;
    case OPT_OUTPUT_DIR: opt->output_dir = arg; return EM_OK;
    case OPT_JOBS:
        if (parse_count("--jobs", arg, &opt->jobs, err) != EM_OK)
            return EM_ERR_ARG;
        if (opt->jobs < 1 || opt->jobs > EM_MAX_THREADS)
            return em_error_set(err, EM_ERR_ARG, "--jobs must be from 1 to %d",
                                EM_MAX_THREADS);
        return EM_OK;
    case OPT_DIGITS: {
        size_t d = 0;
        if (parse_count("--digits", arg, &d, err) != EM_OK || d < 1 ||
            d > EM_TABLE_DIGITS_MAX)
            return em_error_set(err, EM_ERR_ARG,
                                "--digits must be from 1 to %d, not \"%s\"",
                                EM_TABLE_DIGITS_MAX, arg);
        opt->digits = (int)d;
        return EM_OK;
    }
    case OPT_PLOT: opt->plot = arg; return EM_OK;
    case OPT_EMISSION:
        if (strcmp(arg, "gaussian") != 0 && strcmp(arg, "categorical") != 0)
            return em_error_set(err, EM_ERR_ARG,
                                "--emission must be gaussian or categorical, "
                                "not \"%s\"",
                                arg);
        note_model_option(opt, "emission");
        opt->config.emission = arg;
        return EM_OK;
    case OPT_SEQUENCE_ID:
        note_model_option(opt, "sequence-id");
        opt->sequence_id = arg;
        return EM_OK;
    case OPT_DECODE:
        note_model_option(opt, "decode");
        opt->decode = arg;
        return EM_OK;
    case OPT_POSTERIORS:
        note_model_option(opt, "posteriors");
        opt->posteriors = arg;
        return EM_OK;
    case OPT_SE: opt->se = 1; return EM_OK;
    case OPT_ACCEL:
        if (!em_accel_parse(arg, &opt->accel))
            return em_error_set(err, EM_ERR_ARG,
                                "--accel must be none or squarem, not \"%s\"",
                                arg);
        return EM_OK;
    case OPT_STREAM: opt->stream = 1; return EM_OK;
    case OPT_SPREAD_STARTS: opt->spread_starts = 1; return EM_OK;
    case OPT_CACHE:
        opt->stream = 1;
        opt->cache = arg;
        return EM_OK;
    case 'q': opt->quiet = 1; return EM_OK;
    case 'h': opt->help = 1; return EM_OK;
    case 'V': opt->version = 1; return EM_OK;
    }
    return em_error_set(err, EM_ERR_ARG, "unhandled option");
}

/* The message for an option getopt_long rejected. */
static em_status bad_option(int c, char **argv, em_error *err)
{
    const char *word = argv[optind - 1];
    if (c == ':')
        return em_error_set(err, EM_ERR_ARG, "option %s needs a value", word);
    if (optopt && optopt < 256)
        return em_error_set(err, EM_ERR_ARG, "unknown option -%c", optopt);
    return em_error_set(err, EM_ERR_ARG, "unknown option %s", word);
}

/* The options that name one output file: --result, then those that
 * need every row in one place (per-row outputs and the plot). */
enum { NOUTPUTS = 7, FIRST_ROW_OUTPUT = 1 };

static void named_outputs(const cli_options *opt, const char **paths,
                          const char **names)
{
    const char *p[NOUTPUTS] = {opt->result, opt->labels,
                               opt->responsibilities, opt->impute, opt->plot,
                               opt->decode, opt->posteriors};
    static const char *const n[NOUTPUTS] = {
        "--result", "--labels", "--responsibilities", "--impute", "--plot",
        "--decode", "--posteriors"};
    memcpy(paths, p, sizeof p);
    memcpy(names, n, sizeof n);
}

/* At most one output may go to standard output ("-"). */
static em_status check_stdout_users(const cli_options *opt, em_error *err)
{
    const char *paths[NOUTPUTS], *names[NOUTPUTS];
    named_outputs(opt, paths, names);
    const char *first = opt->trace != EM_TRACE_NONE ? "the trace" : NULL;
    for (size_t i = 0; i < NOUTPUTS; i++) {
        if (!paths[i] || strcmp(paths[i], "-") != 0)
            continue;
        if (first)
            return em_error_set(err, EM_ERR_ARG,
                                "%s - writes to standard output, where %s "
                                "goes too%s",
                                names[i], first,
                                opt->trace != EM_TRACE_NONE
                                    ? ": add --trace none"
                                    : "");
        first = names[i];
    }
    return EM_OK;
}

/* A batch names its outputs after the inputs, so options that name one
 * output file, and standard input, have no place in it. */
static em_status check_batch(const cli_options *opt, em_error *err)
{
    const char *paths[NOUTPUTS], *names[NOUTPUTS];
    named_outputs(opt, paths, names);
    for (size_t i = 0; i < NOUTPUTS; i++)
        if (paths[i])
            return em_error_set(err, EM_ERR_ARG,
                                "%s names one file, but this is a batch run "
                                "(several inputs or --output-dir): "
                                "--output-dir DIR names each input's trace, "
                                "result and plot",
                                names[i]);
    if (opt->cache)
        return em_error_set(err, EM_ERR_ARG,
                            "--cache names one file, but this is a batch "
                            "run (several inputs or --output-dir): use "
                            "--stream, which gives each input a temporary "
                            "cache");
    for (size_t i = 0; i < opt->ninputs; i++)
        if (strcmp(opt->inputs[i], "-") == 0)
            return em_error_set(err, EM_ERR_ARG,
                                "standard input (-) cannot be part of a batch "
                                "run (several inputs or --output-dir)");
    return EM_OK;
}

em_status cli_check_mpi(const cli_options *opt, em_error *err)
{
    const char *paths[NOUTPUTS], *names[NOUTPUTS];
    named_outputs(opt, paths, names);
    for (size_t i = FIRST_ROW_OUTPUT; i < NOUTPUTS && !opt->spread_starts;
         i++)
        if (paths[i])
            return em_error_set(err, EM_ERR_ARG,
                                "%s needs every row in one process: run it "
                                "without mpirun, or with -np 1",
                                names[i]);
    if (opt->batch)
        return em_error_set(err, EM_ERR_ARG,
                            "under mpirun, give one input file (a batch run "
                            "is not split across processes)");
    if (strcmp(opt->input, "-") == 0)
        return em_error_set(err, EM_ERR_ARG,
                            "under mpirun the input must be a file that "
                            "every process can read, not standard input");
    if (opt->stream && !opt->spread_starts)
        return em_error_set(err, EM_ERR_ARG,
                            "--stream and --cache are for one process: "
                            "under mpirun each process holds only its part "
                            "of the rows (unless --spread-starts)");
    return EM_OK;
}

/* Fits running at once share the cores unless --threads says otherwise. */
static void share_threads(cli_options *opt)
{
    size_t at_once = opt->jobs < opt->ninputs ? opt->jobs : opt->ninputs;
    if (opt->threads_given || at_once <= 1)
        return;
    size_t each = default_threads() / at_once;
    opt->threads = each ? each : 1;
}

em_status cli_parse(int argc, char **argv, cli_options *opt, em_error *err)
{
    *opt = (cli_options){.trace = EM_TRACE_TABLE,
                         .max_iter = EM_DEFAULT_MAX_ITER,
                         .seed = 1,
                         .restarts = 1,
                         .threads = default_threads(),
                         .jobs = 1,
                         .digits = EM_TABLE_DIGITS,
                         .tol = EM_DEFAULT_TOL};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":m:c:d:t:r:s:n:k:qvhV", long_options,
                            NULL)) != -1) {
        if (c == '?' || c == ':')
            return bad_option(c, argv, err);
        if (apply_option(c, optarg, opt, err) != EM_OK)
            return EM_ERR_ARG;
    }
    if (opt->help || opt->version)
        return EM_OK;
    if (optind == argc)
        return em_error_set(err, EM_ERR_ARG,
                            "no input file (give a CSV file, or - for "
                            "standard input)");
    opt->inputs = (const char *const *)argv + optind;
    opt->ninputs = (size_t)(argc - optind);
    opt->input = opt->inputs[0];
    opt->batch = opt->ninputs > 1 || opt->output_dir;
    share_threads(opt);
    if (!opt->model)
        return em_error_set(err, EM_ERR_ARG,
                            "no model: choose one with --model");
    if (opt->init_from_params && !opt->init_params)
        return em_error_set(err, EM_ERR_ARG,
                            "--init params needs --init-params FILE");
    if ((opt->restarts > 1 || opt->k_min < opt->k_max) &&
        (opt->start || opt->init_params))
        return em_error_set(err, EM_ERR_ARG,
                            "--restarts and a range for -k draw their own "
                            "starts: leave out --start and --init-params");
    if (opt->batch)
        return check_batch(opt, err);
    return check_stdout_users(opt, err);
}
