/* The SVG plots and the model hooks they use: components2d and density1d
 * against closed forms, the imputation of a scatter plot against the
 * conditional normal mean, nice axis ticks, and the SVG of each kind of
 * model checked for well-formed XML, the expected elements, nice tick
 * labels and no "nan" or "inf".  When chromium is installed one plot is
 * rendered to PNG; EMFIT_PLOT_DIR=DIR keeps every SVG (and the PNG) there
 * to look at. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "emfit/emfit.h"
#include "io/plot_data.h"
#include "io/svg.h"

#define PI_CONST 3.14159265358979323846

static char *names1[] = {"y"};
static char *names2[] = {"x", "y"};

static em_table table_of(double *values, size_t nrows, size_t ncols)
{
    return (em_table){.nrows = nrows, .ncols = ncols,
                      .names = ncols == 1 ? names1 : names2,
                      .values = values};
}

static size_t idx(const em_model *m, const char *name)
{
    size_t i = em_model_param_index(m, name);
    if (i == (size_t)-1)
        fail_msg("no parameter named %s", name);
    return i;
}

static void set(const em_model *m, double *th, const char *name, double v)
{
    th[idx(m, name)] = v;
}

static void make(const char *type, const em_model_config *cfg, em_table *t,
                 em_model *m)
{
    em_error err;
    em_status st = em_model_create(em_model_find(type), cfg, t, m, &err);
    if (st != EM_OK)
        fail_msg("%s: %s", type, err.msg);
}

/* ---- a fit with its trace ---------------------------------------------- */

typedef struct rec {
    size_t n, cap, np;
    double *ll, *params;
} rec;

static em_status record(void *ctx, size_t iter, const double *theta,
                        double loglik, em_error *err)
{
    (void)iter, (void)err;
    rec *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->ll = realloc(r->ll, r->cap * sizeof *r->ll);
        r->params = realloc(r->params, r->cap * r->np * sizeof *r->params);
        assert_non_null(r->ll);
        assert_non_null(r->params);
    }
    r->ll[r->n] = loglik;
    memcpy(r->params + r->n * r->np, theta, r->np * sizeof *theta);
    r->n++;
    return EM_OK;
}

/* Fits m from its default start (or from th when start is set), recording
 * the trace into r. */
static void fit(em_model *m, double *th, int start, rec *r)
{
    em_error err;
    em_fit_options o;
    em_fit_options_default(&o);
    o.trace = record;
    o.trace_ctx = r;
    *r = (rec){.np = m->info.nparams};
    if (!start)
        assert_int_equal(m->type->init(m->state, 1, th, &err), EM_OK);
    em_fit_result res;
    em_status st = em_fit(m, th, &o, &res, &err);
    if (st != EM_OK)
        fail_msg("fit: %s", err.msg);
}

static void rec_free(rec *r)
{
    free(r->ll), free(r->params);
}

static em_plot_trace trace_of(const rec *r)
{
    return (em_plot_trace){.nrows = r->n, .loglik = r->ll,
                           .params = r->params};
}

/* ---- the SVG as a string, and what the tests look for in it ------------ */

/* Writes the plot into memory; name, when EMFIT_PLOT_DIR is set, keeps a
 * copy as DIR/name.svg. */
static char *plot(const em_model *m, const em_table *t, const double *th,
                  const em_plot_trace *tr, const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    em_error err;
    em_status st = em_plot_svg(f, m, t, th, tr, &err);
    fclose(f);
    if (st != EM_OK)
        fail_msg("em_plot_svg: %s", err.msg);
    const char *dir = getenv("EMFIT_PLOT_DIR");
    if (dir && name) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.svg", dir, name);
        FILE *out = fopen(path, "w");
        assert_non_null(out);
        fputs(buf, out);
        fclose(out);
    }
    return buf;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (const char *p = strstr(s, needle); p; p = strstr(p + k, needle))
        n++;
    return n;
}

/* The value of the d attribute of the first <path class="cls">. */
static char *path_d(const char *s, const char *cls)
{
    char key[64];
    snprintf(key, sizeof key, "<path class=\"%s\" d=\"", cls);
    const char *p = strstr(s, key);
    if (!p)
        return NULL;
    p += strlen(key);
    const char *e = strchr(p, '"');
    char *d = malloc((size_t)(e - p) + 1);
    memcpy(d, p, (size_t)(e - p));
    d[e - p] = 0;
    return d;
}

/* No "nan" or "inf" in any case: every number written was finite. */
static void assert_finite_numbers(const char *s)
{
    for (const char *p = s; *p; p++) {
        char w[4] = {0};
        for (int i = 0; i < 3 && p[i]; i++)
            w[i] = (char)tolower((unsigned char)p[i]);
        if (strcmp(w, "nan") == 0 || strcmp(w, "inf") == 0)
            fail_msg("\"%.3s\" at offset %zu", p, (size_t)(p - s));
    }
}

/* ---- a small XML checker ------------------------------------------------ */

typedef struct xml {
    const char *p;
    const char *stack[64];
    size_t depth, nroots;
    char why[128];
} xml;

static int xml_fail(xml *x, const char *why)
{
    snprintf(x->why, sizeof x->why, "%s at \"%.30s\"", why, x->p);
    return 0;
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == ':' ||
           c == '.';
}

/* An entity or character reference at x->p ('&'). */
static int xml_entity(xml *x)
{
    static const char *const ok[] = {"&amp;", "&lt;", "&gt;", "&quot;",
                                     "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(x->p, ok[i], strlen(ok[i])) == 0) {
            x->p += strlen(ok[i]);
            return 1;
        }
    return xml_fail(x, "a bare &");
}

