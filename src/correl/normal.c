/* SPDX-License-Identifier: Apache-2.0
 *
 * correl/normal.c - normal forms of observable values, one function per kind.
 *
 * Each normaliser accepts the spellings people and tools actually write for one value and
 * produces exactly one text for it, so that an index keyed on the text finds every report of
 * the value; anything it cannot read with certainty is refused rather than guessed, because a
 * wrong normal form makes two different values meet. docs/internals/correl.md gives the rules
 * with examples. Wallets live in wallet.c and names in name.c.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "correl/correl.h"

/* ---- kinds ----------------------------------------------------------------------------- */

static const char *const kind_names[] = {
    [TQ_CORREL_PHONE] = "phone",   [TQ_CORREL_PLATE] = "plate",   [TQ_CORREL_WALLET] = "wallet",
    [TQ_CORREL_EMAIL] = "email",   [TQ_CORREL_IPV4] = "ipv4",     [TQ_CORREL_IPV6] = "ipv6",
    [TQ_CORREL_DOMAIN] = "domain", [TQ_CORREL_MD5] = "md5",       [TQ_CORREL_SHA1] = "sha1",
    [TQ_CORREL_SHA256] = "sha256", [TQ_CORREL_SHA512] = "sha512", [TQ_CORREL_NAME] = "name",
};

const char *tq_correl_kind_name(enum tq_correl_kind k)
{
    if ((int)k < TQ_CORREL_PHONE || (int)k > TQ_CORREL_NAME)
        return NULL;
    return kind_names[k];
}

bool tq_correl_kind_parse(const char *s, enum tq_correl_kind *out)
{
    if (!s)
        return false;
    for (int k = TQ_CORREL_PHONE; k <= TQ_CORREL_NAME; k++)
        if (strcmp(s, kind_names[k]) == 0) {
            *out = (enum tq_correl_kind)k;
            return true;
        }
    return false;
}

/* ---- UTF-8 ----------------------------------------------------------------------------- */

bool tq__correl_utf8_next(const char *s, size_t n, size_t *i, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = *i, l;
    uint32_t c;

    if (p[k] < 0x80) {
        *cp = p[k];
        *i = k + 1;
        return true;
    }
    l = tq_utf8_len(p, k, n);
    if (l == 0)
        return false;
    c = p[k] & (l == 2 ? 0x1f : l == 3 ? 0x0f : 0x07);
    for (size_t j = 1; j < l; j++)
        c = c << 6 | (p[k + j] & 0x3f);
    *cp = c;
    *i = k + l;
    return true;
}

bool tq__correl_utf8_put(char *out, size_t cap, size_t *len, uint32_t cp)
{
    unsigned char b[4];
    size_t l;

    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        l = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        l = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        l = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        l = 4;
    }
    if (*len + l >= cap) /* keep room for the NUL */
        return false;
    memcpy(out + *len, b, l);
    *len += l;
    return true;
}

/* A decimal digit in ASCII, Arabic-Indic (U+0660..0669) or Extended Arabic-Indic
 * (U+06F0..06F9, the Persian and Urdu forms); -1 otherwise. */
static int any_digit(uint32_t c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 0x660 && c <= 0x669)
        return (int)(c - 0x660);
    if (c >= 0x6f0 && c <= 0x6f9)
        return (int)(c - 0x6f0);
    return -1;
}

