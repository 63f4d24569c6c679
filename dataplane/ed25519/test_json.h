/* Minimal JSON reader for the test-vector files: parses a whole document
 * into a tree (objects, arrays, strings, numbers, true/false/null). Test
 * code only; depth-limited, rejects malformed input. */
#ifndef TXG_ED_TEST_JSON_H
#define TXG_ED_TEST_JSON_H

#include <stddef.h>

enum tjson_type { TJ_NULL, TJ_BOOL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ };

struct tjson {
    enum tjson_type type;
    char *key;              /* member name when inside an object, else NULL */
    char *str;              /* TJ_STR: decoded UTF-8, NUL-terminated */
    size_t len;             /* TJ_STR: bytes; TJ_ARR/TJ_OBJ: children */
    double num;             /* TJ_NUM; TJ_BOOL: 0 or 1 */
    struct tjson *child;    /* first element/member */
    struct tjson *next;     /* next sibling */
};

/* Parses text[0..n); NULL on syntax error or OOM. */
struct tjson *tjson_parse(const char *text, size_t n);

/* Frees a tree from tjson_parse (NULL: no-op). */
void tjson_free(struct tjson *j);

/* Member named key of an object, or NULL. */
const struct tjson *tjson_get(const struct tjson *obj, const char *key);

/* String value of member key, or NULL if absent or not a string. */
const char *tjson_str(const struct tjson *obj, const char *key);

/* Reads a whole file into a malloc'ed buffer (*n = size); NULL on error. */
char *tjson_read_file(const char *path, size_t *n);

#endif
