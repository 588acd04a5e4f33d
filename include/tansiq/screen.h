/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/screen.h - name normalisation, comparison keys, scored matching and a candidate index
 * for Arabic and Latin personal and organisation names.
 *
 * A name is read once into a struct tq_screen_name: NFKC and case folding, Arabic orthographic
 * folding, transliteration to ASCII, then tokens with their role in an Arabic name (ism, nasab,
 * kunya, laqab, nisba) and their comparison keys (consonant skeleton, phonetic key). Two parsed
 * names are compared token by token, order-tolerant, and the score in [0,1] comes with the
 * alignment that explains it. docs/internals/screen.md gives every rule and its reason.
 *
 * Everything here is pure and thread-safe. Without ICU (TQ_HAVE_ICU=0) the functions that read
 * text return TQ_ENOTSUP; the string metrics work in every build.
 */
#ifndef TANSIQ_SCREEN_H
#define TANSIQ_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

/* ---- limits --------------------------------------------------------------------------- */

#define TQ_SCREEN_NAME_MAX_BYTES 1024 /* input name, UTF-8 bytes; longer is TQ_ETOOBIG */
#define TQ_SCREEN_TOKENS_MAX 24       /* tokens kept after particles are folded in */
#define TQ_SCREEN_TOKEN_MAX 48        /* a token's ASCII text with its NUL */
#define TQ_SCREEN_KEY_MAX 32          /* a skeleton or phonetic key with its NUL */
#define TQ_SCREEN_ASCII_MAX 512       /* the whole name's ASCII form with its NUL */

/* ---- parsed names --------------------------------------------------------------------- */

/* What part of a name a token is (docs/internals/screen.md, "Name structure"). */
enum tq_screen_role {
    TQ_SCREEN_ISM = 0,      /* the given name: the first plain token */
    TQ_SCREEN_NASAB = 1,    /* a father's or forefather's name, after bin/ibn or after the ism */
    TQ_SCREEN_KUNYA = 2,    /* the name after abu/umm ("Abu Bakr" -> "bakr") */
    TQ_SCREEN_LAQAB = 3,    /* an epithet or family name written with the article (al-Assad) */
    TQ_SCREEN_NISBA = 4,    /* an origin adjective with the article, ending in -i (al-Baghdadi) */
    TQ_SCREEN_PARTICLE = 5, /* a title (haji, sheikh), legal form (ltd, ag) or initial */
};

struct tq_screen_token {
    char text[TQ_SCREEN_TOKEN_MAX]; /* ASCII, lower case, particles folded in ("abdrahman") */
    char skel[TQ_SCREEN_KEY_MAX];   /* consonant skeleton ("mhmd" for muhammad and محمد) */
    char phon[TQ_SCREEN_KEY_MAX];   /* skeleton with look-alike consonants merged */
    uint8_t role;                   /* enum tq_screen_role */
    bool article;                   /* written with al-/el-/ad-/... (or Arabic al-) */
    bool arabic;                    /* transliterated from Arabic script */
    float weight;                   /* share of the name this token carries */
    /* Derived by tq_screen_name_parse so that comparisons need not recount them: */
    uint8_t len, skel_len, phon_len; /* strlen of text, skel and phon */
    uint64_t chars;                  /* bit (c & 63) set for each character c of text */
};

struct tq_screen_name {
    size_t n;
    struct tq_screen_token tok[TQ_SCREEN_TOKENS_MAX];
    char ascii[TQ_SCREEN_ASCII_MAX]; /* the folded, transliterated name ("abu mhmd al-julani") */
    bool has_arabic;                 /* some input was Arabic script */
    bool has_other;                  /* some input was in a script other than Latin and Arabic */
};

/*
 * Parse a name: normalise, transliterate, tokenise, classify and key it. TQ_EINVAL for an empty
 * name (nothing left once spaces and punctuation are gone), invalid UTF-8, NUL or another
 * control character (tab and line breaks count as spaces); TQ_ETOOBIG for more than
 * TQ_SCREEN_NAME_MAX_BYTES bytes, more than TQ_SCREEN_TOKENS_MAX tokens or a token longer than
 * TQ_SCREEN_TOKEN_MAX - 1 characters; TQ_ENOTSUP without ICU (plain ASCII names are still
 * read). *out is written only on TQ_OK.
 */
tq_rc tq_screen_name_parse(struct tq_str in, struct tq_screen_name *out, struct tq_err *err);