/* Invisible direction marks that right-to-left text puts around numbers and Latin runs. */
static bool is_bidi_mark(uint32_t c)
{
    return c == 0x200e || c == 0x200f || c == 0x061c || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

static bool is_space_char(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f || c == 0x3000;
}

static bool ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Trim ASCII white space from both ends. */
static void trim(const char **s, size_t *len)
{
    while (*len && ascii_space((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len && ascii_space((*s)[*len - 1]))
        (*len)--;
}

static void put_value(struct tq_correl_value *out, enum tq_correl_kind k, const char *v, size_t n)
{
    out->kind = k;
    memcpy(out->value, v, n);
    out->value[n] = '\0';
}

/* ---- phone ----------------------------------------------------------------------------- */

/*
 * Country calling codes (ITU-T E.164 assignments). The set is prefix-free, so at most one of
 * the first one, two or three digits of an international number is in it. Rules holds the
 * national significant number (NSN) lengths of the partners' region and its neighbours; other
 * codes get the generic E.164 bounds.
 */
static const char *const cc_table[] = {
    "1",   "7",   "20",  "27",  "30",  "31",  "32",  "33",  "34",  "36",  "39",  "40",  "41",
    "43",  "44",  "45",  "46",  "47",  "48",  "49",  "51",  "52",  "53",  "54",  "55",  "56",
    "57",  "58",  "60",  "61",  "62",  "63",  "64",  "65",  "66",  "81",  "82",  "84",  "86",
    "90",  "91",  "92",  "93",  "94",  "95",  "98",  "211", "212", "213", "216", "218", "220",
    "221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233",
    "234", "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246",
    "247", "248", "249", "250", "251", "252", "253", "254", "255", "256", "257", "258", "260",
    "261", "262", "263", "264", "265", "266", "267", "268", "269", "290", "291", "297", "298",
    "299", "350", "351", "352", "353", "354", "355", "356", "357", "358", "359", "370", "371",
    "372", "373", "374", "375", "376", "377", "378", "379", "380", "381", "382", "383", "385",
    "386", "387", "389", "420", "421", "423", "500", "501", "502", "503", "504", "505", "506",
    "507", "508", "509", "590", "591", "592", "593", "594", "595", "596", "597", "598", "599",
    "670", "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682", "683",
    "685", "686", "687", "688", "689", "690", "691", "692", "800", "808", "850", "852", "853",
    "855", "856", "870", "878", "880", "881", "882", "883", "886", "888", "960", "961", "962",
    "963", "964", "965", "966", "967", "968", "970", "971", "972", "973", "974", "975", "976",
    "977", "979", "992", "993", "994", "995", "996", "998",
};

struct phone_rule {
    const char *cc;
    const char *region; /* ISO 3166-1 alpha-2, for default_region */
    uint8_t nsn_min, nsn_max;
    char mobile;        /* first digit of mobile numbers, 0 for none */
    uint8_t mobile_len; /* their exact NSN length */
};

/*
 * Lengths from the national numbering plans: Iraq mobiles 7xx xxx xxxx, landlines 1 xxx xxxx
 * (Baghdad) or two-digit area + 6-7 digits; Syria mobiles 9xx xxx xxx, landlines 8-9 digits;
 * Jordan mobiles 7x xxxx xxxx, landlines 8 digits. Every country listed uses the trunk prefix
 * 0, which is never part of the NSN.
 */
static const struct phone_rule phone_rules[] = {
    {"964", "IQ", 8, 9, '7', 10}, {"963", "SY", 8, 9, '9', 9}, {"962", "JO", 8, 8, '7', 9},
    {"90", "TR", 10, 10, 0, 0},   {"98", "IR", 10, 10, 0, 0},  {"966", "SA", 8, 8, '5', 9},
    {"961", "LB", 7, 8, 0, 0},    {"965", "KW", 8, 8, 0, 0},   {"971", "AE", 8, 8, '5', 9},
    {"20", "EG", 8, 9, '1', 10},  {"974", "QA", 8, 8, 0, 0},   {"973", "BH", 8, 8, 0, 0},
    {"968", "OM", 8, 8, 0, 0},    {"972", "IL", 8, 8, '5', 9}, {"970", "PS", 8, 8, '5', 9},
    {"44", "GB", 9, 10, '7', 10}, {"49", "DE", 6, 13, 0, 0},   {"33", "FR", 9, 9, 0, 0},
    {"7", "RU", 10, 10, 0, 0},    {"31", "NL", 9, 9, 0, 0},    {"46", "SE", 7, 9, 0, 0},
};

#define E164_MAX_DIGITS 15
#define GENERIC_NSN_MIN 6

static const struct phone_rule *rule_of_cc(const char *cc, size_t cc_len)
{
    for (size_t i = 0; i < sizeof(phone_rules) / sizeof(phone_rules[0]); i++)
        if (strlen(phone_rules[i].cc) == cc_len && memcmp(phone_rules[i].cc, cc, cc_len) == 0)
            return &phone_rules[i];
    return NULL;
}

static const struct phone_rule *rule_of_region(const char *region)
{
    if (!region)
        return NULL;
    for (size_t i = 0; i < sizeof(phone_rules) / sizeof(phone_rules[0]); i++)
        if (strlen(region) == 2 && upper(region[0]) == phone_rules[i].region[0] &&
            upper(region[1]) == phone_rules[i].region[1])
            return &phone_rules[i];
    return NULL;
}

static size_t cc_length(const char *d, size_t n)
{
    for (size_t l = 1; l <= 3 && l < n; l++)
        for (size_t i = 0; i < sizeof(cc_table) / sizeof(cc_table[0]); i++)
            if (strlen(cc_table[i]) == l && memcmp(cc_table[i], d, l) == 0)
                return l;
    return 0;
}

static bool nsn_ok(const struct phone_rule *r, const char *nsn, size_t n, size_t cc_len)
{
    if (cc_len + n > E164_MAX_DIGITS || n == 0)
        return false;
    if (!r)
        return n >= GENERIC_NSN_MIN;
    if (nsn[0] == '0')
        return false;
    if (r->mobile && nsn[0] == r->mobile)
        return n == r->mobile_len;
    return n >= r->nsn_min && n <= r->nsn_max;
}

/* Characters a phone number may be written with besides digits and a leading '+'. */
static bool phone_separator(uint32_t c)
{
    return is_space_char(c) || is_bidi_mark(c) || c == '-' || c == '.' || c == '(' || c == ')' ||
           c == '/' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212;
}

static bool phone_norm(const char *in, size_t len, const struct tq_correl_options *o,
                       struct tq_correl_value *out)
{
    char d[E164_MAX_DIGITS + 8], res[E164_MAX_DIGITS + 2];
    size_t nd = 0, i = 0, cc_len, nsn_len;
    const struct phone_rule *r;
    const char *cc, *nsn;
    bool plus = false;

    while (i < len) {
        uint32_t c;
        int v;

        if (!tq__correl_utf8_next(in, len, &i, &c))
            return false;
        v = any_digit(c);
        if (v >= 0) {
            if (nd == sizeof(d))
                return false;
            d[nd++] = (char)('0' + v);
        } else if (c == '+' || c == 0xff0b) {
            if (plus || nd > 0)
                return false;
            plus = true;
        } else if (!phone_separator(c)) {
            return false;
        }
    }
    if (nd == 0)
        return false;
    if (plus || (nd > 2 && d[0] == '0' && d[1] == '0')) {
        cc = plus ? d : d + 2;
        nd -= plus ? 0 : 2;
        cc_len = cc_length(cc, nd);
        if (cc_len == 0)
            return false;
        r = rule_of_cc(cc, cc_len);
        nsn = cc + cc_len;
        nsn_len = nd - cc_len;
        /* "+964 (0)770 ...": the trunk 0 written after the country code is not dialled. */
        if (r && nsn_len > 0 && nsn[0] == '0') {
            nsn++;
            nsn_len--;
        }
    } else if (d[0] == '0') {
        r = rule_of_region(o ? o->default_region : NULL);
        if (!r)
            return false;
        cc = r->cc;
        cc_len = strlen(cc);
        nsn = d + 1;
        nsn_len = nd - 1;
    } else {
        return false; /* no country code and no trunk 0: the country is unknown */
    }
    if (!nsn_ok(r, nsn, nsn_len, cc_len))
        return false;
    res[0] = '+';
    memcpy(res + 1, cc, cc_len);
    memcpy(res + 1 + cc_len, nsn, nsn_len);
    put_value(out, TQ_CORREL_PHONE, res, 1 + cc_len + nsn_len);
    return true;
}

/* ---- plate ----------------------------------------------------------------------------- */

#define PLATE_MAX_CHARS 16

/* The letter a plate character stands for, 0 when it is not a plate letter. */
static uint32_t plate_letter(uint32_t c)
{
    if (c == 0x6a9) /* keheh, as a Persian keyboard writes kaf */
        return 0x643;
    if (c == 0x6cc) /* Farsi yeh, as a Persian keyboard writes yeh */
        return 0x64a;
    if ((c >= 0x621 && c <= 0x63a) || (c >= 0x641 && c <= 0x64a) || c == 0x67e || c == 0x686 ||
        c == 0x698 || c == 0x6af)
        return c;
    return 0;
}

/* Canonical composition (NFC) of a base letter with a following combining hamza or madda. */
static uint32_t compose_arabic(uint32_t base, uint32_t mark)
{
    if (base == 0x627 && mark == 0x653)
        return 0x622;
    if (base == 0x627 && mark == 0x654)
        return 0x623;
    if (base == 0x648 && mark == 0x654)
        return 0x624;
    if (base == 0x627 && mark == 0x655)
        return 0x625;
    if (base == 0x64a && mark == 0x654)
        return 0x626;
    return 0;
}

static bool plate_separator(uint32_t c)
{
    return is_space_char(c) || is_bidi_mark(c) || c == '-' || c == '.' || c == '/' || c == '_' ||
           c == '|' || c == 0xb7 || c == 0x640 || (c >= 0x2010 && c <= 0x2015) ||
           (c >= 0x64b && c <= 0x652) || c == 0x670;
}

/*
 * The characters of a plate, without any country prefix, into buf (cap bytes). *n_digits and
 * *n_letters count what it holds.
 */
static bool plate_body(const char *in, size_t len, char *buf, size_t cap, size_t *blen,
                       size_t *n_digits, size_t *n_letters)
{
    uint32_t chars[PLATE_MAX_CHARS];
    size_t nc = 0, i = 0;

    *n_digits = *n_letters = 0;
    while (i < len) {
        uint32_t c;
        int v;

        if (!tq__correl_utf8_next(in, len, &i, &c))
            return false;
        v = any_digit(c);
        if (v >= 0) {
            c = (uint32_t)('0' + v);
            (*n_digits)++;
        } else if (c < 0x80 && is_alpha((char)c)) {
            c = (uint32_t)upper((char)c);
            (*n_letters)++;
        } else if (plate_letter(c) != 0) {
            c = plate_letter(c);
            (*n_letters)++;
        } else if (c >= 0x653 && c <= 0x655) {
            uint32_t comp = nc ? compose_arabic(chars[nc - 1], c) : 0;

            if (!comp)
                return false;
            chars[nc - 1] = comp;
            continue;
        } else if (plate_separator(c)) {
            continue;
        } else {
            return false;
        }
        if (nc == PLATE_MAX_CHARS)
            return false;
        chars[nc++] = c;
    }
    *blen = 0;
    for (size_t k = 0; k < nc; k++)
        if (!tq__correl_utf8_put(buf, cap, blen, chars[k]))
            return false;
    return nc > 0 && *n_digits > 0;
}

/* "IQ:" style prefix: two ASCII letters and a colon. */
static bool has_country_prefix(const char *s, size_t len)
{
    return len > 3 && is_alpha(s[0]) && is_alpha(s[1]) && s[2] == ':';
}

static bool plate_norm(const char *in, size_t len, bool need_letter, struct tq_correl_value *out)
{
    char buf[TQ_CORREL_VALUE_MAX];
    size_t off = 0, blen, nd, nl;

    if (has_country_prefix(in, len)) {
        buf[0] = upper(in[0]);
        buf[1] = upper(in[1]);
        buf[2] = ':';
        off = 3;
    }
    if (!plate_body(in + off, len - off, buf + off, sizeof(buf) - off, &blen, &nd, &nl))
        return false;
    if (need_letter && nl == 0)
        return false;
    put_value(out, TQ_CORREL_PLATE, buf, off + blen);
    return true;
}

/* ---- domain and e-mail ---------------------------------------------------------------- */

#define DOMAIN_MAX 253
#define LABEL_MAX 63
#define LOCAL_MAX 64

/* Lower-case a host name into buf (at least DOMAIN_MAX + 1 bytes), checking every label. */
static bool domain_text(const char *in, size_t len, char *buf, size_t *blen)
{
    size_t label = 0, labels = 1, last_start = 0;
    bool tld_digits = true;

    if (len && in[len - 1] == '.')
        len--;
    if (len == 0 || len > DOMAIN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = lower(in[i]);

        if (c == '.') {
            if (label == 0 || buf[i - 1] == '-')
                return false;
            buf[i] = '.';
            label = 0;
            labels++;
            last_start = i + 1;
            continue;
        }
        if (!(is_alpha(c) || is_digit(c) || c == '-'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > LABEL_MAX)
            return false;
        buf[i] = c;
    }
    if (label == 0 || buf[len - 1] == '-' || labels < 2)
        return false;
    for (size_t i = last_start; i < len; i++)
        if (!is_digit(buf[i]))
            tld_digits = false;
    if (tld_digits) /* "10.0.0.1" is an address, not a host name */
        return false;
    *blen = len;
    return true;
}

static bool domain_norm(const char *in, size_t len, struct tq_correl_value *out)
{
    char buf[DOMAIN_MAX + 1];
    size_t blen;

    if (!domain_text(in, len, buf, &blen))
        return false;
    put_value(out, TQ_CORREL_DOMAIN, buf, blen);
    return true;
}

static bool local_char(char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static bool email_norm(const char *in, size_t len, struct tq_correl_value *out)
{
    char buf[LOCAL_MAX + 1 + DOMAIN_MAX + 1];
    const char *at;
    size_t local_len, dlen;

    if (len >= 7 && strncasecmp(in, "mailto:", 7) == 0) {
        const char *q = memchr(in, '?', len);

        if (q)
            len = (size_t)(q - in);
        in += 7;
        len -= 7;
    }
    if (len >= 2 && in[0] == '<' && in[len - 1] == '>') {
        in++;
        len -= 2;
    }
    at = memchr(in, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at + 1 - in)))
        return false;
    local_len = (size_t)(at - in);
    if (local_len == 0 || local_len > LOCAL_MAX || in[0] == '.' || in[local_len - 1] == '.')
        return false;
    for (size_t i = 0; i < local_len;) {
        unsigned char c = (unsigned char)in[i];

        if (c >= 0x80) {
            size_t l = tq_utf8_len((const unsigned char *)in, i, local_len);

            if (l == 0)
                return false;
            memcpy(buf + i, in + i, l);
            i += l;
            continue;
        }
        if (!local_char((char)c) || (c == '.' && in[i + 1] == '.'))
            return false;
        buf[i++] = lower((char)c);
    }
    buf[local_len] = '@';
    if (!domain_text(at + 1, len - local_len - 1, buf + local_len + 1, &dlen))
        return false;
    if (local_len + 1 + dlen >= TQ_CORREL_VALUE_MAX)
        return false;
    put_value(out, TQ_CORREL_EMAIL, buf, local_len + 1 + dlen);
    return true;
}

/* ---- IP addresses ---------------------------------------------------------------------- */

static bool ip_norm(bool v6, const char *in, size_t len, struct tq_correl_value *out)
{
    char buf[INET6_ADDRSTRLEN + 8], res[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    const char *slash = memchr(in, '/', len);

    if (slash) {
        const char *bits = slash + 1;
        size_t blen = len - (size_t)(bits - in);

        /* Only a host prefix names one address; other CIDR blocks are ranges, not values. */
        if (!(v6 ? blen == 3 && memcmp(bits, "128", 3) == 0
                 : blen == 2 && memcmp(bits, "32", 2) == 0))
            return false;
        len = (size_t)(slash - in);
    }
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, in, len);
    buf[len] = '\0';
    if (!v6) {
        if (inet_pton(AF_INET, buf, addr) != 1 || !inet_ntop(AF_INET, addr, res, sizeof(res)))
            return false;
        put_value(out, TQ_CORREL_IPV4, res, strlen(res));
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr) != 1)
        return false;
    if (tq_is_zero(addr, 10) && addr[10] == 0xff && addr[11] == 0xff) {
        if (!inet_ntop(AF_INET, addr + 12, res, sizeof(res)))
            return false;
        put_value(out, TQ_CORREL_IPV4, res, strlen(res));
        return true;
    }
    if (!inet_ntop(AF_INET6, addr, res, sizeof(res)))
        return false;
    put_value(out, TQ_CORREL_IPV6, res, strlen(res));
    return true;
}

/* ---- hashes ---------------------------------------------------------------------------- */

bool tq__correl_hash_kind(const char *name, size_t len, enum tq_correl_kind *out)
{
    static const struct {
        const char *name;
        enum tq_correl_kind kind;
    } names[] = {
        {"MD5", TQ_CORREL_MD5},        {"SHA-1", TQ_CORREL_SHA1},    {"SHA1", TQ_CORREL_SHA1},
        {"SHA-256", TQ_CORREL_SHA256}, {"SHA256", TQ_CORREL_SHA256}, {"SHA-512", TQ_CORREL_SHA512},
        {"SHA512", TQ_CORREL_SHA512},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == len && strncasecmp(names[i].name, name, len) == 0) {
            *out = names[i].kind;
            return true;
        }
    return false;
}

static bool hash_norm(enum tq_correl_kind k, const char *in, size_t len,
                      struct tq_correl_value *out)
{
    size_t want = k == TQ_CORREL_MD5      ? 32
                  : k == TQ_CORREL_SHA1   ? 40
                  : k == TQ_CORREL_SHA256 ? 64
                                          : 128;
    char buf[129];

    if (len != want)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (tq_hex_digit(in[i]) < 0)
            return false;
        buf[i] = lower(in[i]);
    }
    put_value(out, k, buf, len);
    return true;
}

/* ---- dispatch -------------------------------------------------------------------------- */

/* True when the text holds a letter: an ASCII letter or any character past ASCII other than
 * digits, spaces and direction marks. */
static bool has_letter(const char *in, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint32_t c;

        if (!tq__correl_utf8_next(in, len, &i, &c))
            return false;
        if ((c < 0x80 && is_alpha((char)c)) ||
            (c >= 0x80 && any_digit(c) < 0 && !is_space_char(c) && !is_bidi_mark(c)))
            return true;
    }
    return false;
}