static int xml_attrs(xml *x)
{
    char seen[16][32];
    size_t nseen = 0;
    for (;;) {
        while (isspace((unsigned char)*x->p))
            x->p++;
        if (*x->p == '>' || (x->p[0] == '/' && x->p[1] == '>'))
            return 1;
        const char *n = x->p;
        while (name_char(*x->p))
            x->p++;
        size_t len = (size_t)(x->p - n);
        if (len == 0 || len >= 32 || *x->p++ != '=')
            return xml_fail(x, "a bad attribute");
        for (size_t i = 0; i < nseen; i++)
            if (strncmp(seen[i], n, len) == 0 && seen[i][len] == 0)
                return xml_fail(x, "a repeated attribute");
        if (nseen < 16)
            memcpy(seen[nseen], n, len), seen[nseen++][len] = 0;
        char q = *x->p++;
        if (q != '"' && q != '\'')
            return xml_fail(x, "an unquoted attribute");
        while (*x->p && *x->p != q) {
            if (*x->p == '<')
                return xml_fail(x, "< in an attribute");
            if (*x->p == '&' ? !xml_entity(x) : (x->p++, 0))
                return 0;
        }
        if (*x->p++ != q)
            return xml_fail(x, "an unterminated attribute");
    }
}

static int xml_tag(xml *x)
{
    int closing = x->p[1] == '/';
    x->p += closing ? 2 : 1;
    const char *n = x->p;
    while (name_char(*x->p))
        x->p++;
    if (x->p == n)
        return xml_fail(x, "a tag without a name");
    size_t len = (size_t)(x->p - n);
    if (closing) {
        const char *top = x->depth ? x->stack[x->depth - 1] : "";
        if (!x->depth || strncmp(top, n, len) != 0 || name_char(top[len]))
            return xml_fail(x, "a close tag that does not match");
        x->depth--;
        while (isspace((unsigned char)*x->p))
            x->p++;
        return *x->p++ == '>' ? 1 : xml_fail(x, "a bad close tag");
    }
    if (x->depth == 0 && x->nroots++)
        return xml_fail(x, "a second root element");
    if (!xml_attrs(x))
        return 0;
    if (*x->p == '/') {
        x->p += 2;
        return 1;
    }
    x->p++;
    if (x->depth == 64)
        return xml_fail(x, "too deep");
    x->stack[x->depth++] = n;
    return 1;
}

/* 1 when s is one well-formed element (after an optional prolog): tags
 * balanced and in order, attributes quoted and unique, & only in
 * references, no text outside the root. */
static int xml_ok(const char *s, xml *x)
{
    *x = (xml){.p = s};
    if (strncmp(s, "<?xml ", 6) == 0) {
        const char *e = strstr(s, "?>");
        if (!e)
            return xml_fail(x, "an unterminated prolog");
        x->p = e + 2;
    }
    while (*x->p) {
        if (strncmp(x->p, "<!--", 4) == 0) {
            const char *e = strstr(x->p, "-->");
            if (!e)
                return xml_fail(x, "an unterminated comment");
            x->p = e + 3;
        } else if (*x->p == '<') {
            if (!xml_tag(x))
                return 0;
        } else if (*x->p == '&') {
            if (!xml_entity(x))
                return 0;
        } else {
            if (x->depth == 0 && !isspace((unsigned char)*x->p))
                return xml_fail(x, "text outside the root");
            x->p++;
        }
    }
    if (x->depth)
        return xml_fail(x, "an unclosed element");
    return x->nroots == 1 ? 1 : xml_fail(x, "no root element");
}

static void assert_xml(const char *s)
{
    xml x;
    if (!xml_ok(s, &x))
        fail_msg("not well-formed: %s", x.why);
    assert_non_null(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "href"));
}

/* ---- nice ticks ---------------------------------------------------------- */

/* 1 when v is 1, 2 or 5 times a power of ten. */
static int nice(double v)
{
    if (!(v > 0))
        return 0;
    double m = v / pow(10, floor(log10(v) + 1e-12));
    return fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9 ||
           fabs(m - 10) < 1e-9;
}

/* The labels of class cls ("tx" or "ty") in s up to end, as numbers; they
 * must be evenly spaced by a nice step. */
static size_t check_tick_labels(const char *s, const char *end,
                                const char *cls)
{
    char key[32];
    double v[64];
    size_t n = 0;
    snprintf(key, sizeof key, "<text class=\"%s\"", cls);
    for (const char *p = strstr(s, key); p && p < end && n < 64;
         p = strstr(p + 1, key)) {
        const char *t = strchr(p, '>') + 1;
        char *e;
        v[n++] = strtod(t, &e);
        if (*e != '<')
            fail_msg("tick label \"%.20s\" is not a number", t);
    }
    if (n < 2)
        fail_msg("%zu %s tick label(s) in a panel", n, cls);
    double step = v[1] - v[0];
    if (!nice(fabs(step)))
        fail_msg("%s step %.17g from %g to %g is not 1, 2 or 5 x 10^k", cls,
                 step, v[0], v[1]);
    for (size_t i = 2; i < n; i++)
        if (fabs(v[i] - v[i - 1] - step) > 1e-6 * fabs(step))
            fail_msg("%s ticks %g, %g, %g are not evenly spaced", cls,
                     v[i - 2], v[i - 1], v[i]);
    return n;
}

/* Every panel's x and y ticks are nice; returns the number of panels. */
static size_t check_panels(const char *s)
{
    size_t n = 0;
    const char *key = "<g class=\"panel";
    for (const char *p = strstr(s, key); p; n++) {
        const char *next = strstr(p + 1, key);
        const char *end = next ? next : p + strlen(p);
        check_tick_labels(p, end, "tx");
        check_tick_labels(p, end, "ty");
        p = next;
    }
    return n;
}

/* The checks every plot passes. */
static void check_common(const char *s)
{
    assert_xml(s);
    assert_finite_numbers(s);
    check_panels(s);
    assert_int_equal(count(s, "<g class=\"panel loglik\">"), 1);
}

