/* The binary cache behind streaming fits: see include/emfit/cache.h. */
#include "emfit/cache.h"
#include "core/scratch.h"
#include "core/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "EMFITC02"
#define BYTE_ORDER_MARK UINT64_C(0x0102030405060708)
#define PAGE 4096
#define RUN_BYTES ((size_t)4 << 20) /* values parsed before each write */

typedef struct cache_head {
    char magic[8];
    uint64_t order;      /* BYTE_ORDER_MARK as this machine stores it */
    uint64_t nrows, ncols;
    uint64_t values_off; /* a multiple of PAGE */
    uint64_t lines_off;  /* 0: row i is on line first_line + i */
    int64_t first_line;
    uint64_t text_len;   /* the NUL-terminated texts after this header */
    /* the input the cache was made from */
    uint64_t src_dev, src_ino, src_size;
    int64_t src_mtime_s, src_mtime_ns;
    uint64_t check; /* FNV-1a of this header (check 0) and the texts */
} cache_head;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* The check of a header and its texts: a damaged header or column name
 * makes the cache one to rebuild, not one to trust. */
static uint64_t check_of(const cache_head *h, const char *text)
{
    cache_head c = *h;
    c.check = 0;
    uint64_t v = fnv1a(UINT64_C(0xcbf29ce484222325), &c, sizeof c);
    return fnv1a(v, text, (size_t)h->text_len);
}

/* What identifies the input and the reading of it. */
typedef struct source_id {
    int is_stdin;
    struct stat st;
    char delim;
    const char *columns; /* "" for all */
} source_id;

static em_status cache_error(em_error *err, const char *path, const char *what)
{
    return em_error_at(err, EM_ERR_IO, path, 0, 0, "cannot %s the cache: %s",
                       what, strerror(errno));
}

static int same_source(const cache_head *h, const source_id *id)
{
    return !id->is_stdin && h->src_dev == (uint64_t)id->st.st_dev &&
           h->src_ino == (uint64_t)id->st.st_ino &&
           h->src_size == (uint64_t)id->st.st_size &&
           h->src_mtime_s == (int64_t)id->st.st_mtim.tv_sec &&
           h->src_mtime_ns == (int64_t)id->st.st_mtim.tv_nsec;
}

/* ---- mapping a finished cache ------------------------------------------ */

/* The bytes a cache with this header must have, or 0 if they overflow. */
static uint64_t expected_size(const cache_head *h)
{
    if (h->ncols == 0 || h->nrows > UINT64_MAX / 8 / h->ncols / 2)
        return 0;
    uint64_t values = h->nrows * h->ncols * 8;
    uint64_t end = h->values_off + values;
    if (end < values || (h->lines_off && h->lines_off != end))
        return 0;
    return h->lines_off ? end + h->nrows * 8 : end;
}

/* Names from the texts after the header: delimiter, columns, then ncols
 * names.  NULL when they do not parse. */
static char **read_names(const char *text, size_t len, size_t ncols)
{
    if (len < 2)
        return NULL;
    const char *p = text + 1, *end = text + len;
    const char *z = memchr(p, '\0', (size_t)(end - p));
    if (!z)
        return NULL;
    p = z + 1;
    char **names = calloc(ncols, sizeof *names);
    for (size_t j = 0; names && j < ncols; j++) {
        z = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
        if (!z || !(names[j] = em_strdup(p))) {
            for (size_t i = 0; i < j; i++)
                free(names[i]);
            free(names);
            return NULL;
        }
        p = z + 1;
    }
    return names;
}