static bool normalise(enum tq_correl_kind k, const char *in, size_t len,
                      const struct tq_correl_options *o, bool guessing, struct tq_correl_value *out)
{
    char buf[TQ_CORREL_VALUE_MAX];

    if (!in || len > TQ_CORREL_INPUT_MAX || memchr(in, '\0', len))
        return false;
    trim(&in, &len);
    if (len == 0)
        return false;
    switch (k) {
    case TQ_CORREL_PHONE:
        return phone_norm(in, len, o, out);
    case TQ_CORREL_PLATE:
        return plate_norm(in, len, guessing, out);
    case TQ_CORREL_WALLET:
        if (!tq__correl_wallet_normalise(in, len, buf))
            return false;
        put_value(out, k, buf, strlen(buf));
        return true;
    case TQ_CORREL_EMAIL:
        return email_norm(in, len, out);
    case TQ_CORREL_IPV4:
        return ip_norm(false, in, len, out);
    case TQ_CORREL_IPV6:
        return ip_norm(true, in, len, out);
    case TQ_CORREL_DOMAIN:
        return domain_norm(in, len, out);
    case TQ_CORREL_MD5:
    case TQ_CORREL_SHA1:
    case TQ_CORREL_SHA256:
    case TQ_CORREL_SHA512:
        return hash_norm(k, in, len, out);
    case TQ_CORREL_NAME:
        if (guessing && !has_letter(in, len))
            return false; /* "0944123456" with no region is no one's name */
        if (!tq__correl_name_normalise(in, len, buf))
            return false;
        put_value(out, k, buf, strlen(buf));
        return true;
    }
    return false;
}

bool tq_correl_normalise(enum tq_correl_kind k, const char *in, size_t len,
                         const struct tq_correl_options *o, struct tq_correl_value *out)
{
    return normalise(k, in, len, o, false, out);
}

bool tq_correl_normalise_any(const char *in, size_t len, const struct tq_correl_options *o,
                             struct tq_correl_value *out)
{
    /*
     * Most specific first: the kinds with a fixed shape or a checksum cannot take a value
     * meant as another kind. Phone comes before domain and plate because "0944123456" is a
     * number whenever a region is set; plate must then hold a letter so that a bare number
     * without region is not taken for a plate; name takes whatever is left.
     */
    static const enum tq_correl_kind order[] = {
        TQ_CORREL_EMAIL, TQ_CORREL_IPV4,   TQ_CORREL_IPV6,   TQ_CORREL_WALLET,
        TQ_CORREL_MD5,   TQ_CORREL_SHA1,   TQ_CORREL_SHA256, TQ_CORREL_SHA512,
        TQ_CORREL_PHONE, TQ_CORREL_DOMAIN, TQ_CORREL_PLATE,  TQ_CORREL_NAME,
    };

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (normalise(order[i], in, len, o, true, out))
            return true;
    return false;
}
