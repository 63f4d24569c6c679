/* Test helper: the verifier backends to exercise in this run. All that
 * this CPU supports ("scalar", "avx2"), or only the one named by
 * TXG_ED25519_BACKEND if that is set (exit 77, "skipped", if it is not
 * supported here). Tests call txg_ed_set_backend() for each in turn. */
#ifndef TXG_TEST_BACKENDS_H
#define TXG_TEST_BACKENDS_H

#include "ed25519.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TB_MAX 2

static const char *tb_name[TB_MAX];
static size_t tb_n;

static inline void tb_init(void)
{
    static const char *const all[TB_MAX] = { "scalar", "avx2" };
    const char *env = getenv("TXG_ED25519_BACKEND");

    if (env != NULL && *env != '\0') {
        /* the variable is read at the first use: it must have taken */
        const char *cur = txg_ed_backend_name();
        if (strcmp(env, "scalar") == 0 && strcmp(cur, "scalar") != 0) {
            fprintf(stderr, "TXG_ED25519_BACKEND=scalar ignored (%s)\n", cur);
            exit(1);
        }
    }
    tb_n = 0;
    for (size_t i = 0; i < TB_MAX; i++) {
        if (env != NULL && *env != '\0' && strcmp(env, all[i]) != 0)
            continue;
        if (txg_ed_set_backend(all[i]) == 0)
            tb_name[tb_n++] = all[i];
    }
    if (tb_n == 0) {
        printf("backend %s not supported here: skipped\n", env ? env : "?");
        exit(77);
    }
    printf("backends under test:");
    for (size_t i = 0; i < tb_n; i++)
        printf(" %s", tb_name[i]);
    printf("\n");
}

static inline void tb_use(size_t i)
{
    if (txg_ed_set_backend(tb_name[i]) != 0 ||
        strcmp(txg_ed_backend_name(), tb_name[i]) != 0) {
        fprintf(stderr, "cannot select backend %s\n", tb_name[i]);
        abort();
    }
}

#endif
