/* SPDX-License-Identifier: Apache-2.0
 *
 * correl/pattern.c - the literals of a STIX pattern that name observable values.
 *
 * Not a full STIX patterning parser: a lexer for its tokens (string, timestamp, hex and binary
 * literals, object paths, operators, words) and a scan for the two comparison shapes that
 * assert a value, `<object-path> = '<literal>'` and `<object-path> IN ('<a>', '<b>', ...)`.
 * Boolean and observation operators, qualifiers and brackets only separate comparisons, so they
 * can be stepped over. Negated comparisons (`NOT =`, `!=`, `NOT IN`) do not assert that a value
 * was seen and are skipped; so are LIKE, MATCHES and every path without a kind. Work is linear
 * in the pattern, which is at most TQ_CORREL_PATTERN_MAX bytes.
 */
#include <string.h>
#include <strings.h>

#include "correl/correl.h"

#define PATH_TEXT_MAX 256
#define LITERAL_MAX TQ_CORREL_INPUT_MAX

enum tok_kind {
    T_END,
    T_PATH, /* text: the path with quotes removed and list indexes written [*] */
    T_STR,  /* text: the decoded literal */
    T_EQ,   /* = */
    T_WORD, /* text: a keyword or number */
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OTHER, /* anything else: brackets, other operators, typed literals, stray bytes */
};

struct tok {
    enum tok_kind kind;
    bool bad; /* too long or malformed: never emitted */
    size_t len;
    char text[LITERAL_MAX + 1];
};

struct lexer {
    const char *p;
    size_t len, pos;
};

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void tok_put(struct tok *t, const char *s, size_t n, size_t cap)
{
    if (t->len + n > cap) {
        t->bad = true;
        return;
    }
    memcpy(t->text + t->len, s, n);
    t->len += n;
}

/* A quoted string at lx->pos (the opening quote); false when it is not terminated. */
static bool read_string(struct lexer *lx, struct tok *t, size_t cap)
{
    lx->pos++;
    while (lx->pos < lx->len) {
        char c = lx->p[lx->pos++];

        if (c == '\'')
            return true;
        if (c == '\\') {
            if (lx->pos == lx->len)
                return false;
            c = lx->p[lx->pos++];
            if (c != '\'' && c != '\\')
                t->bad = true; /* the only escapes STIX string literals have */
        }
        tok_put(t, &c, 1, cap);
    }
    return false;
}

static void read_ident(struct lexer *lx, struct tok *t)
{
    size_t start = lx->pos;

    while (lx->pos < lx->len && ident_char(lx->p[lx->pos]))
        lx->pos++;
    tok_put(t, lx->p + start, lx->pos - start, PATH_TEXT_MAX);
}

/*
 * The rest of an object path after "<type>:": a property name, then any number of
 * `.name`, `.'quoted name'`, `[n]` and `[*]` steps.
 */
static bool read_path(struct lexer *lx, struct tok *t)
{
    size_t before = t->len;

    read_ident(lx, t);
    if (t->len == before)
        return false;
    for (;;) {
        if (lx->pos + 1 < lx->len && lx->p[lx->pos] == '.') {
            struct tok q = {.kind = T_STR};

            lx->pos++;
            tok_put(t, ".", 1, PATH_TEXT_MAX);
            if (lx->p[lx->pos] == '\'') {
                if (!read_string(lx, &q, PATH_TEXT_MAX))
                    return false;
                t->bad |= q.bad;
                tok_put(t, q.text, q.len, PATH_TEXT_MAX);
            } else {
                before = t->len;
                read_ident(lx, t);
                if (t->len == before)
                    return false;
            }
        } else if (lx->pos < lx->len && lx->p[lx->pos] == '[') {
            size_t k = lx->pos + 1;

            if (k < lx->len && lx->p[k] == '*') {
                k++;
            } else {
                while (k < lx->len && lx->p[k] >= '0' && lx->p[k] <= '9')
                    k++;
                if (k == lx->pos + 1)
                    return true; /* not an index: the path ends here */
            }
            if (k >= lx->len || lx->p[k] != ']')
                return true;
            lx->pos = k + 1;
            tok_put(t, "[*]", 3, PATH_TEXT_MAX);
        } else {
            return true;
        }
    }
}

static void lex(struct lexer *lx, struct tok *t)
{
    char c;

    t->kind = T_END;
    t->bad = false;
    t->len = 0;
    while (lx->pos < lx->len && (lx->p[lx->pos] == ' ' || lx->p[lx->pos] == '\t' ||
                                 lx->p[lx->pos] == '\r' || lx->p[lx->pos] == '\n'))
        lx->pos++;
    if (lx->pos >= lx->len)
        return;
    c = lx->p[lx->pos];
    if (c == '\'') {
        t->kind = read_string(lx, t, LITERAL_MAX) ? T_STR : T_END;
    } else if ((c == 't' || c == 'h' || c == 'b') && lx->pos + 1 < lx->len &&
               lx->p[lx->pos + 1] == '\'') {
        lx->pos++;
        t->kind = read_string(lx, t, LITERAL_MAX) ? T_OTHER : T_END;
    } else if (c == '(' || c == ')' || c == ',') {
        t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        lx->pos++;
    } else if (c == '=') {
        t->kind = T_EQ;
        lx->pos++;
    } else if (ident_char(c)) {
        read_ident(lx, t);
        t->kind = T_WORD;
        if (lx->pos < lx->len && lx->p[lx->pos] == ':') {
            lx->pos++;
            tok_put(t, ":", 1, PATH_TEXT_MAX);
            t->kind = read_path(lx, t) ? T_PATH : T_OTHER;
        }
    } else {
        t->kind = T_OTHER;
        lx->pos++;
    }
    t->text[t->len] = '\0';
}