static void axis_ticks_are_nice(void **state)
{
    (void)state;
    em_svg_axis a;
    char buf[48];
    em_svg_axis_fit(&a, 0.13, 9.7, 5, 0);
    assert_close(a.step, 2, 1e-15);
    assert_close(a.lo, 0, 1e-15);
    assert_close(a.hi, 10, 1e-15);
    assert_int_equal(em_svg_axis_nticks(&a), 6);

    em_svg_axis_fit(&a, -76.154870, -76.012147, 5, 0);
    assert_close(a.step, 0.05, 1e-12);
    assert_close(a.lo, -76.2, 1e-12);
    assert_close(a.hi, -76.0, 1e-12);
    em_svg_tick_label(buf, sizeof buf, &a, em_svg_axis_tick(&a, 1));
    assert_string_equal(buf, "-76.15");

    /* a constant trace is padded into a band, not a zero-height axis */
    em_svg_axis_fit(&a, 1.867422, 1.867422, 3, 0);
    assert_true(a.lo < 1.867422 && a.hi > 1.867422);
    assert_true(nice(a.step));
    em_svg_axis_fit(&a, 0, 0, 3, 0);
    assert_true(a.lo < 0 && a.hi > 0);
    /* zero is "0", not "-0.0" or 1e-17 */
    em_svg_axis_fit(&a, -0.3, 0.3, 4, 0);
    for (size_t i = 0; i < em_svg_axis_nticks(&a); i++) {
        double v = em_svg_axis_tick(&a, i);
        em_svg_tick_label(buf, sizeof buf, &a, v);
        if (fabs(v) < 1e-3)
            assert_string_equal(buf, "0");
    }
    /* iterations: whole numbers even for one row, the ends inset */
    em_svg_axis_fit(&a, 0, 0, 8, 1);
    assert_close(a.step, 1, 0);
    assert_true(a.lo < 0 && a.lo > -0.1 && a.hi > 1 && a.hi < 1.1);
    assert_int_equal(em_svg_axis_nticks(&a), 2);
    assert_true(em_svg_axis_tick(&a, 0) == 0 && em_svg_axis_tick(&a, 1) == 1);
    em_svg_axis_fit(&a, 0, 16, 8, 1);
    assert_close(a.step, 2, 0);
    assert_int_equal(em_svg_axis_nticks(&a), 9);
    assert_true(em_svg_axis_tick(&a, 8) == 16);
    /* non-finite ends fall back to [0, 1] */
    em_svg_axis_fit(&a, NAN, INFINITY, 5, 0);
    assert_true(a.lo == 0 && a.hi == 1);
    /* huge and tiny values get exponent labels */
    em_svg_axis_fit(&a, 1e8, 5e8, 4, 0);
    em_svg_tick_label(buf, sizeof buf, &a, em_svg_axis_tick(&a, 1));
    assert_string_equal(buf, "2e+08");
    em_svg_axis_fit(&a, 1e-9, 4e-9, 3, 0);
    em_svg_tick_label(buf, sizeof buf, &a, em_svg_axis_tick(&a, 1));
    assert_string_equal(buf, "2e-09");

    /* random ranges: the axis covers them with a nice step and 2 to
     * target + 2 intervals */
    uint64_t s = 99;
    for (int i = 0; i < 2000; i++) {
        double c = (unif(&s) - 0.5) * pow(10, (double)below(&s, 20) - 8);
        double w = unif(&s) * pow(10, (double)below(&s, 16) - 8);
        int target = 2 + (int)below(&s, 8);
        em_svg_axis_fit(&a, c, c + w, target, 0);
        assert_true(nice(a.step));
        assert_true(a.lo <= c && a.hi >= c + w);
        size_t n = em_svg_axis_nticks(&a);
        assert_true(n >= 2 && n <= (size_t)target + 3);
        assert_close(em_svg_axis_tick(&a, n - 1), a.hi, 1e-9);
    }
}

/* ---- the hooks ------------------------------------------------------------ */

static void bvn_has_one_component(void **state)
{
    (void)state;
    double v[] = {0, 1, 1, 0, 2, 3, 3, 1.5, NAN, 2};
    em_table t = table_of(v, 5, 2);
    em_model m;
    make("bvn", &(em_model_config){0}, &t, &m);
    assert_null(m.type->density1d);
    double th[5] = {1, -2, 2, 0.5, 0.3}, w, mean[2], cov[4];
    assert_int_equal(m.type->components2d(m.state, th, 4, &w, mean, cov), 1);
    assert_close(w, 1, 0);
    assert_close(mean[0], 1, 0);
    assert_close(mean[1], -2, 0);
    assert_close(cov[0], 4, 1e-15);
    assert_close(cov[1], 0.3, 1e-15);
    assert_close(cov[2], 0.3, 1e-15);
    assert_close(cov[3], 0.25, 1e-15);
    assert_int_equal(m.type->components2d(m.state, th, 0, &w, mean, cov), 0);
    em_model_free(&m);
}

/* A two-column gmm of each covariance type gives back the matrices its
 * parameters describe. */