/* Maps the cache open on fd (whose header is h) as out's values. */
static em_status map_table(int fd, const char *path, const cache_head *h,
                           const char *source, em_table *out, em_error *err)
{
    size_t len = (size_t)expected_size(h);
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return cache_error(err, path, "map");
    const char *text = (const char *)map + sizeof *h;
    *out = (em_table){.nrows = (size_t)h->nrows,
                      .ncols = (size_t)h->ncols,
                      .first_line = (long)h->first_line,
                      .map = map,
                      .map_len = len};
    out->values = (double *)((char *)map + h->values_off);
    if (h->lines_off)
        out->lines = (long *)((char *)map + h->lines_off);
    out->names = read_names(text, (size_t)h->text_len, out->ncols);
    out->source = em_strdup(source);
    if (!out->names || !out->source) {
        em_table_free(out);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    /* the E-step walks the rows in order, pass after pass */
    posix_madvise(map, len, POSIX_MADV_SEQUENTIAL);
    return EM_OK;
}

/* The texts a cache of id stores before its names. */
static int same_key(const char *text, size_t len, const source_id *id)
{
    size_t cl = strlen(id->columns);
    return len >= cl + 2 && text[0] == id->delim &&
           memcmp(text + 1, id->columns, cl + 1) == 0;
}

/* Maps the cache at path when it was made from this input this way;
 * *found is 0 (and nothing is mapped) when it is missing or stale. */
static em_status try_reuse(const char *path, const source_id *id,
                           const char *source, em_table *out, int *found,
                           em_error *err)
{
    *found = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return EM_OK;
    cache_head h;
    struct stat st;
    char *text = NULL;
    /* a user's own file given by mistake is left alone */
    ssize_t got = pread(fd, &h, sizeof h, 0);
    if (got > 0 && (got < 8 || memcmp(h.magic, CACHE_MAGIC, 8) != 0)) {
        close(fd);
        return em_error_at(err, EM_ERR_ARG, path, 0, 0,
                           "exists and is not an emfit cache: not "
                           "overwriting it");
    }
    int ok = !id->is_stdin && fstat(fd, &st) == 0 &&
             got == (ssize_t)sizeof h &&
             h.order == BYTE_ORDER_MARK && same_source(&h, id) &&
             h.text_len < PAGE * 64 && h.values_off >= sizeof h + h.text_len &&
             h.values_off % PAGE == 0 && expected_size(&h) != 0 &&
             expected_size(&h) == (uint64_t)st.st_size;
    if (ok)
        ok = (text = malloc((size_t)h.text_len + 1)) != NULL &&
             pread(fd, text, (size_t)h.text_len, sizeof h) ==
                 (ssize_t)h.text_len &&
             check_of(&h, text) == h.check &&
             same_key(text, (size_t)h.text_len, id);
    free(text);
    em_status st_map = EM_OK;
    if (ok) {
        st_map = map_table(fd, path, &h, source, out, err);
        *found = st_map == EM_OK;
    }
    close(fd);
    return st_map;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct writer {
    FILE *f;
    const char *path; /* for messages */
    const source_id *id;
    cache_head h;
    FILE *lines; /* once a row is off the consecutive lines: all lines */
    char *text;  /* the texts after the header, for the check */
    int failed;  /* errno of the first failed write, or 0 */
} writer;

static void put(writer *w, FILE *f, const void *p, size_t size, size_t n)
{
    if (!w->failed && fwrite(p, size, n, f) != n)
        w->failed = errno ? errno : EIO;
}

/* The header area: a provisional header, the texts, zeros to a page. */
static void begin(writer *w, const em_table *t)
{
    w->h.ncols = t->ncols;
    w->h.first_line = em_table_line(t, 0);
    size_t text = 2 + strlen(w->id->columns);
    for (size_t j = 0; j < t->ncols; j++)
        text += strlen(t->names[j]) + 1;
    w->h.text_len = text;
    w->h.values_off = (sizeof w->h + text + PAGE - 1) / PAGE * PAGE;
    if (!(w->text = malloc(text))) {
        w->failed = ENOMEM;
        return;
    }
    char *p = w->text;
    *p++ = w->id->delim;
    p = memcpy(p, w->id->columns, strlen(w->id->columns) + 1);
    p += strlen(w->id->columns) + 1;
    for (size_t j = 0; j < t->ncols; j++) {
        memcpy(p, t->names[j], strlen(t->names[j]) + 1);
        p += strlen(t->names[j]) + 1;
    }
    put(w, w->f, &w->h, sizeof w->h, 1);
    put(w, w->f, w->text, 1, text);
    static const char zeros[PAGE];
    put(w, w->f, zeros, 1, (size_t)(w->h.values_off - sizeof w->h - text));
}

/* Records the lines of a run; the first row off the consecutive lines
 * starts the file of all lines, those before it written out. */
static void note_lines(writer *w, const em_table *t)
{
    for (size_t i = 0; i < t->nrows; i++) {
        int64_t line = em_table_line(t, i);
        uint64_t row = w->h.nrows + i;
        if (!w->lines && line == w->h.first_line + (int64_t)row)
            continue;
        if (!w->lines) {
            if (!(w->lines = tmpfile())) {
                w->failed = errno ? errno : EIO;
                return;
            }
            for (uint64_t r = 0; r < row; r++) {
                int64_t l = w->h.first_line + (int64_t)r;
                put(w, w->lines, &l, sizeof l, 1);
            }
        }
        put(w, w->lines, &line, sizeof line, 1);
    }
}

static em_status write_run(void *ctx, const em_table *t, em_error *err)
{
    writer *w = ctx;
    if (w->h.nrows == 0)
        begin(w, t);
    put(w, w->f, t->values, sizeof(double), t->nrows * t->ncols);
    note_lines(w, t);
    w->h.nrows += t->nrows;
    if (w->failed) {
        errno = w->failed;
        return cache_error(err, w->path, "write");
    }
    return EM_OK;
}

/* Appends the lines, if any, and the final header. */
static em_status finish(writer *w, em_error *err)
{
    if (w->lines) {
        w->h.lines_off = w->h.values_off + w->h.nrows * w->h.ncols * 8;
        char buf[1 << 16];
        size_t n;
        rewind(w->lines);
        while (!w->failed && (n = fread(buf, 1, sizeof buf, w->lines)) > 0)
            put(w, w->f, buf, 1, n);
        if (ferror(w->lines) && !w->failed)
            w->failed = EIO;
    }
    if (!w->failed && (fflush(w->f) != 0 || fseek(w->f, 0, SEEK_SET) != 0))
        w->failed = errno ? errno : EIO;
    if (!w->failed)
        w->h.check = check_of(&w->h, w->text);
    put(w, w->f, &w->h, sizeof w->h, 1);
    if (!w->failed && fflush(w->f) != 0)
        w->failed = errno ? errno : EIO;
    if (w->failed) {
        errno = w->failed;
        return cache_error(err, w->path, "write");
    }
    return EM_OK;
}

/* Parses input into the open file f; on success *h is its final header
 * and *head the table's names and source (no rows). */
static em_status build(FILE *f, const char *path, const char *input,
                       const em_csv_options *csv, const source_id *id,
                       cache_head *h, em_table *head, em_error *err)
{
    writer w = {.f = f, .path = path, .id = id};
    memcpy(w.h.magic, CACHE_MAGIC, 8);
    w.h.order = BYTE_ORDER_MARK;
    if (!id->is_stdin) {
        w.h.src_dev = (uint64_t)id->st.st_dev;
        w.h.src_ino = (uint64_t)id->st.st_ino;
        w.h.src_size = (uint64_t)id->st.st_size;
        w.h.src_mtime_s = (int64_t)id->st.st_mtim.tv_sec;
        w.h.src_mtime_ns = (int64_t)id->st.st_mtim.tv_nsec;
    }
    em_status st = em_csv_read_batches(input, csv, RUN_BYTES, write_run, &w,
                                       head, err);
    if (st == EM_OK)
        st = finish(&w, err);
    if (w.lines)
        fclose(w.lines);
    free(w.text);
    *h = w.h;
    return st;
}

/* A new file for the cache: at path's temporary name *tmp (to be renamed)
 * or, without a path, an unlinked file in $TMPDIR. */
static em_status create_file(const char *path, char **tmp, FILE **f,
                             em_error *err)
{
    size_t n = path ? strlen(path) + 32 : 4096;
    char *name = malloc(n);
    if (!name)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    int fd;
    if (path) {
        snprintf(name, n, "%s.%ld.tmp", path, (long)getpid());
        fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
    } else {
        fd = em_temp_fd("emfit-cache", name);
    }
    if (fd < 0 || !(*f = fdopen(fd, "w+b"))) {
        em_status st = path ? cache_error(err, path, "create")
                            : em_error_at(err, EM_ERR_IO, em_temp_dir(), 0, 0,
                                          "cannot create a temporary cache "
                                          "here ($TMPDIR, else /tmp): %s",
                                          strerror(errno));
        if (fd >= 0)
            close(fd);
        if (path && fd >= 0)
            unlink(name);
        free(name);
        return st;
    }
    if (!path) {
        free(name);
        name = NULL;
    }
    *tmp = name;
    return EM_OK;
}

/* Builds the cache (at path, or a temporary one) and maps it. */
static em_status build_and_map(const char *input, const em_csv_options *csv,
                               const char *path, const source_id *id,
                               em_table *out, em_error *err)
{
    char *tmp = NULL;
    FILE *f = NULL;
    cache_head h;
    em_table head = {0};
    em_status st = create_file(path, &tmp, &f, err);
    if (st == EM_OK)
        st = build(f, path ? path : "<temporary cache>", input, csv, id, &h,
                   &head, err);
    if (st == EM_OK && tmp && rename(tmp, path) != 0)
        st = cache_error(err, path, "move into place");
    if (st == EM_OK)
        st = map_table(fileno(f), path ? path : "<temporary cache>", &h,
                       head.source, out, err);
    if (st != EM_OK && tmp)
        unlink(tmp);
    if (f)
        fclose(f);
    free(tmp);
    em_table_free(&head);
    return st;
}

em_status em_cache_open(const char *input, const em_csv_options *csv,
                        const char *path, em_table *out, int *reused,
                        em_error *err)
{
    em_error_clear(err);
    if (out)
        *out = (em_table){0};
    if (reused)
        *reused = 0;
    if (!input || !out)
        return em_error_set(err, EM_ERR_ARG, "no input or output given");
    if (csv && csv->symbols && *csv->symbols)
        return em_error_set(err, EM_ERR_ARG,
                            "columns of symbols cannot be cached");
    if (sizeof(long) != sizeof(int64_t))
        return em_error_set(err, EM_ERR_ARG,
                            "caches need a platform with 64-bit long");
    source_id id = {.is_stdin = strcmp(input, "-") == 0,
                    .delim = csv && csv->delimiter ? csv->delimiter : ',',
                    .columns = csv && csv->columns ? csv->columns : ""};
    if (!id.is_stdin && stat(input, &id.st) != 0)
        return em_error_at(err, EM_ERR_IO, input, 0, 0, "cannot open: %s",
                           strerror(errno));
    struct stat cst;
    if (path && !id.is_stdin && stat(path, &cst) == 0 &&
        cst.st_dev == id.st.st_dev && cst.st_ino == id.st.st_ino)
        return em_error_set(err, EM_ERR_ARG,
                            "the cache %s is the input itself: give another "
                            "path",
                            path);
    int found = 0;
    em_status st = path ? try_reuse(path, &id, input, out, &found, err)
                        : EM_OK;
    if (st == EM_OK && found) {
        if (reused)
            *reused = 1;
        return EM_OK;
    }
    return st == EM_OK ? build_and_map(input, csv, path, &id, out, err) : st;
}
