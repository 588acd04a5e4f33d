/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_correl.c - observables and their normal forms.
 *
 * For each kind, many spellings of one value must normalise to the same text and near misses
 * (one digit off, wrong country, wrong length, bad checksums, CIDR blocks) must not meet it.
 * Extraction is checked on every object form it reads, patterns included, and on its limits.
 * A property test formats random valid phone numbers every way it can and expects one E.164
 * value for all (the seed is printed). Published checksum vectors (BIP-173, BIP-350, EIP-55,
 * Base58Check) are written out here, so nothing is read from TANSIQ_TESTDATA.
 * Run one test by name with the first argument, e.g. `build/tests/test_correl phones`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tansiq/correl.h"
#include "correl/correl.h"
#include "tansiq/json.h"

#define NBSP "\xc2\xa0" /* U+00A0 */

static const struct tq_correl_options opt_sy = {.default_region = "SY"};
static const struct tq_correl_options opt_iq = {.default_region = "IQ"};
static const struct tq_correl_options opt_jo = {.default_region = "JO"};

/* in must normalise as kind k to want (with out->kind == want_kind). */
static void check_norm_kind(enum tq_correl_kind k, const char *in,
                            const struct tq_correl_options *o, enum tq_correl_kind want_kind,
                            const char *want)
{
    struct tq_correl_value v;

    if (!tq_correl_normalise(k, in, strlen(in), o, &v))
        fail_msg("%s '%s' refused, expected '%s'", tq_correl_kind_name(k), in, want);
    if (v.kind != want_kind || strcmp(v.value, want) != 0)
        fail_msg("%s '%s' gave %s '%s', expected '%s'", tq_correl_kind_name(k), in,
                 tq_correl_kind_name(v.kind), v.value, want);
}

static void check_norm(enum tq_correl_kind k, const char *in, const struct tq_correl_options *o,
                       const char *want)
{
    check_norm_kind(k, in, o, k, want);
}

/* in must be refused as kind k, and *out left untouched. */
static void check_refused(enum tq_correl_kind k, const char *in, const struct tq_correl_options *o)
{
    struct tq_correl_value v;

    memset(&v, 0x5a, sizeof(v));
    if (tq_correl_normalise(k, in, strlen(in), o, &v))
        fail_msg("%s '%s' accepted as '%s'", tq_correl_kind_name(k), in, v.value);
    assert_int_equal(((unsigned char *)&v)[0], 0x5a);
}

/* ---- kinds ----------------------------------------------------------------------------- */

static void kinds(void **state)
{
    enum tq_correl_kind k;

    (void)state;
    for (int i = TQ_CORREL_PHONE; i <= TQ_CORREL_NAME; i++) {
        const char *name = tq_correl_kind_name((enum tq_correl_kind)i);

        assert_non_null(name);
        assert_true(tq_correl_kind_parse(name, &k));
        assert_int_equal(k, i);
    }
    assert_string_equal(tq_correl_kind_name(TQ_CORREL_SHA256), "sha256");
    assert_null(tq_correl_kind_name((enum tq_correl_kind)0));
    assert_null(tq_correl_kind_name((enum tq_correl_kind)99));
    assert_false(tq_correl_kind_parse("Phone", &k));
    assert_false(tq_correl_kind_parse("", &k));
    assert_false(tq_correl_kind_parse(NULL, &k));
}

/* ---- phone ----------------------------------------------------------------------------- */

static void phones(void **state)
{
    static const char *const sy[] = {
        "+963 944 123 456",
        "+963944123456",
        "00963944123456",
        "00 963 944 123 456",
        "0944123456",
        "0944 123 456",
        "(0944) 123-456",
        "0944.123.456",
        "+963-944-123-456",
        "+963 (0)944 123 456",
        "\xd9\xa0\xd9\xa9\xd9\xa4\xd9\xa4\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6",
        "+\xdb\xb9\xdb\xb6\xdb\xb3\xdb\xb9\xdb\xb4\xdb\xb4\xdb\xb1\xdb\xb2\xdb\xb3\xdb\xb4\xdb\xb5"
        "\xdb\xb6",
        "\xe2\x80\x8e+963 944 123 456\xe2\x80\x8f",
        "  +963" NBSP "944" NBSP "123" NBSP "456  ",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(sy) / sizeof(sy[0]); i++)
        check_norm(TQ_CORREL_PHONE, sy[i], &opt_sy, "+963944123456");
    /* International forms need no region. */
    check_norm(TQ_CORREL_PHONE, "+963 944 123 456", NULL, "+963944123456");
    check_norm(TQ_CORREL_PHONE, "00963944123456", NULL, "+963944123456");
    /* Iraq mobiles and Baghdad landlines; Jordan mobiles and landlines. */
    check_norm(TQ_CORREL_PHONE, "0770 123 4567", &opt_iq, "+9647701234567");
    check_norm(TQ_CORREL_PHONE, "+964 770 123 4567", &opt_sy, "+9647701234567");
    check_norm(TQ_CORREL_PHONE, "+964 (0) 770 123 4567", NULL, "+9647701234567");
    check_norm(TQ_CORREL_PHONE, "01 717 1234", &opt_iq, "+96417171234");
    check_norm(TQ_CORREL_PHONE, "07 9123 4567", &opt_jo, "+962791234567");
    check_norm(TQ_CORREL_PHONE, "06 555 1234", &opt_jo, "+96265551234");
    check_norm(TQ_CORREL_PHONE, "0944123456", &(struct tq_correl_options){"sy"}, "+963944123456");
    /* Codes without a length rule get the E.164 bounds; a Thuraya satellite phone. */
    check_norm(TQ_CORREL_PHONE, "+882 16 1234 5678", NULL, "+8821612345678");
    check_norm(TQ_CORREL_PHONE, "+1 (202) 555-0143", NULL, "+12025550143");

    /* Near misses: they normalise, but never to the value above. */
    check_norm(TQ_CORREL_PHONE, "+963 944 123 457", NULL, "+963944123457");
    check_norm(TQ_CORREL_PHONE, "0944123456", &opt_iq, "+964944123456");

    /* Refused: length, junk, no country, unknown country, misplaced '+'. */
    check_refused(TQ_CORREL_PHONE, "+963 944 123 45", NULL);
    check_refused(TQ_CORREL_PHONE, "+963 944 123 4567", NULL);
    check_refused(TQ_CORREL_PHONE, "+964 770 123 456", NULL);
    check_refused(TQ_CORREL_PHONE, "+964 770 123 45678", NULL);
    check_refused(TQ_CORREL_PHONE, "07 9123 456", &opt_jo);
    check_refused(TQ_CORREL_PHONE, "+1 202 555 0143 1234 5", NULL);
    check_refused(TQ_CORREL_PHONE, "+4412345678901234", NULL);
    check_refused(TQ_CORREL_PHONE, "0944123456", NULL);
    check_refused(TQ_CORREL_PHONE, "0944123456", &(struct tq_correl_options){"XX"});
    check_refused(TQ_CORREL_PHONE, "944123456", &opt_sy);
    check_refused(TQ_CORREL_PHONE, "963944123456", NULL);
    check_refused(TQ_CORREL_PHONE, "+999 123 456 789", NULL);
    check_refused(TQ_CORREL_PHONE, "+963 944 abc 456", NULL);
    check_refused(TQ_CORREL_PHONE, "+963 944 123 456 ext 12", NULL);
    check_refused(TQ_CORREL_PHONE, "++963944123456", NULL);
    check_refused(TQ_CORREL_PHONE, "963+944123456", NULL);
    check_refused(TQ_CORREL_PHONE, "+963#944123456", NULL);
    check_refused(TQ_CORREL_PHONE, "+", NULL);
    check_refused(TQ_CORREL_PHONE, "", NULL);
    check_refused(TQ_CORREL_PHONE, "   ", NULL);
    check_refused(TQ_CORREL_PHONE, "+963 944\xff 123 456", NULL);
    check_refused(TQ_CORREL_PHONE, "0000", &opt_sy);
}