/*
 * The normal form of a name as one ASCII string (tq_screen_name_parse's ascii field): NFKC,
 * case folding, Arabic folding and transliteration, punctuation to single spaces. out_size
 * bytes at out, NUL-terminated. Same errors as tq_screen_name_parse.
 */
tq_rc tq_screen_normalise(struct tq_str in, char *out, size_t out_size, struct tq_err *err);

/*
 * Arabic orthographic folding alone, Arabic text kept as Arabic: hamza forms of alef, alef
 * wasla, alef maksura, teh marbuta, Persian yeh and kaf, tatweel, harakat, Arabic-Indic digits.
 * Appends to out (UTF-8). TQ_EINVAL for invalid UTF-8, TQ_ETOOBIG when out is full.
 */
tq_rc tq_screen_arabic_fold(struct tq_str in, struct tq_buf *out, struct tq_err *err);

/*
 * The consonant skeleton and the phonetic key of one ASCII token (lower case a-z, 0-9), as
 * stored in tq_screen_token. out holds TQ_SCREEN_KEY_MAX bytes; the key is truncated there.
 */
void tq_screen_skeleton(const char *token, size_t len, char out[TQ_SCREEN_KEY_MAX]);
void tq_screen_phonetic(const char *token, size_t len, char out[TQ_SCREEN_KEY_MAX]);

/* ---- string metrics (byte strings; the same definitions as the jellyfish library) -------- */

/* Levenshtein distance; strings longer than 255 bytes give SIZE_MAX. */
size_t tq_screen_levenshtein(const char *a, size_t la, const char *b, size_t lb);
/* Damerau-Levenshtein distance (unrestricted transpositions); > 255 bytes gives SIZE_MAX. */
size_t tq_screen_damerau(const char *a, size_t la, const char *b, size_t lb);
/* Jaro similarity and Jaro-Winkler (prefix scale 0.1, at most 4 prefix characters). With
 * long_tolerance, jellyfish's adjustment for long strings is applied. 0 beyond 255 bytes. */
double tq_screen_jaro(const char *a, size_t la, const char *b, size_t lb);
double tq_screen_jaro_winkler(const char *a, size_t la, const char *b, size_t lb,
                              bool long_tolerance);
/* American Soundex of the ASCII letters of s into out[5] ("W252"); empty when none. */
void tq_screen_soundex(const char *s, size_t len, char out[5]);

/* ---- matching ------------------------------------------------------------------------- */

/*
 * The score from which two names are reported as the same name: chosen on nomenklatura's
 * labelled pairs (docs/internals/screen.md, "Calibration").
 */
#define TQ_SCREEN_THRESHOLD 0.74

/* Optional facts about a person; zero means unknown. */
struct tq_screen_facts {
    int birth_year;  /* e.g. 1971; 0 when unknown */
    char country[3]; /* ISO 3166 alpha-2 nationality, upper case; "" when unknown */
};

/* How one token was aligned. */
enum tq_screen_how {
    TQ_SCREEN_EXACT = 0,    /* the same normal form */
    TQ_SCREEN_SKELETON = 1, /* the same consonant skeleton (vowels and doubling differ) */
    TQ_SCREEN_PHONETIC = 2, /* the same phonetic key (look-alike consonants differ) */
    TQ_SCREEN_EDIT = 3,     /* within the edit budget for its length */
    TQ_SCREEN_INITIAL = 4,  /* a single letter against a word with that initial */
    TQ_SCREEN_JOINED = 5,   /* two adjacent tokens of one side written as one on the other */
    TQ_SCREEN_MISSING = 6,  /* present on one side only (b = -1 or a = -1) */
    TQ_SCREEN_CONFLICT = 7, /* unmatched on both sides: a different name part */
};

struct tq_screen_align {
    int8_t a, b;   /* token indices in the two names; -1 for none */
    uint8_t how;   /* enum tq_screen_how */
    float sim;     /* the token similarity in [0,1] (0 for missing and conflict) */
    float penalty; /* weight lost to a missing or conflicting token */
};

struct tq_screen_result {
    double score;      /* final score in [0,1], facts included */
    double name_score; /* the names alone */
    int year_effect;   /* -1 birth years conflict, +1 agree, 0 unknown */
    int country_effect;
    size_t n_align;
    struct tq_screen_align align[2 * TQ_SCREEN_TOKENS_MAX];
};

/*
 * Compare two parsed names, with optional facts (NULL or zeroed for unknown). Cannot fail.
 * The alignment refers to token indices of a and b, which the caller keeps for explanation.
 */