static void gmm_components_expand_each_cov_type(void **state)
{
    (void)state;
    double v[] = {0, 0, 1, 0.5, 5, 5, 6, 4, 2, 1, 5.5, 6};
    em_table t = table_of(v, 6, 2);
    static const char *const types[] = {"full", "diag", "spherical", "tied"};
    for (int c = 0; c < 4; c++) {
        em_model m;
        make("gmm", &(em_model_config){.k = 2, .cov = types[c]}, &t, &m);
        double th[32] = {0};
        set(&m, th, "w1", 0.25), set(&m, th, "w2", 0.75);
        set(&m, th, "mean1_1", 1), set(&m, th, "mean1_2", 2);
        set(&m, th, "mean2_1", -3), set(&m, th, "mean2_2", 4);
        /* want[k] = the full matrix of component k */
        double want[2][4];
        if (c == 0) {
            set(&m, th, "cov1_1_1", 2), set(&m, th, "cov1_1_2", 0.5);
            set(&m, th, "cov1_2_2", 1), set(&m, th, "cov2_1_1", 3);
            set(&m, th, "cov2_1_2", -1), set(&m, th, "cov2_2_2", 4);
            memcpy(want, (double[2][4]){{2, 0.5, 0.5, 1}, {3, -1, -1, 4}},
                   sizeof want);
        } else if (c == 1) {
            set(&m, th, "var1_1", 2), set(&m, th, "var1_2", 1);
            set(&m, th, "var2_1", 3), set(&m, th, "var2_2", 4);
            memcpy(want, (double[2][4]){{2, 0, 0, 1}, {3, 0, 0, 4}},
                   sizeof want);
        } else if (c == 2) {
            set(&m, th, "var1", 2), set(&m, th, "var2", 5);
            memcpy(want, (double[2][4]){{2, 0, 0, 2}, {5, 0, 0, 5}},
                   sizeof want);
        } else {
            set(&m, th, "cov_1_1", 2), set(&m, th, "cov_1_2", 0.5);
            set(&m, th, "cov_2_2", 1);
            memcpy(want, (double[2][4]){{2, 0.5, 0.5, 1}, {2, 0.5, 0.5, 1}},
                   sizeof want);
        }
        double w[2], mean[4], cov[8];
        assert_int_equal(
            m.type->components2d(m.state, th, 2, w, mean, cov), 2);
        assert_close(w[0], 0.25, 0);
        assert_close(w[1], 0.75, 0);
        assert_close(mean[0], 1, 0), assert_close(mean[1], 2, 0);
        assert_close(mean[2], -3, 0), assert_close(mean[3], 4, 0);
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 4; i++)
                assert_close(cov[4 * k + i], want[k][i], 0);
        /* max caps the count */
        assert_int_equal(
            m.type->components2d(m.state, th, 1, w, mean, cov), 1);
        /* two columns have no one-dimensional density */
        assert_true(isnan(m.type->density1d(m.state, th, 0.5)));
        em_model_free(&m);
    }
}

static double normal_pdf(double x, double mu, double var)
{
    return exp(-0.5 * (x - mu) * (x - mu) / var) / sqrt(2 * PI_CONST * var);
}

/* The trapezoid integral of a density over [lo, hi]. */
static double integral(const em_model *m, const double *th, double lo,
                       double hi)
{
    size_t n = 20000;
    double h = (hi - lo) / (double)n, s = 0;
    for (size_t i = 0; i <= n; i++) {
        double f = m->type->density1d(m->state, th, lo + h * (double)i);
        s += (i == 0 || i == n ? 0.5 : 1) * f;
    }
    return s * h;
}

/* A one-column gmm's density is sum_k w_k N(x; mu_k, var_k) under every
 * covariance type, and integrates to 1. */
static void gmm_density_matches_the_closed_form(void **state)
{
    (void)state;
    double v[] = {0, 1, 2, 5, 6, 7, NAN};
    em_table t = table_of(v, 7, 1);
    static const char *const types[] = {"full", "diag", "spherical", "tied"};
    static const char *const var_names[4][2] = {{"cov1_1_1", "cov2_1_1"},
                                                {"var1_1", "var2_1"},
                                                {"var1", "var2"},
                                                {"cov_1_1", NULL}};
    for (int c = 0; c < 4; c++) {
        em_model m;
        make("gmm", &(em_model_config){.k = 2, .cov = types[c]}, &t, &m);
        double th[8] = {0};
        double var2 = c == 3 ? 0.64 : 2.25;
        set(&m, th, "w1", 0.3), set(&m, th, "w2", 0.7);
        set(&m, th, "mean1_1", -1), set(&m, th, "mean2_1", 4);
        set(&m, th, var_names[c][0], 0.64);
        if (var_names[c][1])
            set(&m, th, var_names[c][1], var2);
        for (double x = -4; x <= 9; x += 0.7) {
            double want = 0.3 * normal_pdf(x, -1, 0.64) +
                          0.7 * normal_pdf(x, 4, var2);
            assert_close(m.type->density1d(m.state, th, x), want, 1e-13);
        }
        assert_close(integral(&m, th, -20, 25), 1, 1e-9);
        /* far tails are 0, never NaN */
        assert_true(m.type->density1d(m.state, th, 1e6) == 0);
        assert_int_equal(m.type->components2d(m.state, th, 2, th, th, th),
                         0);
        em_model_free(&m);
    }
}

static void mixed_normal_density_matches_the_closed_form(void **state)
{
    (void)state;
    double v[] = {-2, -1.5, 1, 1.2, 2, 2.5, 0.3};
    em_table t = table_of(v, 7, 1);
    em_model m;
    /* known sigma 1.5 */
    make("mixed-normal", &(em_model_config){.has_sigma = 1, .sigma = 1.5},
         &t, &m);
    assert_null(m.type->components2d);
    double th[3] = {1.2, 0.3, 0};
    for (double x = -5; x <= 5; x += 0.45)
        assert_close(m.type->density1d(m.state, th, x),
                     0.7 * normal_pdf(x, 1.2, 2.25) +
                         0.3 * normal_pdf(x, -1.2, 2.25),
                     1e-13);
    assert_close(integral(&m, th, -15, 15), 1, 1e-9);
    /* p = 0 and p = 1 leave one component */
    th[1] = 0;
    assert_close(m.type->density1d(m.state, th, 0.4),
                 normal_pdf(0.4, 1.2, 2.25), 1e-13);
    th[1] = 1;
    assert_close(m.type->density1d(m.state, th, 0.4),
                 normal_pdf(0.4, -1.2, 2.25), 1e-13);
    assert_true(m.type->density1d(m.state, th, -1e5) == 0);
    em_model_free(&m);
    /* free sigma: the third parameter */
    make("mixed-normal", &(em_model_config){.free_sigma = 1}, &t, &m);
    double th2[3] = {1.5, 0.25, 0.8};
    assert_close(m.type->density1d(m.state, th2, 0.9),
                 0.75 * normal_pdf(0.9, 1.5, 0.64) +
                     0.25 * normal_pdf(0.9, -1.5, 0.64),
                 1e-13);
    em_model_free(&m);
}