/* A small fixed-seed generator, so that a failure can be replayed. */
static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

/* Append digits of s in ASCII, Arabic-Indic or Persian form, with random separators. */
static void fmt_digits(char *out, size_t cap, const char *s, int script, bool separate)
{
    static const char *const seps[] = {" ", "-", ".", "\xc2\xa0", "\xe2\x80\x8f"};
    size_t n = strlen(out);

    for (size_t i = 0; s[i]; i++) {
        if (separate && i > 0 && rnd(3) == 0) {
            const char *sep = seps[rnd(5)];

            assert_true(n + strlen(sep) < cap);
            memcpy(out + n, sep, strlen(sep));
            n += strlen(sep);
        }
        assert_true(n + 3 < cap);
        if (script == 0) {
            out[n++] = s[i];
        } else {
            out[n++] = script == 1 ? '\xd9' : '\xdb';
            out[n++] = (char)((script == 1 ? 0xa0 : 0xb0) + (s[i] - '0'));
        }
    }
    out[n] = '\0';
}

static void phone_property(void **state)
{
    static const struct {
        const char *cc, *region;
        char first;
        size_t len;
    } plans[] = {{"964", "IQ", '7', 10}, {"963", "SY", '9', 9}, {"962", "JO", '7', 9}};
    uint64_t seed = 20240611;
    size_t forms = 0;

    (void)state;
    rng_state = seed;
    for (int iter = 0; iter < 300; iter++) {
        const unsigned p = rnd(3);
        const struct tq_correl_options o = {.default_region = plans[p].region};
        char nsn[16], want[24], text[256];
        struct tq_correl_value v;

        nsn[0] = plans[p].first;
        for (size_t i = 1; i < plans[p].len; i++)
            nsn[i] = (char)('0' + rnd(10));
        nsn[plans[p].len] = '\0';
        snprintf(want, sizeof(want), "+%s%s", plans[p].cc, nsn);
        for (int form = 0; form < 8; form++) {
            const int script = (int)rnd(3);
            char national[20];

            text[0] = '\0';
            snprintf(national, sizeof(national), "0%s", nsn);
            switch (form) {
            case 0: /* +cc nsn */
                strcpy(text, "+");
                fmt_digits(text, sizeof(text), plans[p].cc, script, false);
                strcat(text, " ");
                fmt_digits(text, sizeof(text), nsn, script, true);
                break;
            case 1: /* 00 cc nsn */
                fmt_digits(text, sizeof(text), "00", script, false);
                fmt_digits(text, sizeof(text), plans[p].cc, script, true);
                fmt_digits(text, sizeof(text), nsn, script, true);
                break;
            case 2: /* national with the trunk 0 */
                fmt_digits(text, sizeof(text), national, script, true);
                break;
            case 3: /* (0xxx) xxx-xxx */
                strcpy(text, "(");
                memcpy(national + 20 - 20, national, 0);
                {
                    char head[8], tail[16];

                    memcpy(head, national, 4);
                    head[4] = '\0';
                    snprintf(tail, sizeof(tail), "%s", national + 4);
                    fmt_digits(text, sizeof(text), head, script, false);
                    strcat(text, ") ");
                    fmt_digits(text, sizeof(text), tail, script, false);
                }
                break;
            case 4: /* +cc (0) nsn */
                strcpy(text, "+");
                fmt_digits(text, sizeof(text), plans[p].cc, script, false);
                strcat(text, " (0) ");
                fmt_digits(text, sizeof(text), nsn, script, true);
                break;
            case 5: /* direction marks around, as right-to-left text writes it */
                strcpy(text, "\xe2\x80\x8f+");
                fmt_digits(text, sizeof(text), plans[p].cc, script, true);
                fmt_digits(text, sizeof(text), nsn, script, true);
                strcat(text, "\xe2\x80\x8e");
                break;
            case 6: /* dashes and spaces around */
                strcpy(text, "  +");
                fmt_digits(text, sizeof(text), plans[p].cc, script, false);
                strcat(text, "-");
                fmt_digits(text, sizeof(text), nsn, script, true);
                strcat(text, " \t");
                break;
            default: /* the answer itself */
                strcpy(text, want);
                break;
            }
            if (!tq_correl_normalise(TQ_CORREL_PHONE, text, strlen(text), &o, &v) ||
                strcmp(v.value, want) != 0)
                fail_msg("seed %llu iter %d form %d: '%s' gave '%s', expected '%s'",
                         (unsigned long long)seed, iter, form, text, v.value, want);
            /* normalise_any reads it the same way */
            if (!tq_correl_normalise_any(text, strlen(text), &o, &v) || v.kind != TQ_CORREL_PHONE ||
                strcmp(v.value, want) != 0)
                fail_msg("seed %llu iter %d form %d: any('%s') differs", (unsigned long long)seed,
                         iter, form, text);
            forms++;
        }
        /* One digit off never meets it. */
        {
            char off[24];

            snprintf(off, sizeof(off), "%s", want);
            off[strlen(off) - 1] = off[strlen(off) - 1] == '9' ? '0' : off[strlen(off) - 1] + 1;
            assert_true(tq_correl_normalise(TQ_CORREL_PHONE, off, strlen(off), NULL, &v));
            assert_string_not_equal(v.value, want);
        }
    }
    print_message("phone property: seed %llu, %zu formatted numbers\n", (unsigned long long)seed,
                  forms);
}