/* ---- paths ----------------------------------------------------------------------------- */

struct path_kinds {
    const char *path;
    enum tq_correl_kind kinds[2];
    size_t n;
};

static const struct path_kinds path_table[] = {
    {"ipv4-addr:value", {TQ_CORREL_IPV4}, 1},
    {"ipv6-addr:value", {TQ_CORREL_IPV6}, 1},
    {"email-addr:value", {TQ_CORREL_EMAIL}, 1},
    {"domain-name:value", {TQ_CORREL_DOMAIN}, 1},
    {"phone-number:value", {TQ_CORREL_PHONE}, 1},
    {"vehicle-plate:value", {TQ_CORREL_PLATE}, 1},
    {"cryptocurrency-wallet:value", {TQ_CORREL_WALLET}, 1},
    {"cryptocurrency-wallet:address", {TQ_CORREL_WALLET}, 1},
    {"email-message:from_ref.value", {TQ_CORREL_EMAIL}, 1},
    {"email-message:sender_ref.value", {TQ_CORREL_EMAIL}, 1},
    {"email-message:to_refs[*].value", {TQ_CORREL_EMAIL}, 1},
    {"email-message:cc_refs[*].value", {TQ_CORREL_EMAIL}, 1},
    {"email-message:bcc_refs[*].value", {TQ_CORREL_EMAIL}, 1},
    {"network-traffic:src_ref.value", {TQ_CORREL_IPV4, TQ_CORREL_IPV6}, 2},
    {"network-traffic:dst_ref.value", {TQ_CORREL_IPV4, TQ_CORREL_IPV6}, 2},
    {"domain-name:resolves_to_refs[*].value", {TQ_CORREL_IPV4, TQ_CORREL_IPV6}, 2},
};

static bool path_kind(const char *path, size_t len, const enum tq_correl_kind **kinds, size_t *n)
{
    static const enum tq_correl_kind wallet = TQ_CORREL_WALLET;
    static const enum tq_correl_kind hash_kinds[] = {
        [TQ_CORREL_MD5] = TQ_CORREL_MD5,
        [TQ_CORREL_SHA1] = TQ_CORREL_SHA1,
        [TQ_CORREL_SHA256] = TQ_CORREL_SHA256,
        [TQ_CORREL_SHA512] = TQ_CORREL_SHA512,
    };
    enum tq_correl_kind hk;

    for (size_t i = 0; i < sizeof(path_table) / sizeof(path_table[0]); i++)
        if (strcmp(path, path_table[i].path) == 0) {
            *kinds = path_table[i].kinds;
            *n = path_table[i].n;
            return true;
        }
    if (strncmp(path, "file:hashes.", 12) == 0 || strncmp(path, "artifact:hashes.", 16) == 0) {
        const char *name = strchr(path, '.') + 1;

        if (!tq__correl_hash_kind(name, len - (size_t)(name - path), &hk))
            return false;
        *kinds = &hash_kinds[hk];
        *n = 1;
        return true;
    }
    /* Custom wallet objects: x-<anything>:value or :address, kept only when a wallet. */
    if (strncmp(path, "x-", 2) == 0) {
        const char *colon = strchr(path, ':');

        if (colon && (strcmp(colon, ":value") == 0 || strcmp(colon, ":address") == 0)) {
            *kinds = &wallet;
            *n = 1;
            return true;
        }
    }
    return false;
}

void tq__correl_pattern_scan(const char *p, size_t len, tq__correl_emit_cb emit, void *ctx)
{
    struct lexer lx = {.p = p, .len = len};
    struct tok *t, *u;
    const enum tq_correl_kind *kinds;
    size_t n_kinds;

    if (!p || len > TQ_CORREL_PATTERN_MAX)
        return;
    t = tq_xmalloc(sizeof(*t));
    u = tq_xmalloc(sizeof(*u));
    lex(&lx, t);
    while (t->kind != T_END) {
        struct tok *swap;

        if (t->kind != T_PATH || t->bad || !path_kind(t->text, t->len, &kinds, &n_kinds)) {
            lex(&lx, t);
            continue;
        }
        lex(&lx, u);
        if (u->kind == T_EQ) {
            lex(&lx, u);
            if (u->kind == T_STR && !u->bad)
                emit(ctx, kinds, n_kinds, u->text, u->len);
            lex(&lx, t);
            continue;
        }
        if (u->kind == T_WORD && strcasecmp(u->text, "IN") == 0) {
            lex(&lx, u);
            if (u->kind != T_LPAREN)
                goto next;
            for (;;) {
                lex(&lx, u);
                if (u->kind != T_STR)
                    goto next;
                if (!u->bad)
                    emit(ctx, kinds, n_kinds, u->text, u->len);
                lex(&lx, u);
                if (u->kind != T_COMMA)
                    goto next;
            }
        }
    next:
        /* u was not part of this comparison: read it again as the next token. */
        swap = t;
        t = u;
        u = swap;
    }
    tq_free(t);
    tq_free(u);
}