/* One component: E[y | x] = mu2 + rho s2 (x - mu1) / s1, and the mirror
 * image for a missing x. */
static void imputation_is_the_conditional_mean(void **state)
{
    (void)state;
    double w = 1, mean[2] = {1, -2}, s1 = 2, s2 = 0.5, rho = 0.3;
    double cov[4] = {s1 * s1, rho * s1 * s2, rho * s1 * s2, s2 * s2};
    double out[2];
    em_plot_impute2(&w, mean, cov, 1, (double[]){4, NAN}, out);
    assert_close(out[0], 4, 0);
    assert_close(out[1], -2 + rho * s2 * (4 - 1) / s1, 1e-15);
    em_plot_impute2(&w, mean, cov, 1, (double[]){NAN, -1}, out);
    assert_close(out[0], 1 + rho * s1 * (-1 + 2) / s2, 1e-15);
    assert_close(out[1], -1, 0);
    /* nothing to impute: NaNs */
    em_plot_impute2(&w, mean, cov, 1, (double[]){NAN, NAN}, out);
    assert_true(isnan(out[0]) && isnan(out[1]));
    em_plot_impute2(&w, mean, cov, 1, (double[]){1, 2}, out);
    assert_true(isnan(out[0]) && isnan(out[1]));
}

/* With several components it is gmm's own E[x | x_o], on rows far out in
 * a tail too (the responsibilities in log space). */
static void imputation_agrees_with_gmm(void **state)
{
    (void)state;
    double v[] = {0, 0, 1, 0.5, 5, 5, 6, 4, 2, NAN, NAN, 6, 40, NAN, NAN, -30};
    em_table t = table_of(v, 8, 2);
    em_model m;
    make("gmm", &(em_model_config){.k = 3}, &t, &m);
    double th[32] = {0};
    set(&m, th, "w1", 0.2), set(&m, th, "w2", 0.5), set(&m, th, "w3", 0.3);
    set(&m, th, "mean1_1", 0), set(&m, th, "mean1_2", 0);
    set(&m, th, "mean2_1", 5), set(&m, th, "mean2_2", 5);
    set(&m, th, "mean3_1", 2), set(&m, th, "mean3_2", -3);
    set(&m, th, "cov1_1_1", 1), set(&m, th, "cov1_1_2", 0.3);
    set(&m, th, "cov1_2_2", 0.8), set(&m, th, "cov2_1_1", 2);
    set(&m, th, "cov2_1_2", -0.9), set(&m, th, "cov2_2_2", 1.5);
    set(&m, th, "cov3_1_1", 0.5), set(&m, th, "cov3_1_2", 0);
    set(&m, th, "cov3_2_2", 3);
    em_error err;
    assert_int_equal(m.type->prepare(m.state, th, &err), EM_OK);
    double w[3], mean[6], cov[12];
    assert_int_equal(m.type->components2d(m.state, th, 3, w, mean, cov), 3);
    for (size_t i = 4; i < 8; i++) {
        double want[2], got[2];
        m.type->impute(m.state, i, i + 1, want);
        em_plot_impute2(w, mean, cov, 3, v + 2 * i, got);
        assert_close(got[0], want[0], 1e-12);
        assert_close(got[1], want[1], 1e-12);
    }
    em_model_free(&m);
}

/* ---- the plots ----------------------------------------------------------- */

/* The document's 40 rows (20 missing y) and one row missing both. */
static const double doc_x[40] = {
    2.68359748,  1.17791924,  1.86489988, 3.46263848,  3.28320055,
    2.2243539,   -0.81846598, 2.8875052,  2.8089101,   -0.43096351,
    1.59169105,  2.33259334,  1.23234749, 2.77710826,  2.30041259,
    1.46274197,  2.34134553,  1.41575413, 2.89978014,  1.94268688,
    1.8706036,   -0.95437589, 2.31569597, 2.22949385,  1.20585795,
    1.35490525,  0.65720096,  3.50395539, 2.87762334,  1.72990085,
    1.81482228,  2.90097921,  0.17064598, 3.54635827,  0.14184182,
    1.62707491,  0.98461819,  2.90010676, 1.40230423,  2.9772189};
static const double doc_y[20] = {
    1.48379834, 1.38894689, 0.64818678, 2.52003738, 2.09838814,
    0.68423906, 0.25206792, 1.21514733, 2.66763322, -0.40946548,
    0.83110871, 0.74321063, 0.10636416, 1.22676301, 1.26537629,
    0.86375528, 0.60329965, 0.12814199, 1.662521,   0.96135903};

/* The markers in a path: dots are "h0", crosses one "l6 6" each. */
static size_t markers(const char *s, const char *cls)
{
    char *d = path_d(s, cls);
    assert_non_null(d);
    size_t n = count(d, strcmp(cls, "obs") == 0 ? "h0" : "l6 6");
    free(d);
    return n;
}

