/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_screen_name.c - the name normaliser and the key functions on untrusted bytes.
 *
 * The input is parsed as a name, folded as Arabic and normalised. What parses must hold to the
 * module's promises: at most TQ_SCREEN_TOKENS_MAX tokens, each NUL-terminated ASCII with keys
 * that are the keys of its own text, a normal form that parses again to the same tokens (a
 * fixed point), and a match of the name with itself scoring exactly 1. A second name is cut
 * from the input's halves to exercise the matcher on two different names (score in [0,1]).
 * The byte string is also fed to the metrics and key functions directly. Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/screen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const struct tq_screen_name *n)
{
    if (n->n == 0 || n->n > TQ_SCREEN_TOKENS_MAX)
        abort();
    for (size_t i = 0; i < n->n; i++) {
        const struct tq_screen_token *t = &n->tok[i];
        size_t len = strnlen(t->text, TQ_SCREEN_TOKEN_MAX);
        char k[TQ_SCREEN_KEY_MAX];

        if (len == 0 || len == TQ_SCREEN_TOKEN_MAX)
            abort();
        for (size_t j = 0; j < len; j++)
            if (!((t->text[j] >= 'a' && t->text[j] <= 'z') ||
                  (t->text[j] >= '0' && t->text[j] <= '9')))
                abort();
        tq_screen_skeleton(t->text, len, k);
        if (strcmp(k, t->skel) != 0)
            abort();
        tq_screen_phonetic(t->text, len, k);
        if (strcmp(k, t->phon) != 0)
            abort();
        if (t->role > TQ_SCREEN_PARTICLE)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_str in = {(const char *)data, size};
    struct tq_screen_name *a = tq_xmalloc(sizeof(*a)), *b = tq_xmalloc(sizeof(*b));
    struct tq_screen_result r;
    struct tq_buf fold;
    char key[TQ_SCREEN_KEY_MAX], sx[5];

    tq_buf_init(&fold, 1 << 16);
    tq_screen_arabic_fold(in, &fold, NULL);
    tq_buf_cleanup(&fold);
    tq_screen_skeleton(in.ptr, size < 256 ? size : 256, key);
    tq_screen_phonetic(in.ptr, size < 256 ? size : 256, key);
    tq_screen_soundex(in.ptr, size, sx);
    if (size <= 255) {
        size_t h = size / 2;

        if (tq_screen_levenshtein(in.ptr, h, in.ptr + h, size - h) > size ||
            tq_screen_damerau(in.ptr, h, in.ptr + h, size - h) > size)
            abort();
        if (tq_screen_jaro_winkler(in.ptr, h, in.ptr + h, size - h, true) > 1.0 + 1e-9)
            abort();
    }
    if (tq_screen_name_parse(in, a, NULL) == TQ_OK) {
        check_name(a);
        /* the normal form is a fixed point: parsed again, the same tokens */
        if (tq_screen_name_parse(tq_str_c(a->ascii), b, NULL) != TQ_OK || b->n != a->n)
            abort();
        for (size_t i = 0; i < a->n; i++)
            if (strcmp(a->tok[i].text, b->tok[i].text) != 0)
                abort();
        tq_screen_match_names(a, NULL, a, NULL, &r);
        if (r.score != 1.0)
            abort();
        if (size > 1 && tq_screen_name_parse((struct tq_str){in.ptr, size / 2}, b, NULL) == TQ_OK) {
            tq_screen_match_names(a, NULL, b, NULL, &r);
            if (!(r.score >= 0.0 && r.score <= 1.0))
                abort();
        }
    }
    tq_free(a);
    tq_free(b);
    return 0;
}
