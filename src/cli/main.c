/* emfit: the command-line front end.  It parses the options and hands one
 * input to fit.c, or several to batch.c; only the CLI prints and exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/mpi.h"

/* Set by SIGINT: the fit stops at the next iteration and writes what it
 * has, marked "interrupted"; a second SIGINT kills as usual. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void catch_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/* The progress line belongs on a terminal, and not where the trace is
 * already showing every iteration. */
static int wants_progress(const cli_options *opt)
{
    if (opt->quiet || !isatty(STDERR_FILENO))
        return 0;
    return opt->batch || opt->trace == EM_TRACE_NONE ||
           !isatty(STDOUT_FILENO);
}

static int run_single(const cli_options *opt)
{
    cli_outcome out;
    cli_fit_file(opt, &out);
    if (out.st == EM_OK)
        return out.status;
    if (out.status == EXIT_INTERRUPTED) {
        fputs("emfit: interrupted before a fit to report\n", stderr);
        return EXIT_INTERRUPTED;
    }
    return cli_report(&out.err, opt->input, 0);
}

/* A full disk or closed pipe must not pass as success. */
static int close_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        if (status == EXIT_OK) {
            fprintf(stderr, "emfit: error writing standard output: %s\n",
                    strerror(errno));
            return EXIT_IO;
        }
    }
    return status;
}

/* Under MPI every rank does the same work, but only rank 0 speaks: the
 * others' stdout and stderr go nowhere from the start (usage errors and
 * --help included), and they write no files. */
static void silence_other_ranks(void)
{
    if (cli_mpi_rank() == 0)
        return;
    if (!freopen("/dev/null", "w", stdout) ||
        !freopen("/dev/null", "w", stderr))
        return; /* nothing useful to say, and nowhere to say it */
}

static int run(int argc, char **argv)
{
    cli_options opt;
    em_error err;
    em_error_clear(&err);
    if (cli_parse(argc, argv, &opt, &err) != EM_OK)
        return cli_report(&err, NULL, 0);
    if (opt.help) {
        cli_usage(stdout);
        return close_stdout(EXIT_OK);
    }
    if (opt.version) {
        printf("emfit %s%s\n", em_version(),
               CLI_MPI_BUILD ? " (MPI)" : "");
        return close_stdout(EXIT_OK);
    }
    if (cli_mpi_size() > 1 && cli_check_mpi(&opt, &err) != EM_OK)
        return cli_report(&err, NULL, 0);
    if (cli_mpi_rank() != 0) {
        opt.result = NULL;
        opt.quiet = 1;
    }
    /* ranks on one machine share its cores, as --jobs do */
    if (!opt.threads_given && cli_mpi_local_size() > 1) {
        size_t each = opt.threads / (size_t)cli_mpi_local_size();
        opt.threads = each ? each : 1;
    }
    /* Ranks that stopped at different iterations would wait on each other
     * for ever: under MPI, Ctrl-C ends the job as usual. */
    if (cli_mpi_size() == 1) {
        opt.stop = &interrupted;
        catch_sigint();
    }
    cli_progress_enable(cli_mpi_size() == 1 && wants_progress(&opt));
    return close_stdout(opt.batch ? cli_run_batch(&opt) : run_single(&opt));
}

int main(int argc, char **argv)
{
    cli_mpi_start(&argc, &argv);
    silence_other_ranks();
    return cli_mpi_finish(run(argc, argv));
}