static void bvn_plot_has_ellipses_and_imputed_points(void **state)
{
    (void)state;
    double v[82];
    for (size_t i = 0; i < 40; i++)
        v[2 * i] = doc_x[i], v[2 * i + 1] = i < 20 ? doc_y[i] : NAN;
    v[80] = v[81] = NAN;
    /* two rows missing x instead */
    v[2 * 25] = NAN, v[2 * 25 + 1] = 1.1;
    v[2 * 30] = NAN, v[2 * 30 + 1] = 0.2;
    em_table t = table_of(v, 41, 2);
    em_model m;
    make("bvn", &(em_model_config){0}, &t, &m);
    double th[5];
    rec r;
    fit(&m, th, 0, &r);
    em_plot_trace tr = trace_of(&r);
    char *s = plot(&m, &t, th, &tr, "bvn");
    check_common(s);
    assert_int_equal(count(s, "<g class=\"panel trace\">"), 5);
    for (size_t p = 0; p < 5; p++) {
        char title[64];
        snprintf(title, sizeof title, ">%s</text>", m.info.param_names[p]);
        assert_non_null(strstr(s, title));
    }
    /* one component: an ellipse at 1 SD and one at 2 SD */
    assert_int_equal(count(s, "<g class=\"panel scatter\">"), 1);
    assert_int_equal(count(s, "<ellipse class=\"sd1\""), 1);
    assert_int_equal(count(s, "<ellipse class=\"sd2\""), 1);
    /* 20 complete rows as dots, 20 imputed ones as crosses, the row
     * missing both left out and said so */
    assert_int_equal(markers(s, "obs"), 20);
    assert_int_equal(markers(s, "imp"), 20);
    assert_non_null(strstr(s, "imputed: one value missing (20)"));
    assert_non_null(strstr(s, "1 row(s) missing both values left out"));
    assert_null(strstr(s, "panel histogram"));
    /* the summary line carries the final log-likelihood */
    char want[64];
    snprintf(want, sizeof want, "log-likelihood %.6f", r.ll[r.n - 1]);
    assert_non_null(strstr(s, want));
    free(s);
    rec_free(&r);
    em_model_free(&m);
}

/* n rows from K = 3 well separated normals in two columns, every 7th row
 * missing a coordinate. */
static double *three_clusters(size_t n, uint64_t seed)
{
    double *v = malloc(2 * n * sizeof *v);
    static const double c[3][2] = {{0, 0}, {6, 1}, {2, 7}};
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % 3;
        double a = gauss(&s), b = gauss(&s);
        v[2 * i] = c[k][0] + a;
        v[2 * i + 1] = c[k][1] + 0.6 * a + 0.8 * b;
        if (i % 7 == 3)
            v[2 * i + (i % 2)] = NAN;
    }
    return v;
}

static void gmm_plot_has_an_ellipse_pair_per_component(void **state)
{
    (void)state;
    size_t n = 300;
    double *v = three_clusters(n, 5);
    em_table t = table_of(v, n, 2);
    static const char *const types[] = {"full", "diag", "spherical", "tied"};
    for (int c = 0; c < 4; c++) {
        em_model m;
        make("gmm", &(em_model_config){.k = 3, .cov = types[c]}, &t, &m);
        double th[32];
        rec r;
        fit(&m, th, 0, &r);
        em_plot_trace tr = trace_of(&r);
        char name[32];
        snprintf(name, sizeof name, "gmm2_%s", types[c]);
        char *s = plot(&m, &t, th, &tr, name);
        check_common(s);
        assert_int_equal(count(s, "<g class=\"panel trace\">"),
                         m.info.nparams);
        assert_int_equal(count(s, "<ellipse class=\"sd1\""), 3);
        assert_int_equal(count(s, "<ellipse class=\"sd2\""), 3);
        assert_int_equal(count(s, "<path class=\"ctr\""), 3);
        /* rows 3, 10, 17, ... miss one value */
        size_t nimp = (n - 3 + 6) / 7;
        assert_int_equal(markers(s, "imp"), nimp);
        assert_int_equal(markers(s, "obs"), n - nimp);
        assert_null(strstr(s, "more parameter"));
        free(s);
        rec_free(&r);
        em_model_free(&m);
    }
    free(v);
}

/* Past EM_PLOT_MAX_PANELS parameters the rest are named in a line; a
 * column selection draws only its parameters. */
static void panels_are_capped_and_selected(void **state)
{
    (void)state;
    size_t n = 300;
    double *v = three_clusters(n, 6);
    em_table t = table_of(v, n, 2);
    em_model m;
    make("gmm", &(em_model_config){.k = 5}, &t, &m);
    assert_int_equal(m.info.nparams, 30);
    double th[30];
    rec r;
    fit(&m, th, 0, &r);
    em_plot_trace tr = trace_of(&r);
    char *s = plot(&m, &t, th, &tr, "gmm_capped");
    check_common(s);
    assert_int_equal(count(s, "<g class=\"panel trace\">"),
                     EM_PLOT_MAX_PANELS);
    assert_non_null(strstr(s, "6 more parameters are not shown"));
    assert_non_null(strstr(s, "--trace-params"));
    assert_int_equal(count(s, "<ellipse class=\"sd1\""), 5);
    free(s);

    size_t cols[3] = {idx(&m, "w2"), idx(&m, "cov5_2_2"), idx(&m, "mean1_1")};
    tr.cols = cols, tr.ncols = 3;
    s = plot(&m, &t, th, &tr, NULL);
    check_common(s);
    assert_int_equal(count(s, "<g class=\"panel trace\">"), 3);
    assert_non_null(strstr(s, ">cov5_2_2</text>"));
    assert_null(strstr(s, ">w1</text>"));
    assert_null(strstr(s, "more parameter"));
    free(s);

    /* a column index past the parameters is the caller's error */
    cols[1] = 30;
    em_error err;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(em_plot_svg(f, &m, &t, th, &tr, &err), EM_ERR_ARG);
    assert_int_equal(em_plot_svg(NULL, &m, &t, th, &tr, &err), EM_ERR_ARG);
    fclose(f);
    rec_free(&r);
    em_model_free(&m);
    free(v);
}

/* Bars of a histogram: their count, and the largest height in pixels. */
static size_t bars(const char *s, double *tallest)
{
    size_t n = 0;
    *tallest = 0;
    for (const char *p = strstr(s, "<rect class=\"bar\""); p;
         p = strstr(p + 1, "<rect class=\"bar\"")) {
        const char *h = strstr(p, "height=\"");
        *tallest = fmax(*tallest, strtod(h + 8, NULL));
        n++;
    }
    return n;
}

