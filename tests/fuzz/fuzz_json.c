/* libFuzzer harness for em_json_parse, and em_params_from_json on what it
 * accepts.
 *
 * A parsed tree is walked and checked: known kinds, positions >= 1 that
 * grow from a container to its members and along them, finite numbers,
 * NUL-terminated valid UTF-8 strings, nesting within the 64 levels the
 * parser promises.  Then each model (one fixed small data set each) takes
 * the tree as a parameter file: it must either accept it with parameters
 * that pass the model's check, or refuse it with EM_ERR_PARSE. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emfit/csv.h"
#include "emfit/json.h"
#include "emfit/model.h"
#include "emfit/params.h"
#include "fuzz.h"


/* 1 when s[0..n) is valid UTF-8 (RFC 3629: shortest forms, no surrogates,
 * at most U+10FFFF); NUL is a valid character (from \u0000). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1
                                : (c & 0xF0) == 0xE0     ? 2
                                : c >= 0xF0 && c <= 0xF4 ? 3
                                                         : 9;
        if (k == 9 || n - i <= k)
            return k == 0;
        unsigned long cp = k ? c & (0x3F >> k) : c;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* (line, col) of a strictly after (line, col) of b. */
static int after(const em_json *a, const em_json *b)
{
    return a->line > b->line || (a->line == b->line && a->col > b->col);
}

/* depth: the containers around v. */
static void walk(const em_json *v, int depth)
{
    CHECK(v && v->line >= 1 && v->col >= 1);
    CHECK(depth <= 64);
    switch (v->kind) {
    case EM_JSON_NULL:
        break;
    case EM_JSON_BOOL:
        CHECK(v->u.boolean == 0 || v->u.boolean == 1);
        break;
    case EM_JSON_NUMBER:
        CHECK(isfinite(v->u.number));
        break;
    case EM_JSON_STRING:
        CHECK(v->u.string.s && v->u.string.s[v->u.string.len] == '\0');
        CHECK(valid_utf8((const unsigned char *)v->u.string.s,
                         v->u.string.len));
        break;
    case EM_JSON_ARRAY:
        CHECK(depth < 64 && (v->u.array.n == 0 || v->u.array.items));
        for (size_t i = 0; i < v->u.array.n; i++) {
            const em_json *it = v->u.array.items[i];
            walk(it, depth + 1);
            CHECK(after(it, i ? v->u.array.items[i - 1] : v));
        }
        break;
    case EM_JSON_OBJECT:
        CHECK(depth < 64);
        CHECK(v->u.object.n == 0 || (v->u.object.keys && v->u.object.values));
        for (size_t i = 0; i < v->u.object.n; i++) {
            const char *key = v->u.object.keys[i];
            CHECK(key && valid_utf8((const unsigned char *)key, strlen(key)));
            const em_json *it = v->u.object.values[i];
            walk(it, depth + 1);
            CHECK(after(it, i ? v->u.object.values[i - 1] : v));
        }
        break;
    default:
        CHECK(!"unknown kind");
    }
}

/* One model instance per type on a small fixed data set, made once and
 * kept for the whole run (the fuzzer's process exits without freeing). */
enum { NMODELS = 4 };
static em_table tables[NMODELS];
static em_model models[NMODELS];

static void make_models(void)
{
    static const struct {
        const char *model, *csv;
        em_model_config cfg;
    } spec[NMODELS] = {
        {"bvn", "x,y\n1,2\n2,1\n3,5\n4,NA\n", {0}},
        {"three-coin", "a,b\n1,0\n0,0\n1,1\n", {0}},
        {"mixed-normal", "y\n-2\n1.5\n2.5\n-1\n", {.free_sigma = 1}},
        {"gmm", "x,y\n1,2\n2,1\n3,5\n4,3\n", {.k = 2}},
    };
    for (int i = 0; i < NMODELS; i++) {
        em_error err;
        CHECK(em_csv_read_buffer(spec[i].csv, strlen(spec[i].csv), "fixed",
                                 NULL, &tables[i], &err) == EM_OK);
        CHECK(em_model_create(em_model_find(spec[i].model), &spec[i].cfg,
                              &tables[i], &models[i], &err) == EM_OK);
    }
}

static void try_params(const em_json *doc)
{
    for (int i = 0; i < NMODELS; i++) {
        const em_model *m = &models[i];
        double theta[32];
        size_t bad;
        em_error err;
        CHECK(m->info.nparams <= 32);
        CHECK(m->type->init(m->state, 1, theta, &err) == EM_OK);
        em_status st = em_params_from_json(m, doc, "fuzz.json", theta, &err);
        if (st == EM_OK) {
            for (size_t j = 0; j < m->info.nparams; j++)
                CHECK(isfinite(theta[j]));
            CHECK(m->type->check(m->state, theta, &bad, &err) == EM_OK);
        } else {
            CHECK(st == EM_ERR_PARSE && err.status == st);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        make_models(), ready = 1;
    em_json *doc = (em_json *)1; /* must become NULL on failure */
    em_error err;
    em_status st = em_json_parse((const char *)data, size, "fuzz.json", &doc,
                                 &err);
    if (st != EM_OK) {
        CHECK(st == EM_ERR_PARSE && err.status == st && !doc);
        CHECK(err.line >= 1 && err.col >= 1);
        return 0;
    }
    walk(doc, 0);
    try_params(doc);
    em_json_free(doc);
    return 0;
}
