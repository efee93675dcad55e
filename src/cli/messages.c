/* What the command line says on stderr: notes, errors and other messages,
 * each written whole while the progress line is held off, so that lines
 * from fits running at once never mix. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char *display_name(const char *input)
{
    return strcmp(input, "-") == 0 ? "<stdin>" : input;
}

static void vsay(const cli_options *opt, const char *kind, const char *fmt,
                 va_list ap)
{
    cli_terminal_hold();
    fputs("emfit: ", stderr);
    if (opt->label)
        fprintf(stderr, "%s: ", display_name(opt->label));
    fputs(kind, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    cli_terminal_release();
}

void cli_say(const cli_options *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(opt, "", fmt, ap);
    va_end(ap);
}

void cli_note(const cli_options *opt, const char *fmt, ...)
{
    if (opt->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsay(opt, "note: ", fmt, ap);
    va_end(ap);
}

/* An error without a file of its own is prefixed with the input when it
 * concerns the data, or, in a batch, always: there every line must say
 * which file it is about. */
int cli_report(const em_error *err, const char *input, int batch)
{
    char buf[EM_ERROR_FILE_MAX + EM_ERROR_MSG_MAX + 64];
    em_error_format(err, buf, sizeof buf);
    int data_error = err->status == EM_ERR_DATA ||
                     err->status == EM_ERR_NUMERIC;
    cli_terminal_hold();
    if (input && (data_error || batch) && !err->file[0])
        fprintf(stderr, "emfit: %s: %s\n", display_name(input), buf);
    else
        fprintf(stderr, "emfit: %s\n", buf);
    if (err->status == EM_ERR_ARG && !batch)
        fputs("Try 'emfit --help' for more information.\n", stderr);
    cli_terminal_release();
    return cli_exit_status(err->status);
}