static void one_column_plots_have_a_histogram_and_density(void **state)
{
    (void)state;
    size_t n = 400;
    double *v = malloc(n * sizeof *v);
    uint64_t sd = 3;
    for (size_t i = 0; i < n; i++)
        v[i] = i % 50 == 7 ? NAN : (i % 10 < 3 ? -1.5 : 1.5) + gauss(&sd);
    em_table t = table_of(v, n, 1);
    const char *models[] = {"mixed-normal", "gmm"};
    for (int k = 0; k < 2; k++) {
        em_model m;
        make(models[k], &(em_model_config){.k = 2}, &t, &m);
        double th[8];
        rec r;
        fit(&m, th, 0, &r);
        em_plot_trace tr = trace_of(&r);
        char *s = plot(&m, &t, th, &tr, k ? "gmm1" : "mixed_normal");
        check_common(s);
        assert_int_equal(count(s, "<g class=\"panel histogram\">"), 1);
        assert_null(strstr(s, "<ellipse"));
        double tallest;
        size_t nb = bars(s, &tallest);
        /* about sqrt(392) = 20 bins, some perhaps empty */
        assert_true(nb >= 10 && nb <= 22);
        char *d = path_d(s, "dens");
        assert_non_null(d);
        assert_true(count(d, "L") > 100);
        free(d);
        assert_non_null(strstr(s, "8 missing value(s) left out"));
        assert_non_null(strstr(s, "observed values (392)"));
        assert_int_equal(count(s, "<g class=\"panel trace\">"),
                         m.info.nparams);
        free(s);
        rec_free(&r);
        em_model_free(&m);
    }
    free(v);
}

/* three-coin has neither hook: the traces only. */
static void three_coin_plot_has_traces_only(void **state)
{
    (void)state;
    double v[] = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1};
    em_table t = table_of(v, 10, 1);
    em_model m;
    make("three-coin", &(em_model_config){0}, &t, &m);
    double th[3] = {0.4, 0.6, 0.7};
    rec r;
    fit(&m, th, 1, &r);
    em_plot_trace tr = trace_of(&r);
    char *s = plot(&m, &t, th, &tr, "three_coin");
    check_common(s);
    assert_int_equal(count(s, "<g class=\"panel trace\">"), 3);
    assert_null(strstr(s, "panel scatter"));
    assert_null(strstr(s, "panel histogram"));
    free(s);
    rec_free(&r);
    em_model_free(&m);
}

/* A one-row trace and constant traces still give nice, finite axes; a
 * single point is drawn as a dot. */
static void degenerate_traces_are_drawn(void **state)
{
    (void)state;
    double v[] = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1};
    em_table t = table_of(v, 10, 1);
    em_model m;
    make("three-coin", &(em_model_config){0}, &t, &m);
    double th[3] = {0.5, 0.6, 0.6}, ll = -6.73;
    em_plot_trace one = {.nrows = 1, .loglik = &ll, .params = th};
    char *s = plot(&m, &t, th, &one, "one_row");
    check_common(s);
    char *d = path_d(s, "ll");
    assert_non_null(d);
    assert_non_null(strstr(d, "m-3 0h6m-3-3v6"));
    free(d);
    free(s);
    /* constant: every row the same; a zero is constant too */
    double lls[4] = {-6.73, -6.73, -6.73, -6.73};
    double ps[12] = {0, 0.6, 0.6, 0, 0.6, 0.6, 0, 0.6, 0.6, 0, 0.6, 0.6};
    em_plot_trace flat = {.nrows = 4, .loglik = lls, .params = ps};
    s = plot(&m, &t, th, &flat, "flat");
    check_common(s);
    free(s);
    /* non-finite values break the line and write nothing non-finite */
    double bad_ll[4] = {-7, NAN, -INFINITY, -6.5};
    ps[3] = INFINITY;
    em_plot_trace holes = {.nrows = 4, .loglik = bad_ll, .params = ps};
    s = plot(&m, &t, th, &holes, NULL);
    check_common(s);
    free(s);
    em_model_free(&m);
}

/* A long trace keeps at most four points per pixel column (the first,
 * lowest, highest and last), so 100000 iterations draw no more than a few
 * thousand points, and the extremes survive. */
static void long_traces_are_thinned(void **state)
{
    (void)state;
    double v[] = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1};
    em_table t = table_of(v, 10, 1);
    em_model m;
    make("three-coin", &(em_model_config){0}, &t, &m);
    size_t n = 100000;
    double *ll = malloc(n * sizeof *ll), *ps = malloc(3 * n * sizeof *ps);
    uint64_t sd = 11;
    for (size_t i = 0; i < n; i++) {
        ll[i] = -10 + 3 * (1 - exp(-(double)i / 1000)) + 0.01 * gauss(&sd);
        ps[3 * i] = 0.4, ps[3 * i + 1] = 0.6, ps[3 * i + 2] = 0.7;
    }
    ll[n / 2] = -20; /* one spike down must still be drawn */
    em_plot_trace tr = {.nrows = n, .loglik = ll, .params = ps};
    char *s = plot(&m, &t, ps, &tr, "long");
    check_common(s);
    char *d = path_d(s, "ll");
    assert_non_null(d);
    size_t points = count(d, "L") + 1;
    assert_true(points >= 900 && points <= 4 * 960);
    /* the axis reaches down to the spike at -20, at the bottom of the
     * plot area (y = 410); were the spike dropped the lowest point would
     * be near -10, about y = 180 */
    double lowest = 0;
    for (const char *p = d; (p = strpbrk(p, "ML")) != NULL; p++) {
        char *e;
        strtod(p + 1, &e);
        lowest = fmax(lowest, strtod(e, NULL));
    }
    assert_true(lowest > 300);
    free(d);
    free(s);
    free(ll), free(ps);
    em_model_free(&m);
}

static void no_trace_draws_no_panels(void **state)
{
    (void)state;
    double v[] = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1};
    em_table t = table_of(v, 10, 1);
    em_model m;
    make("three-coin", &(em_model_config){0}, &t, &m);
    double th[3] = {0.5, 0.6, 0.6};
    char *s;
    /* no trace at all: the data panel alone (here none) */
    s = plot(&m, &t, th, NULL, NULL);
    assert_xml(s);
    assert_null(strstr(s, "<g class=\"panel"));
    free(s);
    em_model_free(&m);
}