void tq_screen_match_names(const struct tq_screen_name *a, const struct tq_screen_facts *fa,
                           const struct tq_screen_name *b, const struct tq_screen_facts *fb,
                           struct tq_screen_result *out);

/* Parse both names and compare them (errors as tq_screen_name_parse, for either name). */
tq_rc tq_screen_match(struct tq_str a, struct tq_str b, struct tq_screen_result *out,
                      struct tq_err *err);

/* Name of a role and of a kind of alignment ("nisba", "skeleton"). */
const char *tq_screen_role_name(enum tq_screen_role r);
const char *tq_screen_how_name(enum tq_screen_how h);

/*
 * Append a JSON explanation of r for names a and b to out:
 * {"score":..,"name_score":..,"tokens":[{"a":"julani","b":"jwlani","how":"skeleton",...}]}.
 */
tq_rc tq_screen_explain_json(const struct tq_screen_name *a, const struct tq_screen_name *b,
                             const struct tq_screen_result *r, struct tq_buf *out);

/* ---- candidate index ------------------------------------------------------------------ */

/* One name of a list entry; an entry with aliases gives several, all with its id. */
struct tq_screen_entry {
    uint64_t id;
    struct tq_str name;
    struct tq_screen_facts facts;
};

struct tq_screen_index;

/*
 * Build an in-memory index over n names (copied; the entries may go once this returns). Names
 * that do not parse are left out and counted (tq_screen_index_stats): without ICU, all but
 * the plain ASCII ones. TQ_ETOOBIG beyond 2^31 - 1 names.
 */
tq_rc tq_screen_index_build(const struct tq_screen_entry *entries, size_t n,
                            struct tq_screen_index **out, struct tq_err *err);
void tq_screen_index_free(struct tq_screen_index *idx); /* NULL is a no-op */
/* Names indexed, names left out, distinct blocking keys. */
void tq_screen_index_stats(const struct tq_screen_index *idx, size_t *names, size_t *skipped,
                           size_t *keys);

struct tq_screen_query_opts {
    struct tq_screen_facts facts; /* the query person's facts, zero when unknown */
    double min_score;             /* hits below are dropped (0 keeps all scored) */
    size_t max_candidates;        /* names fully scored; 0 means 64 */
    bool one_per_id;              /* keep each entry id's best name only */
};

struct tq_screen_hit {
    uint64_t id;         /* the entry's id */
    uint32_t name_index; /* position of the matched name in the entries given to the build */
    struct tq_str name;  /* the matched name as given (borrowed from the index) */
    double score;
    struct tq_screen_result result; /* explanation; b indices into tq_screen_index_name's name */
};

/*
 * The best hits for name, best first, at most max_hits into hits (*n_hits set). Only names
 * sharing a blocking key with the query are ever looked at, rarest keys first, and at most
 * opts->max_candidates of them are scored, so the cost does not grow with the list. opts may
 * be NULL. Errors are those of tq_screen_name_parse for the query. Thread-safe on one index.
 */
tq_rc tq_screen_query(const struct tq_screen_index *idx, struct tq_str name,
                      const struct tq_screen_query_opts *opts, struct tq_screen_hit *hits,
                      size_t max_hits, size_t *n_hits, struct tq_err *err);

/* The parsed form of the name given as entries[i] at build (for explanations); TQ_ENOTFOUND
 * when it is not in the index. */
tq_rc tq_screen_index_name(const struct tq_screen_index *idx, uint32_t i,
                           struct tq_screen_name *out, struct tq_err *err);

/* ---- keys for private set intersection ------------------------------------------------ */

#define TQ_SCREEN_PSI_KEYS_MAX 8  /* keys of one name at most */
#define TQ_SCREEN_PSI_KEY_MAX 128 /* one key with its NUL */

/*
 * The exact-match keys of a parsed name for private set intersection ("fuzzy PSI": two names
 * that should meet share at least one key; docs/internals/screen.md, "Keys for PSI"). Each key
 * is printable ASCII, deterministic and independent of the script the name was written in.
 * Up to max (at most TQ_SCREEN_PSI_KEYS_MAX) distinct keys into keys, *n set; a name with no
 * token but particles gives none. Cannot fail.
 */
void tq_screen_psi_keys(const struct tq_screen_name *name, char keys[][TQ_SCREEN_PSI_KEY_MAX],
                        size_t max, size_t *n);

#endif