/* ---- plate ----------------------------------------------------------------------------- */

/* Arabic letters as UTF-8, so that the cases below read as plates. */
#define AR_BEH "\xd8\xa8"
#define AR_KAF "\xd9\x83"
#define AR_YEH "\xd9\x8a"
#define AR_ALEF_HAMZA "\xd8\xa3"

static void plates(void **state)
{
    static const struct {
        const char *in, *want;
    } same[] = {
        {"12345 BGD", "12345BGD"},
        {"12345-bgd", "12345BGD"},
        {" 12 345 . b g d ", "12345BGD"},
        {"\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5 bgd", "12345BGD"},
        {"\xdb\xb1\xdb\xb2\xdb\xb3\xdb\xb4\xdb\xb5/BGD", "12345BGD"},
        /* Arabic letters stay letters; direction marks, tatweel and spaces go. */
        {AR_BEH " 12345", AR_BEH "12345"},
        {"\xe2\x80\x8f" AR_BEH "\xd9\x80 - 12345", AR_BEH "12345"},
        /* Persian keheh and Farsi yeh read as kaf and yeh. */
        {"\xda\xa9 123", AR_KAF "123"},
        {"\xdb\x8c 123", AR_YEH "123"},
        /* Decomposed alef + hamza above composes (NFC) to U+0623. */
        {"\xd8\xa7\xd9\x94 777", AR_ALEF_HAMZA "777"},
        {AR_ALEF_HAMZA " 777", AR_ALEF_HAMZA "777"},
        /* A country prefix is kept, upper-cased. */
        {"iq:12345 bgd", "IQ:12345BGD"},
        {"12345", "12345"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        check_norm(TQ_CORREL_PLATE, same[i].in, NULL, same[i].want);

    /* Near misses and junk. */
    check_norm(TQ_CORREL_PLATE, "12346 BGD", NULL, "12346BGD");
    check_refused(TQ_CORREL_PLATE, "BGD", NULL);
    check_refused(TQ_CORREL_PLATE, "12345 BGD!", NULL);
    check_refused(TQ_CORREL_PLATE, "12345 \xe2\x82\xac", NULL);
    check_refused(TQ_CORREL_PLATE, "1234567890ABCDEFG", NULL);
    check_refused(TQ_CORREL_PLATE, "\xd9\x94 123", NULL);
    check_refused(TQ_CORREL_PLATE, " - ", NULL);
    check_refused(TQ_CORREL_PLATE, "IQ:", NULL);
}

/* ---- wallet ---------------------------------------------------------------------------- */

static void check_keccak(const char *in, const char *want_hex)
{
    uint8_t h[32];
    char hex[65];

    tq__correl_keccak256(in, strlen(in), h);
    tq_hex_encode(h, sizeof(h), hex);
    assert_string_equal(hex, want_hex);
}

static void keccak(void **state)
{
    char block[200];

    (void)state;
    check_keccak("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    check_keccak("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    /* 135, 136 and 137 bytes: the padding at, on and past the rate boundary. */
    memset(block, 'a', sizeof(block));
    for (size_t n = 135; n <= 137; n++) {
        uint8_t h1[32], h2[32];

        block[n] = '\0';
        tq__correl_keccak256(block, n, h1);
        tq__correl_keccak256(block, n, h2);
        assert_memory_equal(h1, h2, 32);
        block[n] = 'a';
    }
}

static void wallets(void **state)
{
    (void)state;
    /* Base58Check: the genesis address, a BIP-13 P2SH address, Tron's USDT contract. */
    check_norm(TQ_CORREL_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", NULL,
               "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    check_norm(TQ_CORREL_WALLET, " 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy ", NULL,
               "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy");
    check_norm(TQ_CORREL_WALLET, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", NULL,
               "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    check_refused(TQ_CORREL_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", NULL);
    check_refused(TQ_CORREL_WALLET, "1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", NULL);
    check_refused(TQ_CORREL_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN", NULL);
    check_refused(TQ_CORREL_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na", NULL);
    check_refused(TQ_CORREL_WALLET, "11111111111111111111111111111111", NULL);

    /* BIP-173 (bech32, witness v0) and BIP-350 (bech32m, v1) vectors. */
    check_norm(TQ_CORREL_WALLET, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", NULL,
               "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    check_norm(TQ_CORREL_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", NULL,
               "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    check_norm(TQ_CORREL_WALLET, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
               NULL, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
    check_refused(TQ_CORREL_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", NULL);
    check_refused(TQ_CORREL_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3T4", NULL);
    check_refused(TQ_CORREL_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", NULL);
    check_refused(TQ_CORREL_WALLET, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", NULL);
    check_norm(TQ_CORREL_WALLET, "BC1SW50QGDZ25J", NULL, "bc1sw50qgdz25j");
    check_norm(TQ_CORREL_WALLET, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", NULL,
               "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs");
    check_refused(TQ_CORREL_WALLET, "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", NULL);

    /* Ethereum: EIP-55 examples, all-lower and all-upper forms meet the checksummed one. */
    check_norm(TQ_CORREL_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", NULL,
               "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    check_norm(TQ_CORREL_WALLET, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", NULL,
               "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    check_norm(TQ_CORREL_WALLET, "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", NULL,
               "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    check_norm(TQ_CORREL_WALLET, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", NULL,
               "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359");
    check_norm(TQ_CORREL_WALLET, "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", NULL,
               "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb");
    check_norm(TQ_CORREL_WALLET, "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", NULL,
               "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb");
    check_refused(TQ_CORREL_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", NULL);
    check_refused(TQ_CORREL_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", NULL);
    check_refused(TQ_CORREL_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", NULL);
    check_refused(TQ_CORREL_WALLET, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", NULL);
    check_refused(TQ_CORREL_WALLET, "hello", NULL);
}

/* ---- e-mail, IP, domain, hashes, names -------------------------------------------------- */

static void emails(void **state)
{
    static const char *const same[] = {
        "ali.hassan@example.com",        " Ali.Hassan@Example.COM ",
        "mailto:ali.hassan@example.com", "MAILTO:Ali.Hassan@example.com?subject=hi",
        "<ali.hassan@example.com>",      "ali.hassan@example.com.",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        check_norm(TQ_CORREL_EMAIL, same[i], NULL, "ali.hassan@example.com");
    check_norm(TQ_CORREL_EMAIL, "o'brien+tag@mail.example.iq", NULL, "o'brien+tag@mail.example.iq");
    check_norm(TQ_CORREL_EMAIL, "\xd8\xb9\xd9\x84\xd9\x8a@example.com", NULL,
               "\xd8\xb9\xd9\x84\xd9\x8a@example.com");
    check_norm(TQ_CORREL_EMAIL, "ali.hassan@example.co", NULL, "ali.hassan@example.co");
    check_refused(TQ_CORREL_EMAIL, "ali@hassan@example.com", NULL);
    check_refused(TQ_CORREL_EMAIL, "ali@localhost", NULL);
    check_refused(TQ_CORREL_EMAIL, "@example.com", NULL);
    check_refused(TQ_CORREL_EMAIL, "ali@", NULL);
    check_refused(TQ_CORREL_EMAIL, "ali..hassan@example.com", NULL);
    check_refused(TQ_CORREL_EMAIL, ".ali@example.com", NULL);
    check_refused(TQ_CORREL_EMAIL, "ali hassan@example.com", NULL);
    check_refused(TQ_CORREL_EMAIL, "\"ali\"@example.com", NULL);
    check_refused(TQ_CORREL_EMAIL, "ali@exa_mple.com", NULL);
    check_refused(TQ_CORREL_EMAIL, "ali@10.0.0.1", NULL);
    check_refused(TQ_CORREL_EMAIL,
                  "a123456789012345678901234567890123456789012345678901234567890123456789@x.com",
                  NULL);
}

static void addresses(void **state)
{
    (void)state;
    check_norm(TQ_CORREL_IPV4, "192.0.2.1", NULL, "192.0.2.1");
    check_norm(TQ_CORREL_IPV4, " 192.0.2.1/32 ", NULL, "192.0.2.1");
    check_refused(TQ_CORREL_IPV4, "192.0.2.0/24", NULL);
    check_refused(TQ_CORREL_IPV4, "192.0.2.1/032", NULL);
    check_refused(TQ_CORREL_IPV4, "192.0.2.1/", NULL);
    check_refused(TQ_CORREL_IPV4, "192.0.2.01", NULL);
    check_refused(TQ_CORREL_IPV4, "192.0.2", NULL);
    check_refused(TQ_CORREL_IPV4, "192.0.2.256", NULL);
    check_refused(TQ_CORREL_IPV4, "2001:db8::1", NULL);
    check_norm(TQ_CORREL_IPV4, "192.0.2.2", NULL, "192.0.2.2"); /* one off: another value */

    check_norm(TQ_CORREL_IPV6, "2001:db8::1", NULL, "2001:db8::1");
    check_norm(TQ_CORREL_IPV6, "2001:DB8:0:0:0:0:0:1", NULL, "2001:db8::1");
    check_norm(TQ_CORREL_IPV6, "2001:0db8:0000::0001/128", NULL, "2001:db8::1");
    check_norm_kind(TQ_CORREL_IPV6, "::ffff:192.0.2.1", NULL, TQ_CORREL_IPV4, "192.0.2.1");
    check_norm_kind(TQ_CORREL_IPV6, "::FFFF:c000:0201", NULL, TQ_CORREL_IPV4, "192.0.2.1");
    check_refused(TQ_CORREL_IPV6, "2001:db8::/32", NULL);
    check_refused(TQ_CORREL_IPV6, "2001:db8::1/64", NULL);
    check_refused(TQ_CORREL_IPV6, "fe80::1%eth0", NULL);
    check_refused(TQ_CORREL_IPV6, "2001:db8:::1", NULL);
    check_refused(TQ_CORREL_IPV6, "192.0.2.1", NULL);
}

static void domains(void **state)
{
    (void)state;
    check_norm(TQ_CORREL_DOMAIN, "Example.COM.", NULL, "example.com");
    check_norm(TQ_CORREL_DOMAIN, "  mail.example.iq ", NULL, "mail.example.iq");
    check_norm(TQ_CORREL_DOMAIN, "xn--mgbh0fb.xn--kgbechtv", NULL, "xn--mgbh0fb.xn--kgbechtv");
    check_norm(TQ_CORREL_DOMAIN, "a-b.c0m", NULL, "a-b.c0m");
    check_refused(TQ_CORREL_DOMAIN, "localhost", NULL);
    check_refused(TQ_CORREL_DOMAIN, "-bad.com", NULL);
    check_refused(TQ_CORREL_DOMAIN, "bad-.com", NULL);
    check_refused(TQ_CORREL_DOMAIN, "a..b.com", NULL);
    check_refused(TQ_CORREL_DOMAIN, ".example.com", NULL);
    check_refused(TQ_CORREL_DOMAIN, "example.com..", NULL);
    check_refused(TQ_CORREL_DOMAIN, "exa mple.com", NULL);
    check_refused(TQ_CORREL_DOMAIN, "\xd9\x85\xd8\xab\xd8\xa7\xd9\x84.com", NULL);
    check_refused(TQ_CORREL_DOMAIN, "10.0.0.1", NULL);
    check_refused(TQ_CORREL_DOMAIN,
                  "a1234567890123456789012345678901234567890123456789012345678901234.com", NULL);
}

static void hashes(void **state)
{
    (void)state;
    check_norm(TQ_CORREL_MD5, "D41D8CD98F00B204E9800998ECF8427E", NULL,
               "d41d8cd98f00b204e9800998ecf8427e");
    check_norm(TQ_CORREL_SHA1, " da39a3ee5e6b4b0d3255bfef95601890afd80709 ", NULL,
               "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check_norm(TQ_CORREL_SHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
               NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_norm(TQ_CORREL_SHA512,
               "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff"
               "8318d2877eec2f63b931bd47417a81a538327af927da3e",
               NULL,
               "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff"
               "8318d2877eec2f63b931bd47417a81a538327af927da3e");
    check_refused(TQ_CORREL_MD5, "d41d8cd98f00b204e9800998ecf8427", NULL);
    check_refused(TQ_CORREL_MD5, "d41d8cd98f00b204e9800998ecf8427e0", NULL);
    check_refused(TQ_CORREL_MD5, "d41d8cd98f00b204e9800998ecf8427g", NULL);
    check_refused(TQ_CORREL_SHA1, "d41d8cd98f00b204e9800998ecf8427e", NULL);
    check_refused(TQ_CORREL_SHA256, "da39a3ee5e6b4b0d3255bfef95601890afd80709", NULL);
    check_refused(TQ_CORREL_SHA512,
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL);
}

static void names(void **state)
{
    char long_name[400];

    (void)state;
    check_norm(TQ_CORREL_NAME, "  Abu   Bakr\tAL-Baghdadi ", NULL, "abu bakr al-baghdadi");
    check_norm(TQ_CORREL_NAME, "abu bakr al-baghdadi", NULL, "abu bakr al-baghdadi");
    check_norm(TQ_CORREL_NAME,
               "\xd8\xa3\xd8\xa8\xd9\x88 \xc2\xa0\xd8\xa8\xd9\x83\xd8\xb1\xe2\x80\x8f", NULL,
               "\xd8\xa3\xd8\xa8\xd9\x88 \xd8\xa8\xd9\x83\xd8\xb1");
    /* Arabic letter variants are not folded yet: these stay apart (name screening's job). */
    check_norm(TQ_CORREL_NAME, "\xd8\xa7\xd8\xa8\xd9\x88", NULL, "\xd8\xa7\xd8\xa8\xd9\x88");
    check_refused(TQ_CORREL_NAME, "   ", NULL);
    check_refused(TQ_CORREL_NAME, "abu\x01 bakr", NULL);
    check_refused(TQ_CORREL_NAME, "abu \xc0\xaf", NULL);
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    check_refused(TQ_CORREL_NAME, long_name, NULL);
    long_name[TQ_CORREL_VALUE_MAX - 1] = '\0';
    check_norm(TQ_CORREL_NAME, long_name, NULL, long_name);
}

static void guess_kind(void **state)
{
    static const struct {
        const char *in;
        enum tq_correl_kind kind;
        const char *want;
    } cases[] = {
        {"+963 944 123 456", TQ_CORREL_PHONE, "+963944123456"},
        {"0944123456", TQ_CORREL_PHONE, "+963944123456"},
        {"Ali.Hassan@Example.com", TQ_CORREL_EMAIL, "ali.hassan@example.com"},
        {"192.0.2.1", TQ_CORREL_IPV4, "192.0.2.1"},
        {"2001:DB8::1", TQ_CORREL_IPV6, "2001:db8::1"},
        {"::ffff:192.0.2.1", TQ_CORREL_IPV4, "192.0.2.1"},
        {"Example.com", TQ_CORREL_DOMAIN, "example.com"},
        {"D41D8CD98F00B204E9800998ECF8427E", TQ_CORREL_MD5, "d41d8cd98f00b204e9800998ecf8427e"},
        {"da39a3ee5e6b4b0d3255bfef95601890afd80709", TQ_CORREL_SHA1,
         "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", TQ_CORREL_WALLET,
         "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", TQ_CORREL_WALLET,
         "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
        {"12345 BGD", TQ_CORREL_PLATE, "12345BGD"},
        {AR_BEH " 12345", TQ_CORREL_PLATE, AR_BEH "12345"},
        {"Abu Bakr", TQ_CORREL_NAME, "abu bakr"},
        {"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", TQ_CORREL_NAME,
         "1a1zp1ep5qgefi2dmptftl5slmv7divfnb"},
    };
    struct tq_correl_value v;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!tq_correl_normalise_any(cases[i].in, strlen(cases[i].in), &opt_sy, &v))
            fail_msg("any('%s') refused", cases[i].in);
        if (v.kind != cases[i].kind || strcmp(v.value, cases[i].want) != 0)
            fail_msg("any('%s') gave %s '%s'", cases[i].in, tq_correl_kind_name(v.kind), v.value);
    }
    /* Without a region a national number is nothing at all (not a name, not a plate). */
    assert_false(tq_correl_normalise_any("0944123456", 10, NULL, &v));
    assert_false(tq_correl_normalise_any("12345", 5, NULL, &v));
    assert_false(tq_correl_normalise_any("", 0, NULL, &v));
    assert_false(tq_correl_normalise_any("   ", 3, NULL, &v));
    assert_false(tq_correl_normalise_any("a\0b", 3, NULL, &v));
    assert_false(tq_correl_normalise_any(NULL, 0, NULL, &v));
    {
        char big[TQ_CORREL_INPUT_MAX + 2];

        memset(big, 'a', sizeof(big));
        assert_false(tq_correl_normalise_any(big, sizeof(big), NULL, &v));
    }
}

/* ---- extraction ------------------------------------------------------------------------ */

/*
 * Extract from JSON text and compare with want, a list of "kind:value" strings in the
 * expected (sorted) order, ended by NULL.
 */
static void check_extract_o(const char *json, const struct tq_correl_options *o,
                            const char *const *want)
{
    struct json_object *obj = NULL;
    struct tq_correl_value *v = NULL;
    struct tq_err err;
    size_t n = 99, nwant = 0;

    if (tq_json_parse(tq_str_c(json), &obj, &err) != TQ_OK)
        fail_msg("bad test JSON: %s", err.msg);
    assert_int_equal(tq_correl_extract(obj, o, &v, &n, &err), TQ_OK);
    while (want[nwant])
        nwant++;
    for (size_t i = 0; i < n && i < nwant; i++) {
        char got[TQ_CORREL_VALUE_MAX + 16];

        snprintf(got, sizeof(got), "%s:%s", tq_correl_kind_name(v[i].kind), v[i].value);
        if (strcmp(got, want[i]) != 0)
            fail_msg("value %zu: got '%s', expected '%s'", i, got, want[i]);
    }
    if (n != nwant)
        fail_msg("%zu values, expected %zu (first: %s)", n, nwant, n ? v[0].value : "-");
    if (n == 0)
        assert_null(v);
    tq_free(v);
    json_object_put(obj);
}

static void check_extract(const char *json, const char *const *want)
{
    check_extract_o(json, &opt_sy, want);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void extract_scos(void **state)
{
    (void)state;
    check_extract(
        "{\"type\":\"phone-number\",\"id\":\"phone-number--1\",\"value\":\"0944 123 456\"}",
        WANT("phone:+963944123456"));
    check_extract("{\"type\":\"vehicle-plate\",\"value\":\"12345 bgd\",\"country\":\"iq\"}",
                  WANT("plate:12345BGD", "plate:IQ:12345BGD"));
    check_extract("{\"type\":\"vehicle-plate\",\"value\":\"12345 bgd\",\"country\":\"Iraq\"}",
                  WANT("plate:12345BGD"));
    check_extract("{\"type\":\"vehicle-plate\",\"value\":\"IQ:12345 bgd\",\"country\":\"IQ\"}",
                  WANT("plate:IQ:12345BGD"));
    check_extract("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.7/32\"}",
                  WANT("ipv4:198.51.100.7"));
    check_extract("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.0/24\"}", NONE);
    check_extract("{\"type\":\"ipv6-addr\",\"value\":\"2001:DB8::7\"}", WANT("ipv6:2001:db8::7"));
    check_extract("{\"type\":\"ipv6-addr\",\"value\":\"::ffff:198.51.100.7\"}",
                  WANT("ipv4:198.51.100.7"));
    check_extract(
        "{\"type\":\"email-addr\",\"value\":\"Ali@Example.com\",\"display_name\":\"Ali\"}",
        WANT("email:ali@example.com"));
    check_extract("{\"type\":\"domain-name\",\"value\":\"Example.org.\"}",
                  WANT("domain:example.org"));
    check_extract(
        "{\"type\":\"file\",\"name\":\"a.exe\",\"hashes\":{"
        "\"SHA-256\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\","
        "\"MD5\":\"D41D8CD98F00B204E9800998ECF8427E\","
        "\"SHA1\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\","
        "\"SHA3-256\":\"a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a\","
        "\"SSDEEP\":\"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C\","
        "\"SHA-512\":\"short\"}}",
        WANT("md5:d41d8cd98f00b204e9800998ecf8427e",
             "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
             "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    check_extract(
        "{\"type\":\"cryptocurrency-wallet\",\"value\":\"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}",
        WANT("wallet:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
    check_extract("{\"type\":\"cryptocurrency-wallet\","
                  "\"address\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}",
                  WANT("wallet:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
    check_extract(
        "{\"type\":\"x-crypto-wallet\",\"value\":\"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4\"}",
        WANT("wallet:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));
    check_extract("{\"type\":\"x-acme-thing\",\"value\":\"hello world\"}", NONE);
    check_extract("{\"type\":\"url\",\"value\":\"http://example.com/\"}", NONE);
    check_extract("{\"type\":\"user-account\",\"user_id\":\"ali@example.com\"}", NONE);
    /* Wrong JSON types are ignored, not trusted. */
    check_extract("{\"type\":\"ipv4-addr\",\"value\":[\"198.51.100.7\"]}", NONE);
    check_extract("{\"type\":\"file\",\"hashes\":[\"d41d8cd98f00b204e9800998ecf8427e\"]}", NONE);
    check_extract("{\"type\":7,\"value\":\"198.51.100.7\"}", NONE);
    check_extract("{\"value\":\"198.51.100.7\"}", NONE);
    /* A national number without a region is left out. */
    check_extract_o("{\"type\":\"phone-number\",\"value\":\"0944 123 456\"}", NULL, NONE);
}

static void extract_sdos(void **state)
{
    (void)state;
    check_extract("{\"type\":\"identity\",\"name\":\"  Ministry  of Interior \","
                  "\"identity_class\":\"organization\"}",
                  WANT("name:ministry of interior"));
    check_extract("{\"type\":\"threat-actor\",\"name\":\"Abu X\",\"aliases\":[\"ABU  X\","
                  "\"\xd8\xa3\xd8\xa8\xd9\x88 \xd8\xb3\",7,\"Cell 9\"]}",
                  WANT("name:abu x", "name:cell 9", "name:\xd8\xa3\xd8\xa8\xd9\x88 \xd8\xb3"));
    check_extract("{\"type\":\"intrusion-set\",\"name\":\"Group A\",\"aliases\":\"not a list\"}",
                  WANT("name:group a"));
    check_extract("{\"type\":\"identity\",\"name\":\"X\",\"aliases\":[\"Y\"]}", WANT("name:x"));
    check_extract("{\"type\":\"malware\",\"name\":\"Agent\",\"is_family\":true}", NONE);
    check_extract("{\"type\":\"observed-data\",\"number_observed\":1,\"objects\":{"
                  "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113.9\"},"
                  "\"1\":{\"type\":\"phone-number\",\"value\":\"+963 944 123 456\"},"
                  "\"2\":{\"type\":\"email-message\",\"from_ref\":\"3\"},"
                  "\"3\":{\"type\":\"email-addr\",\"value\":\"x@example.com\"},"
                  "\"4\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113.9/32\"},"
                  "\"5\":{\"type\":\"observed-data\",\"objects\":{\"0\":{\"type\":\"ipv4-addr\","
                  "\"value\":\"10.9.9.9\"}}},"
                  "\"6\":{\"type\":\"threat-actor\",\"name\":\"Nested\"},"
                  "\"7\":\"not an object\"}}",
                  WANT("phone:+963944123456", "email:x@example.com", "ipv4:203.0.113.9"));
}

static void extract_patterns(void **state)
{
    (void)state;
    check_extract("{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":"
                  "\"[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.0/24'] "
                  "AND [domain-name:value = 'Evil.Example.com']\"}",
                  WANT("ipv4:198.51.100.1", "domain:evil.example.com"));
    check_extract("{\"type\":\"indicator\",\"pattern\":"
                  "\"[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2','10.0.0.1/32')]\"}",
                  WANT("ipv4:10.0.0.1", "ipv4:10.0.0.2"));
    check_extract("{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":"
                  "\"[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA4"
                  "95991B7852B855' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND "
                  "file:hashes.SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709' AND "
                  "file:hashes.'SHA-1' = 'short' AND file:name = 'a.exe']\"}",
                  WANT("md5:d41d8cd98f00b204e9800998ecf8427e",
                       "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
                       "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    /* Escaped quotes belong to the literal; the second comparison is still found. */
    check_extract("{\"type\":\"indicator\",\"pattern\":"
                  "\"[email-addr:value = 'o\\\\'brien@example.com' OR "
                  "email-message:from_ref.value = 'a\\\\\\\\b@example.com' OR "
                  "email-message:to_refs[*].value = 'To@Example.com' OR "
                  "email-addr:value = 'x\\\\'] OR [phone-number:value = \\\\'0944123456']\"}",
                  WANT("email:o'brien@example.com", "email:to@example.com"));
    /* Negations, other operators and unknown paths assert nothing. */
    check_extract("{\"type\":\"indicator\",\"pattern\":"
                  "\"[ipv4-addr:value != '10.0.0.3' AND ipv4-addr:value NOT = '10.0.0.4' AND "
                  "ipv4-addr:value NOT IN ('10.0.0.5') AND domain-name:value LIKE '%.example.com' "
                  "AND url:value = 'http://10.0.0.6/' AND user-account:user_id = 'bob@example.com' "
                  "AND x509-certificate:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND "
                  "network-traffic:dst_port = 443]\"}",
                  NONE);
    check_extract(
        "{\"type\":\"indicator\",\"pattern\":"
        "\"([network-traffic:dst_ref.value = '2001:db8::5' AND "
        "network-traffic:src_ref.value = '192.0.2.5'] FOLLOWEDBY "
        "[phone-number:value = '+963 944 123 456' AND vehicle-plate:value = '12345 bgd'"
        "]) WITHIN 600 SECONDS START t'2024-01-01T00:00:00Z' STOP "
        "t'2024-02-01T00:00:00Z'\"}",
        WANT("phone:+963944123456", "plate:12345BGD", "ipv4:192.0.2.5", "ipv6:2001:db8::5"));
    check_extract("{\"type\":\"indicator\",\"pattern\":"
                  "\"[x-wallet:address = '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa' AND "
                  "x-note:value = 'hello' AND cryptocurrency-wallet:value = 'bad']\"}",
                  WANT("wallet:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
    /* Other pattern languages are not read. */
    check_extract("{\"type\":\"indicator\",\"pattern_type\":\"snort\",\"pattern\":"
                  "\"[ipv4-addr:value = '10.0.0.1']\"}",
                  NONE);
    /* Broken patterns give what they can and never more. */
    check_extract("{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1\"}", NONE);
    check_extract("{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value IN ('10.0.0.1', 7, "
                  "'10.0.0.2')]\"}",
                  WANT("ipv4:10.0.0.1"));
    check_extract("{\"type\":\"indicator\",\"pattern\":\"ipv4-addr:value = = '10.0.0.1' "
                  "ipv4-addr: = '10.0.0.2' :value = '10.0.0.3' ipv4-addr:value[ = '10.0.0.4'\"}",
                  NONE);
    check_extract("{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = b'MTAuMC4wLjE=' OR "
                  "ipv4-addr:value = h'0a000001' OR ipv4-addr:value = 10]\"}",
                  NONE);
}

static void extract_dedup_and_order(void **state)
{
    (void)state;
    /* Different spellings of one value are one row; the order is by kind, then value. */
    check_extract(
        "{\"type\":\"indicator\",\"pattern\":"
        "\"[domain-name:value = 'b.example.com' OR ipv4-addr:value = '10.0.0.9' OR "
        "domain-name:value = 'A.example.com' OR domain-name:value = 'B.EXAMPLE.COM.' OR "
        "phone-number:value IN ('+963944123456', '00963 944 123 456', '0944-123-456')]\"}",
        WANT("phone:+963944123456", "ipv4:10.0.0.9", "domain:a.example.com",
             "domain:b.example.com"));
    /* Member order does not change the result. */
    check_extract("{\"type\":\"file\",\"hashes\":{\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e\","
                  "\"SHA-1\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"}}",
                  WANT("md5:d41d8cd98f00b204e9800998ecf8427e",
                       "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    check_extract("{\"hashes\":{\"SHA-1\":\"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\","
                  "\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e\"},\"type\":\"file\"}",
                  WANT("md5:d41d8cd98f00b204e9800998ecf8427e",
                       "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

static void extract_limits(void **state)
{
    struct json_object *obj, *aliases, *notobj;
    struct tq_correl_value *v = NULL;
    struct tq_err err;
    size_t n = 0;
    struct tq_buf pat;

    (void)state;
    /* Not an object. */
    notobj = json_object_new_array();
    assert_int_equal(tq_correl_extract(notobj, NULL, &v, &n, &err), TQ_EINVAL);
    assert_int_equal(tq_correl_extract(NULL, NULL, &v, &n, &err), TQ_EINVAL);
    json_object_put(notobj);

    /* Exactly the limit of distinct values passes; one more is TQ_ETOOBIG, out untouched. */
    obj = json_object_new_object();
    json_object_object_add(obj, "type", json_object_new_string("threat-actor"));
    aliases = json_object_new_array();
    for (int i = 0; i < TQ_CORREL_PER_OBJECT_MAX - 1; i++) {
        char name[32];

        snprintf(name, sizeof(name), "alias %d", i);
        json_object_array_add(aliases, json_object_new_string(name));
    }
    json_object_object_add(obj, "aliases", aliases);
    json_object_object_add(obj, "name", json_object_new_string("Alias 0")); /* a duplicate */
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_OK);
    assert_int_equal(n, TQ_CORREL_PER_OBJECT_MAX - 1);
    tq_free(v);
    json_object_object_add(obj, "name", json_object_new_string("One more"));
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_OK);
    assert_int_equal(n, TQ_CORREL_PER_OBJECT_MAX);
    tq_free(v);
    json_object_array_add(aliases, json_object_new_string("and one more"));
    v = (struct tq_correl_value *)&n; /* must stay as it was */
    n = 7;
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_ETOOBIG);
    assert_ptr_equal(v, (struct tq_correl_value *)&n);
    assert_int_equal(n, 7);
    assert_non_null(strstr(err.msg, "correl:"));
    json_object_put(obj);

    /* Many candidates of one value: de-duplicated below the candidate cap, refused above it. */
    obj = json_object_new_object();
    json_object_object_add(obj, "type", json_object_new_string("threat-actor"));
    aliases = json_object_new_array();
    for (int i = 0; i < 4 * TQ_CORREL_PER_OBJECT_MAX + 1; i++)
        json_object_array_add(aliases, json_object_new_string("Same"));
    json_object_object_add(obj, "aliases", aliases);
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_ETOOBIG);
    json_object_array_del_idx(aliases, 0, 2);
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 1);
    tq_free(v);
    json_object_put(obj);

    /* A pattern longer than the limit is skipped whole; at the limit it is read. */
    tq_buf_init(&pat, 2 * TQ_CORREL_PATTERN_MAX);
    assert_int_equal(tq_buf_append_c(&pat, "[ipv4-addr:value = '10.1.2.3']"), TQ_OK);
    while (pat.len < TQ_CORREL_PATTERN_MAX)
        assert_int_equal(tq_buf_append_c(&pat, " "), TQ_OK);
    obj = json_object_new_object();
    json_object_object_add(obj, "type", json_object_new_string("indicator"));
    json_object_object_add(obj, "pattern", json_object_new_string_len(pat.ptr, (int)pat.len));
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 1);
    tq_free(v);
    assert_int_equal(tq_buf_append_c(&pat, " "), TQ_OK);
    json_object_object_add(obj, "pattern", json_object_new_string_len(pat.ptr, (int)pat.len));
    assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    json_object_put(obj);
    tq_buf_cleanup(&pat);

    /* Values longer than the input limit are never read. */
    {
        char big[TQ_CORREL_INPUT_MAX + 64];

        memset(big, ' ', sizeof(big));
        memcpy(big + sizeof(big) - 12, "192.0.2.100", 11);
        big[sizeof(big) - 1] = '\0';
        obj = json_object_new_object();
        json_object_object_add(obj, "type", json_object_new_string("ipv4-addr"));
        json_object_object_add(obj, "value", json_object_new_string(big));
        assert_int_equal(tq_correl_extract(obj, NULL, &v, &n, &err), TQ_OK);
        assert_int_equal(n, 0);
        json_object_put(obj);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds),
        cmocka_unit_test(phones),
        cmocka_unit_test(phone_property),
        cmocka_unit_test(plates),
        cmocka_unit_test(keccak),
        cmocka_unit_test(wallets),
        cmocka_unit_test(emails),
        cmocka_unit_test(addresses),
        cmocka_unit_test(domains),
        cmocka_unit_test(hashes),
        cmocka_unit_test(names),
        cmocka_unit_test(guess_kind),
        cmocka_unit_test(extract_scos),
        cmocka_unit_test(extract_sdos),
        cmocka_unit_test(extract_patterns),
        cmocka_unit_test(extract_dedup_and_order),
        cmocka_unit_test(extract_limits),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("correl", tests, NULL, NULL);
}