/* Many rows give a small file: one row in k is drawn. */
static void many_rows_are_thinned(void **state)
{
    (void)state;
    size_t n = 100000;
    double *v = three_clusters(n, 8);
    em_table t = table_of(v, n, 2);
    em_model m;
    make("gmm", &(em_model_config){.k = 3}, &t, &m);
    double th[32];
    em_error err;
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    char *s = plot(&m, &t, th, NULL, "thinned");
    assert_xml(s);
    assert_finite_numbers(s);
    /* 100000 / 3000 rounds up to a stride of 34: rows 0, 34, 68, ... */
    assert_int_equal(markers(s, "obs") + markers(s, "imp"),
                     (n + 33) / 34);
    assert_non_null(strstr(s, "100000 rows: one row in 34 is drawn"));
    assert_true(strlen(s) < 150000);
    free(s);
    em_model_free(&m);
    free(v);
}

/* Column names are text: markup characters are escaped and bytes that
 * are not UTF-8 replaced, so the file stays well-formed. */
static void names_are_escaped(void **state)
{
    (void)state;
    char *names[] = {"a<b & \"c\"", "d\x01\xff\xc3\xa9"};
    double v[] = {0, 1, 1, 0, 2, 3, 3, 1.5, NAN, 2};
    em_table t = {.nrows = 5, .ncols = 2, .names = names, .values = v,
                  .source = "x&y.csv"};
    em_model m;
    make("bvn", &(em_model_config){0}, &t, &m);
    double th[5] = {1.5, 1.5, 1, 1, 0.2};
    char *s = plot(&m, &t, th, NULL, NULL);
    assert_xml(s);
    assert_non_null(strstr(s, "a&lt;b &amp; \"c\""));
    assert_non_null(strstr(s, "d??\xc3\xa9"));
    assert_non_null(strstr(s, "x&amp;y.csv"));
    free(s);
    em_model_free(&m);
}

static void write_errors_are_reported(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    double v[] = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1};
    em_table t = table_of(v, 10, 1);
    em_model m;
    make("three-coin", &(em_model_config){0}, &t, &m);
    double th[3] = {0.4, 0.6, 0.7}, ll = -7;
    em_plot_trace tr = {.nrows = 1, .loglik = &ll, .params = th};
    em_error err;
    assert_int_equal(em_plot_svg(f, &m, &t, th, &tr, &err), EM_ERR_IO);
    fclose(f);
    em_model_free(&m);
}

/* When chromium is installed, the bvn plot renders to a PNG of the page's
 * size that is far from blank (a blank page compresses to a few kB). */
static void renders_in_chromium(void **state)
{
    (void)state;
    const char *exe = access("/usr/bin/chromium", X_OK) == 0 ? "/usr/bin/chromium"
                      : access("/usr/bin/chromium-browser", X_OK) == 0
                          ? "/usr/bin/chromium-browser"
                          : NULL;
    if (!exe)
        skip();
    double v[80];
    for (size_t i = 0; i < 40; i++)
        v[2 * i] = doc_x[i], v[2 * i + 1] = i < 20 ? doc_y[i] : NAN;
    em_table t = table_of(v, 40, 2);
    em_model m;
    make("bvn", &(em_model_config){0}, &t, &m);
    double th[5];
    rec r;
    fit(&m, th, 0, &r);
    em_plot_trace tr = trace_of(&r);
    char *s = plot(&m, &t, th, &tr, NULL);
    const char *keep = getenv("EMFIT_PLOT_DIR");
    char dir[] = "/tmp/emfit-plot-XXXXXX", svg[1100], png[1100], cmd[4000];
    assert_non_null(mkdtemp(dir));
    snprintf(svg, sizeof svg, "%s/bvn.svg", dir);
    snprintf(png, sizeof png, "%s/bvn.png", keep ? keep : dir);
    FILE *f = fopen(svg, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "timeout 120 %s --headless --no-sandbox --disable-gpu "
             "--hide-scrollbars --window-size=960,1200 --screenshot=%s "
             "file://%s >/dev/null 2>&1",
             exe, png, svg);
    int rc = system(cmd);
    f = fopen(png, "rb");
    if (rc != 0 || !f)
        fail_msg("chromium failed (status %d): %s", rc, cmd);
    unsigned char head[24];
    assert_int_equal(fread(head, 1, 24, f), 24);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    /* IHDR: width and height, big-endian */
    assert_int_equal((head[16] << 24) | (head[17] << 16) | (head[18] << 8) |
                         head[19],
                     960);
    assert_true(size > 40000);
    remove(svg);
    if (!keep)
        remove(png);
    rmdir(dir);
    free(s);
    rec_free(&r);
    em_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(axis_ticks_are_nice),
        cmocka_unit_test(bvn_has_one_component),
        cmocka_unit_test(gmm_components_expand_each_cov_type),
        cmocka_unit_test(gmm_density_matches_the_closed_form),
        cmocka_unit_test(mixed_normal_density_matches_the_closed_form),
        cmocka_unit_test(imputation_is_the_conditional_mean),
        cmocka_unit_test(imputation_agrees_with_gmm),
        cmocka_unit_test(bvn_plot_has_ellipses_and_imputed_points),
        cmocka_unit_test(gmm_plot_has_an_ellipse_pair_per_component),
        cmocka_unit_test(panels_are_capped_and_selected),
        cmocka_unit_test(one_column_plots_have_a_histogram_and_density),
        cmocka_unit_test(three_coin_plot_has_traces_only),
        cmocka_unit_test(degenerate_traces_are_drawn),
        cmocka_unit_test(long_traces_are_thinned),
        cmocka_unit_test(no_trace_draws_no_panels),
        cmocka_unit_test(many_rows_are_thinned),
        cmocka_unit_test(names_are_escaped),
        cmocka_unit_test(write_errors_are_reported),
        cmocka_unit_test(renders_in_chromium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
