/* Minimal recursive-descent JSON reader (see test_json.h). */
#include "test_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser { const char *p, *end; };

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_u4(struct parser *ps, unsigned *u)
{
    *u = 0;
    if (ps->end - ps->p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int v = hexval(ps->p[i]);
        if (v < 0)
            return -1;
        *u = *u * 16 + (unsigned)v;
    }
    ps->p += 4;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses a string at ps->p (opening quote); malloc'ed result. */
static char *parse_string(struct parser *ps, size_t *len)
{
    const char *start;
    char *out, *o;

    if (ps->p >= ps->end || *ps->p != '"')
        return NULL;
    start = ++ps->p;
    /* decoded length <= raw length (a \uXXXX of 6 bytes gives <= 4) */
    while (ps->p < ps->end && *ps->p != '"') {
        if (*ps->p == '\\')
            ps->p++;
        ps->p++;
    }
    if (ps->p >= ps->end)
        return NULL;
    out = malloc((size_t)(ps->p - start) + 1);
    if (out == NULL)
        return NULL;
    ps->p = start;
    o = out;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20)
            goto bad;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        c = (unsigned char)*ps->p++;
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (read_u4(ps, &cp) != 0)
                goto bad;
            if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 &&
                ps->p[0] == '\\' && ps->p[1] == 'u') {
                ps->p += 2;
                if (read_u4(ps, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            o += put_utf8(o, cp);
            break;
        }
        default:
            goto bad;
        }
    }
    ps->p++; /* closing quote */
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
bad:
    free(out);
    return NULL;
}

static struct tjson *parse_value(struct parser *ps, int depth);

static struct tjson *parse_container(struct parser *ps, int depth, int obj)
{
    struct tjson *j = calloc(1, sizeof *j), **tail;
    char close = obj ? '}' : ']';

    if (j == NULL)
        return NULL;
    j->type = obj ? TJ_OBJ : TJ_ARR;
    tail = &j->child;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        size_t klen;
        struct tjson *v;
        skip_ws(ps);
        if (obj) {
            key = parse_string(ps, &klen);
            if (key == NULL)
                goto bad;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                goto bad;
            }
            ps->p++;
        }
        v = parse_value(ps, depth + 1);
        if (v == NULL) {
            free(key);
            goto bad;
        }
        v->key = key;
        *tail = v;
        tail = &v->next;
        j->len++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return j;
        }
        goto bad;
    }
bad:
    tjson_free(j);
    return NULL;
}

static struct tjson *parse_value(struct parser *ps, int depth)
{
    struct tjson *j;

    if (depth > MAX_DEPTH)
        return NULL;
    skip_ws(ps);
    if (ps->p >= ps->end)
        return NULL;
    if (*ps->p == '{' || *ps->p == '[')
        return parse_container(ps, depth, *ps->p == '{');
    j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    if (*ps->p == '"') {
        j->type = TJ_STR;
        j->str = parse_string(ps, &j->len);
        if (j->str == NULL)
            goto bad;
    } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
        j->type = TJ_BOOL; j->num = 1; ps->p += 4;
    } else if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
        j->type = TJ_BOOL; ps->p += 5;
    } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
        j->type = TJ_NULL; ps->p += 4;
    } else {
        char buf[64];
        size_t k = 0;
        char *endp;
        while (ps->p < ps->end && k < sizeof buf - 1 &&
               strchr("+-0123456789.eE", *ps->p) != NULL)
            buf[k++] = *ps->p++;
        buf[k] = '\0';
        if (k == 0)
            goto bad;
        j->type = TJ_NUM;
        j->num = strtod(buf, &endp);
        if (*endp != '\0')
            goto bad;
    }
    return j;
bad:
    tjson_free(j);
    return NULL;
}

struct tjson *tjson_parse(const char *text, size_t n)
{
    struct parser ps = { text, text + n };
    struct tjson *j = parse_value(&ps, 0);
    if (j == NULL)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        tjson_free(j);
        return NULL;
    }
    return j;
}

void tjson_free(struct tjson *j)
{
    while (j != NULL) {
        struct tjson *next = j->next;
        tjson_free(j->child);
        free(j->key);
        free(j->str);
        free(j);
        j = next;
    }
}

const struct tjson *tjson_get(const struct tjson *obj, const char *key)
{
    if (obj == NULL || obj->type != TJ_OBJ)
        return NULL;
    for (const struct tjson *c = obj->child; c != NULL; c = c->next)
        if (c->key != NULL && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const char *tjson_str(const struct tjson *obj, const char *key)
{
    const struct tjson *v = tjson_get(obj, key);
    return (v != NULL && v->type == TJ_STR) ? v->str : NULL;
}

char *tjson_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long sz;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)sz + 1);
        if (buf != NULL && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
            free(buf);
            buf = NULL;
        }
        if (buf != NULL) {
            buf[sz] = '\0';
            *n = (size_t)sz;
        }
    }
    fclose(f);
    return buf;
}
