/* SPDX-License-Identifier: Apache-2.0
 *
 * stix/rules.c - the STIX 2.1 rule tables.
 *
 * One table per object type lists its properties: what each value must be, which are required,
 * which closed vocabularies (enumerations) apply and which object types a reference may point
 * to. Open vocabularies are plain strings: the spec lets producers use any value. Rules that are
 * about several properties at once (one of, not both, if this then that) live in the few check
 * functions below. Sources: the STIX 2.1 OASIS standard and the OASIS JSON schemas
 * (cti-stix2-json-schemas, schemas/). The engine that applies these tables is validate.c.
 */
#include <arpa/inet.h>
#include <strings.h>
#include <string.h>

#include <json-c/json.h>

#include "stix/stix.h"

/* ---- syntax rules -------------------------------------------------------------------------- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool tq__stix_type_name_valid(struct tq_str s)
{
    if (s.len < 3 || s.len > 250 || !(s.ptr[0] >= 'a' && s.ptr[0] <= 'z') ||
        s.ptr[s.len - 1] == '-')
        return false;
    for (size_t i = 1; i < s.len; i++) {
        if (s.ptr[i] == '-') {
            if (s.ptr[i - 1] == '-')
                return false;
        } else if (!is_lower_alnum(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool tq__stix_prop_name_valid(struct tq_str s)
{
    if (s.len < 3 || s.len > 250 || !(s.ptr[0] >= 'a' && s.ptr[0] <= 'z'))
        return false;
    for (size_t i = 1; i < s.len; i++)
        if (!is_lower_alnum(s.ptr[i]) && s.ptr[i] != '_')
            return false;
    return true;
}

bool tq__stix_base64_valid(struct tq_str s)
{
    size_t pad = 0;

    if (s.len == 0 || s.len % 4 != 0)
        return false;
    if (s.ptr[s.len - 1] == '=')
        pad = s.ptr[s.len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < s.len - pad; i++) {
        char c = s.ptr[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return true;
}

bool tq__stix_hex_valid(struct tq_str s)
{
    if (s.len == 0 || s.len % 2 != 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_hex(s.ptr[i]))
            return false;
    return true;
}

int tq__stix_id_parse(struct tq_str id, size_t *type_len)
{
    const char *u;
    char var;

    /* "<type>--" followed by 36 characters of UUID. */
    if (!id.ptr || id.len < 3 + 2 + 36)
        return 0;
    u = id.ptr + id.len - 36;
    if (u[-1] != '-' || u[-2] != '-')
        return 0;
    if (!tq__stix_type_name_valid((struct tq_str){id.ptr, id.len - 38}))
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return 0;
        } else if (!is_hex(u[i])) {
            return 0;
        }
    }
    /* RFC 4122: version 1-5 and the variant bits 10xx. */
    var = u[19];
    if (u[14] < '1' || u[14] > '5')
        return 0;
    if (!(var == '8' || var == '9' || var == 'a' || var == 'b' || var == 'A' || var == 'B'))
        return 0;
    *type_len = id.len - 38;
    return u[14] - '0';
}

static bool ipv4_valid(struct tq_str s)
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t start = i;

        if (part && (i >= s.len || s.ptr[i++] != '.'))
            return false;
        start = i;
        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s.ptr[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s.ptr[start] == '0'))
            return false;
    }
    if (i < s.len && s.ptr[i] == '/') {
        unsigned v = 0;
        size_t start = ++i;

        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9' && i - start < 2)
            v = v * 10 + (unsigned)(s.ptr[i++] - '0');
        if (i == start || v > 32)
            return false;
    }
    return i == s.len;
}

static bool ipv6_valid(struct tq_str s)
{
    char buf[64];
    unsigned char addr[16];
    size_t n = 0;

    while (n < s.len && s.ptr[n] != '/' && s.ptr[n] != '%')
        n++;
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s.ptr, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, addr) != 1)
        return false;
    if (n < s.len && s.ptr[n] == '%') {
        /* A zone index runs to the prefix length, if any. */
        n++;
        while (n < s.len && s.ptr[n] != '/')
            n++;
    }
    if (n < s.len) {
        unsigned v = 0;
        size_t start = ++n;

        while (n < s.len && s.ptr[n] >= '0' && s.ptr[n] <= '9' && n - start < 3)
            v = v * 10 + (unsigned)(s.ptr[n++] - '0');
        if (n == start || v > 128 || n != s.len)
            return false;
    }
    return true;
}

static bool mac_valid(struct tq_str s)
{
    if (s.len != 17)
        return false;
    for (size_t i = 0; i < 17; i++) {
        char c = s.ptr[i];

        if (i % 3 == 2 ? c != ':' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool rel_type_valid(struct tq_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_lower_alnum(s.ptr[i]) && s.ptr[i] != '-')
            return false;
    return true;
}

static bool mime_valid(struct tq_str s)
{
    static const char *const tops[] = {"application/", "audio/",     "font/", "image/", "message/",
                                       "model/",       "multipart/", "text/", "video/", NULL};

    for (const char *const *t = tops; *t; t++) {
        size_t n = strlen(*t);

        if (s.len > n && memcmp(s.ptr, *t, n) == 0)
            return true;
    }
    return false;
}

static bool enc_name_valid(struct tq_str s)
{
    if (s.len < 2 || s.len > 250)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("/.+_:-", c)))
            return false;
    }
    return true;
}

/* Registry keys must use full hive names, not HKLM-style abbreviations. */
static bool regkey_valid(struct tq_str s)
{
    static const char *const abbrev[] = {"hklm", "hkcc", "hkcr", "hkcu", "hku", NULL};

    for (const char *const *a = abbrev; *a; a++) {
        size_t n = strlen(*a);

        if (s.len >= n && strncasecmp(s.ptr, *a, n) == 0 && (s.len == n || s.ptr[n] == '\\'))
            return false;
    }
    return true;
}

/* Granular marking selector: a property path such as "description" or "external_references.[0]". */
static bool selector_valid(struct tq_str s)
{
    size_t i = 0, seg = 0;

    if (tq_str_eq_c(s, "id"))
        return true;
    while (i < s.len && (is_lower_alnum(s.ptr[i]) || s.ptr[i] == '_' || s.ptr[i] == '-'))
        i++;
    if (i < 3 || i > 249)
        return false;
    while (i < s.len) {
        if (s.ptr[i++] != '.' || i >= s.len)
            return false;
        if (s.ptr[i] == '[') {
            size_t start = ++i;

            while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9')
                i++;
            if (i == start || i >= s.len || s.ptr[i] != ']')
                return false;
            i++;
            continue;
        }
        seg = i;
        while (i < s.len && (is_lower_alnum(s.ptr[i]) || s.ptr[i] == '_' || s.ptr[i] == '-'))
            i++;
        if (i == seg || i - seg > 250)
            return false;
    }
    return true;
}

/* ---- table shorthands ---------------------------------------------------------------------- */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE(props, check, custom, need_any)                                                      \
    {                                                                                              \
        (props), ARRAY_LEN(props), (check), (custom), (need_any)                                   \
    }

#define P(n, k)                                                                                    \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k                                                            \
    }
#define REQ(n, k)                                                                                  \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k, .flags = TQ__SF_REQUIRED                                  \
    }
#define SET(n, k, s)                                                                               \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k, .set = (s)                                                \
    }
#define REQSET(n, k, s)                                                                            \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k, .flags = TQ__SF_REQUIRED, .set = (s)                      \
    }
#define SOFTSET(n, k, s)                                                                           \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k, .flags = TQ__SF_SOFT, .set = (s)                          \
    }
#define REQSOFT(n, k, s)                                                                           \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k, .flags = TQ__SF_REQUIRED | TQ__SF_SOFT, .set = (s)        \
    }
#define INT(n, lo, hi)                                                                             \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_INT, .min = (lo), .max = (hi)                                  \
    }
#define SYN(n, f, w, fl)                                                                           \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_STRING, .flags = (fl), .syntax = (f), .what = (w)              \
    }
#define SUB(n, k, t)                                                                               \
    {                                                                                              \
        .name = (n), .kind = TQ__SK_##k, .sub = &(t)                                               \
    }

/* Reference target sets. */
static const char *const R_IDENTITY[] = {"identity", NULL};
static const char *const R_MARKING[] = {"marking-definition", NULL};
static const char *const R_SOFTWARE[] = {"software", NULL};
static const char *const R_FILE_ARTIFACT[] = {"file", "artifact", NULL};
static const char *const R_SAMPLE[] = {"file", "network-traffic", "artifact", NULL};
static const char *const R_OBSERVED[] = {"observed-data", NULL};
static const char *const R_WHERE[] = {"identity", "location", NULL};
static const char *const R_FILE_DIR[] = {"file", "directory", NULL};
static const char *const R_RESOLVES[] = {"ipv4-addr", "ipv6-addr", "domain-name", NULL};
static const char *const R_USER[] = {"user-account", NULL};
static const char *const R_EMAIL[] = {"email-addr", NULL};
static const char *const R_ARTIFACT[] = {"artifact", NULL};
static const char *const R_DIRECTORY[] = {"directory", NULL};
static const char *const R_MAC[] = {"mac-addr", NULL};
static const char *const R_AS[] = {"autonomous-system", NULL};
static const char *const R_ENDPOINT[] = {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name", NULL};
static const char *const R_TRAFFIC[] = {"network-traffic", NULL};
static const char *const R_PROCESS[] = {"process", NULL};
static const char *const R_FILE[] = {"file", NULL};
static const char *const R_OBJ[] = {TQ__REF_OBJ, NULL};
static const char *const R_NOT_SDO[] = {TQ__REF_NOT_SDO, NULL};
static const char *const R_SCO[] = {TQ__REF_SCO, NULL};
static const char *const R_NOT_LC[] = {TQ__REF_NOT_LC, NULL};

/* Closed vocabularies (enumerations); everything named -ov in the spec is open. */
static const char *const E_OPINION[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                        "strongly-agree",    NULL};
static const char *const E_ENCRYPTION[] = {"AES-256-GCM", "ChaCha20-Poly1305",
                                           "mime-type-indicated", NULL};
static const char *const E_EXTENSION_TYPE[] = {
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};
static const char *const E_ADDRESS_FAMILY[] = {"AF_UNSPEC",    "AF_INET",    "AF_IPX",
                                               "AF_APPLETALK", "AF_NETBIOS", "AF_INET6",
                                               "AF_IRDA",      "AF_BTH",     NULL};
static const char *const E_SOCKET_TYPE[] = {"SOCK_STREAM", "SOCK_DGRAM",     "SOCK_RAW",
                                            "SOCK_RDM",    "SOCK_SEQPACKET", NULL};
static const char *const E_INTEGRITY[] = {"low", "medium", "high", "system", NULL};
static const char *const E_START_TYPE[] = {"SERVICE_AUTO_START",   "SERVICE_BOOT_START",
                                           "SERVICE_DEMAND_START", "SERVICE_DISABLED",
                                           "SERVICE_SYSTEM_ALERT", NULL};
static const char *const E_SERVICE_TYPE[] = {"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER",
                                             "SERVICE_WIN32_OWN_PROCESS",
                                             "SERVICE_WIN32_SHARE_PROCESS", NULL};
static const char *const E_SERVICE_STATUS[] = {
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED",  "SERVICE_RUNNING",
    "SERVICE_START_PENDING",    "SERVICE_STOP_PENDING",  "SERVICE_STOPPED", NULL};
static const char *const E_REG_DATATYPE[] = {"REG_NONE",
                                             "REG_SZ",
                                             "REG_EXPAND_SZ",
                                             "REG_BINARY",
                                             "REG_DWORD",
                                             "REG_DWORD_BIG_ENDIAN",
                                             "REG_DWORD_LITTLE_ENDIAN",
                                             "REG_LINK",
                                             "REG_MULTI_SZ",
                                             "REG_RESOURCE_LIST",
                                             "REG_FULL_RESOURCE_DESCRIPTION",
                                             "REG_RESOURCE_REQUIREMENTS_LIST",
                                             "REG_QWORD",
                                             "REG_INVALID_TYPE",
                                             NULL};

/* ---- semantic checks ----------------------------------------------------------------------- */

static void need(struct tq__stix_vctx *vc, const struct tq__stix_path *at, const char *name,
                 const char *why)
{
    struct tq__stix_path p = {at, name, 0};

    tq__stix_problem(vc, false, &p, "%s", why);
}

static void check_external_reference(struct tq__stix_vctx *vc, struct json_object *o,
                                     const struct tq__stix_path *at)
{
    struct json_object *v;
    struct tq_str src = TQ_STR_NULL, ext = TQ_STR_NULL;

    if (json_object_object_get_ex(o, "source_name", &v))
        src = tq__stix_jstr(v);
    if (json_object_object_get_ex(o, "external_id", &v))
        ext = tq__stix_jstr(v);
    if (!tq__stix_has(o, "description") && !tq__stix_has(o, "url") &&
        !tq__stix_has(o, "external_id"))
        tq__stix_problem(vc, false, at,
                         "an external reference needs description, url or external_id besides "
                         "source_name");
    if (tq_str_eq_c(src, "cve")) {
        bool ok = ext.len >= 9 && memcmp(ext.ptr, "CVE-", 4) == 0 && ext.ptr[8] == '-';

        for (size_t i = 4; ok && i < ext.len; i++)
            ok = i == 8 || (ext.ptr[i] >= '0' && ext.ptr[i] <= '9');
        if (!ok || ext.len < 13)
            need(vc, at, "external_id", "a cve reference needs an external_id CVE-YYYY-NNNN");
    } else if (tq_str_eq_c(src, "capec")) {
        bool ok = ext.len > 6 && memcmp(ext.ptr, "CAPEC-", 6) == 0;

        for (size_t i = 6; ok && i < ext.len; i++)
            ok = ext.ptr[i] >= '0' && ext.ptr[i] <= '9';
        if (!ok)
            need(vc, at, "external_id", "a capec reference needs an external_id CAPEC-N");
    }
}

static void check_granular(struct tq__stix_vctx *vc, struct json_object *o,
                           const struct tq__stix_path *at)
{
    bool ref = tq__stix_has(o, "marking_ref"), lang = tq__stix_has(o, "lang");

    if (ref == lang)
        tq__stix_problem(vc, false, at,
                         "a granular marking needs exactly one of marking_ref and lang");
}

static void check_location(struct tq__stix_vctx *vc, struct json_object *o,
                           const struct tq__stix_path *at)
{
    bool lat = tq__stix_has(o, "latitude"), lon = tq__stix_has(o, "longitude");

    if (lat != lon)
        need(vc, at, lat ? "longitude" : "latitude", "latitude and longitude go together");
    if (tq__stix_has(o, "precision") && !lat)
        need(vc, at, "precision", "precision requires latitude and longitude");
    if (!lat && !tq__stix_has(o, "region") && !tq__stix_has(o, "country"))
        tq__stix_problem(vc, false, at,
                         "a location needs region, country, or latitude and longitude");
}

static void check_malware(struct tq__stix_vctx *vc, struct json_object *o,
                          const struct tq__stix_path *at)
{
    struct json_object *v;

    if (json_object_object_get_ex(o, "is_family", &v) && json_object_get_boolean(v) &&
        !tq__stix_has(o, "name"))
        need(vc, at, "name", "required when is_family is true");
}

static void check_malware_analysis(struct tq__stix_vctx *vc, struct json_object *o,
                                   const struct tq__stix_path *at)
{
    if (!tq__stix_has(o, "result") && !tq__stix_has(o, "analysis_sco_refs"))
        need(vc, at, "result", "one of result and analysis_sco_refs must be present");
}

static void check_observed_data(struct tq__stix_vctx *vc, struct json_object *o,
                                const struct tq__stix_path *at)
{
    bool objs = tq__stix_has(o, "objects"), refs = tq__stix_has(o, "object_refs");

    if (objs == refs)
        need(vc, at, "object_refs", "exactly one of objects and object_refs must be present");
    else if (objs)
        tq__stix_problem(vc, true, at, "objects is deprecated in STIX 2.1; use object_refs");
}

static void check_artifact(struct tq__stix_vctx *vc, struct json_object *o,
                           const struct tq__stix_path *at)
{
    bool bin = tq__stix_has(o, "payload_bin"), url = tq__stix_has(o, "url");

    if (bin && url)
        need(vc, at, "url", "must not be present together with payload_bin");
    if (url && !tq__stix_has(o, "hashes"))
        need(vc, at, "hashes", "required when url is present");
    if (tq__stix_has(o, "decryption_key") && !tq__stix_has(o, "encryption_algorithm"))
        need(vc, at, "decryption_key", "requires encryption_algorithm");
}

static void check_email_message(struct tq__stix_vctx *vc, struct json_object *o,
                                const struct tq__stix_path *at)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, "is_multipart", &v) ||
        json_object_get_type(v) != json_type_boolean)
        return;
    if (json_object_get_boolean(v) && tq__stix_has(o, "body"))
        need(vc, at, "body", "must not be present when is_multipart is true");
    if (!json_object_get_boolean(v) && tq__stix_has(o, "body_multipart"))
        need(vc, at, "body_multipart", "must not be present when is_multipart is false");
}

static void check_mime_part(struct tq__stix_vctx *vc, struct json_object *o,
                            const struct tq__stix_path *at)
{
    if (tq__stix_has(o, "body") == tq__stix_has(o, "body_raw_ref"))
        tq__stix_problem(vc, false, at, "a MIME part needs exactly one of body and body_raw_ref");
}

static void check_file(struct tq__stix_vctx *vc, struct json_object *o,
                       const struct tq__stix_path *at)
{
    if (!tq__stix_has(o, "hashes") && !tq__stix_has(o, "name"))
        need(vc, at, "name", "a file needs hashes or name");
}

static void check_network_traffic(struct tq__stix_vctx *vc, struct json_object *o,
                                  const struct tq__stix_path *at)
{
    struct json_object *v;

    if (!tq__stix_has(o, "src_ref") && !tq__stix_has(o, "dst_ref"))
        need(vc, at, "src_ref", "one of src_ref and dst_ref must be present");
    if (json_object_object_get_ex(o, "is_active", &v) && json_object_get_boolean(v) &&
        tq__stix_has(o, "end"))
        need(vc, at, "end", "must not be present when is_active is true");
}

/* ---- the official TLP marking-definitions ------------------------------------------------ */

static const struct {
    const char *id;
    enum tq_tlp tlp;
    const char *name; /* the value of definition.tlp (1.0) or tlp_2_0 (2.0) */
    bool v1;
} official_tlp[] = {
    {TQ_TLP_CLEAR_ID, TQ_TLP_CLEAR, "clear", false},
    {TQ_TLP_GREEN_ID, TQ_TLP_GREEN, "green", false},
    {TQ_TLP_AMBER_ID, TQ_TLP_AMBER, "amber", false},
    {TQ_TLP_AMBER_STRICT_ID, TQ_TLP_AMBER_STRICT, "amber+strict", false},
    {TQ_TLP_RED_ID, TQ_TLP_RED, "red", false},
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TQ_TLP_CLEAR, "white", true},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", TQ_TLP_GREEN, "green", true},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TQ_TLP_AMBER, "amber", true},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", TQ_TLP_RED, "red", true},
};

#define N_OFFICIAL_TLP (sizeof(official_tlp) / sizeof(official_tlp[0]))

/* The index of id in official_tlp (hex digits in any case), or N_OFFICIAL_TLP. */
static size_t official_tlp_find(struct tq_str id)
{
    for (size_t i = 0; i < N_OFFICIAL_TLP; i++)
        if (id.len == strlen(official_tlp[i].id) &&
            strncasecmp(id.ptr, official_tlp[i].id, id.len) == 0)
            return i;
    return N_OFFICIAL_TLP;
}

enum tq_tlp tq_stix_tlp_official(struct tq_str id, bool *v1)
{
    size_t i = id.ptr ? official_tlp_find(id) : N_OFFICIAL_TLP;

    if (i == N_OFFICIAL_TLP)
        return TQ_TLP_UNSET;
    if (v1)
        *v1 = official_tlp[i].v1;
    return official_tlp[i].tlp;
}

/* True when o is a JSON object with exactly the string members k1 = v1 and k2 = v2 (k2 NULL:
 * only k1). */
static bool exactly(struct json_object *o, const char *k1, const char *v1, const char *k2,
                    const char *v2)
{
    struct json_object *v;

    if (!o || json_object_get_type(o) != json_type_object ||
        json_object_object_length(o) != (k2 ? 2 : 1))
        return false;
    if (!json_object_object_get_ex(o, k1, &v) || !tq_str_eq_c(tq__stix_jstr(v), v1))
        return false;
    return !k2 || (json_object_object_get_ex(o, k2, &v) && tq_str_eq_c(tq__stix_jstr(v), v2));
}

/*
 * A marking-definition that takes the id of an official TLP marking must say exactly what the
 * official one says: a TLP 1.0 id its definition_type "tlp" and definition {"tlp": level} and
 * no extensions, a TLP 2.0 id only the TLP 2.0 extension with its level and no definition.
 * Anything else under such an id is a forgery that could make RED read as GREEN on one node and
 * not on another; it is refused, so an official id always means one thing.
 */
static void check_official_tlp(struct tq__stix_vctx *vc, struct json_object *o,
                               const struct tq__stix_path *at)
{
    struct json_object *v = NULL, *ext = NULL, *def = NULL;
    size_t i = vc->id ? official_tlp_find(tq_str_c(vc->id)) : N_OFFICIAL_TLP;
    bool ok;

    if (i == N_OFFICIAL_TLP)
        return;
    json_object_object_get_ex(o, "extensions", &ext);
    json_object_object_get_ex(o, "definition", &def);
    if (official_tlp[i].v1) {
        ok = !ext && json_object_object_get_ex(o, "definition_type", &v) &&
             tq_str_eq_c(tq__stix_jstr(v), "tlp") &&
             exactly(def, "tlp", official_tlp[i].name, NULL, NULL);
    } else {
        ok = !def && !tq__stix_has(o, "definition_type") && ext &&
             json_object_get_type(ext) == json_type_object && json_object_object_length(ext) == 1 &&
             json_object_object_get_ex(ext, TQ_TLP2_EXTENSION_ID, &v) &&
             exactly(v, "extension_type", "property-extension", "tlp_2_0", official_tlp[i].name);
    }
    if (!ok)
        tq__stix_problem(vc, false, at,
                         "'%s' is the id of the official %s marking-definition TLP:%s, but this "
                         "object says something else; official TLP markings cannot be redefined",
                         vc->id, official_tlp[i].v1 ? "TLP 1.0" : "TLP 2.0", official_tlp[i].name);
}

static void check_marking(struct tq__stix_vctx *vc, struct json_object *o,
                          const struct tq__stix_path *at)
{
    static const char *const tlp[] = {"white", "green", "amber", "red", NULL};
    struct json_object *type, *def, *v;
    struct tq_str t;

    check_official_tlp(vc, o, at);
    if (!json_object_object_get_ex(o, "definition_type", &type) ||
        !json_object_object_get_ex(o, "definition", &def)) {
        if (!tq__stix_has(o, "extensions"))
            need(vc, at, tq__stix_has(o, "definition") ? "definition_type" : "definition",
                 "required when the marking has no extensions");
        return;
    }
    t = tq__stix_jstr(type);
    if (json_object_get_type(def) != json_type_object)
        return;
    if (tq_str_eq_c(t, "statement")) {
        if (!json_object_object_get_ex(def, "statement", &v) || !tq__stix_jstr(v).ptr)
            need(vc, at, "definition", "a statement marking needs definition.statement");
    } else if (tq_str_eq_c(t, "tlp")) {
        bool ok = json_object_object_get_ex(def, "tlp", &v);

        for (const char *const *c = tlp; ok && *c; c++)
            if (tq_str_eq_c(tq__stix_jstr(v), *c))
                return;
        need(vc, at, "definition", "a tlp marking needs definition.tlp white|green|amber|red");
    }
}

static void check_extension_definition(struct tq__stix_vctx *vc, struct json_object *o,
                                       const struct tq__stix_path *at)
{
    struct json_object *types;
    size_t n;

    if (!tq__stix_has(o, "extension_properties") ||
        !json_object_object_get_ex(o, "extension_types", &types) ||
        json_object_get_type(types) != json_type_array)
        return;
    n = json_object_array_length(types);
    for (size_t i = 0; i < n; i++)
        if (tq_str_eq_c(tq__stix_jstr(json_object_array_get_idx(types, i)),
                        "toplevel-property-extension"))
            return;
    need(vc, at, "extension_properties",
         "only allowed with extension_types toplevel-property-extension");
}

static void check_language_content(struct tq__stix_vctx *vc, struct json_object *o,
                                   const struct tq__stix_path *at)
{
    struct json_object *c;

    if (!json_object_object_get_ex(o, "contents", &c) ||
        json_object_get_type(c) != json_type_object)
        return;
    json_object_object_foreach(c, lang, tr)
    {
        struct tq__stix_path cp = {at, "contents", 0}, lp = {&cp, lang, 0};

        if (json_object_get_type(tr) != json_type_object || json_object_object_length(tr) == 0)
            tq__stix_problem(vc, false, &lp, "each language must map to a non-empty object");
    }
}

/* ---- nested structures --------------------------------------------------------------------- */

static const struct tq__stix_prop kcp_props[] = {
    REQ("kill_chain_name", STRING),
    REQ("phase_name", STRING),
};
static const struct tq__stix_table kcp_table = TABLE(kcp_props, NULL, TQ__SC_ANY, false);

static const struct tq__stix_prop extref_props[] = {
    REQ("source_name", STRING), P("description", STRING), P("url", STRING),
    P("hashes", HASHES),        P("external_id", STRING),
};
static const struct tq__stix_table extref_table =
    TABLE(extref_props, check_external_reference, TQ__SC_ANY, false);

static const struct tq__stix_prop granular_props[] = {
    {.name = "selectors",
     .kind = TQ__SK_STRINGS,
     .flags = TQ__SF_REQUIRED,
     .syntax = selector_valid,
     .what = "a valid selector"},
    SET("marking_ref", REF, R_MARKING),
    P("lang", STRING),
};
static const struct tq__stix_table granular_table =
    TABLE(granular_props, check_granular, TQ__SC_ANY, false);

/* ---- common properties --------------------------------------------------------------------- */

static const struct tq__stix_prop common_core_props[] = {
    REQ("type", TYPE),
    REQ("spec_version", SPEC_VERSION),
    REQ("id", ID),
    REQ("created", STAMP_MS),
    REQ("modified", STAMP_MS),
    /* The spec says identity; the OASIS validator's own examples point elsewhere, so: warn. */
    {.name = "created_by_ref", .kind = TQ__SK_REF, .flags = TQ__SF_SOFT_TARGET, .set = R_IDENTITY},
    P("revoked", BOOL),
    P("labels", STRINGS),
    INT("confidence", 0, 100),
    P("lang", STRING),
    SUB("external_references", OBJECTS, extref_table),
    SET("object_marking_refs", REFS, R_MARKING),
    SUB("granular_markings", OBJECTS, granular_table),
    P("extensions", EXTENSIONS),
};
const struct tq__stix_table tq__stix_common_core =
    TABLE(common_core_props, NULL, TQ__SC_PROPERTY, false);

static const struct tq__stix_prop common_sco_props[] = {
    REQ("type", TYPE),
    P("spec_version", SPEC_VERSION),
    REQ("id", ID),
    SET("object_marking_refs", REFS, R_MARKING),
    SUB("granular_markings", OBJECTS, granular_table),
    P("defanged", BOOL),
    P("extensions", EXTENSIONS),
    P("created", FORBIDDEN),
    P("modified", FORBIDDEN),
    P("created_by_ref", FORBIDDEN),
    P("revoked", FORBIDDEN),
    P("labels", FORBIDDEN),
    P("confidence", FORBIDDEN),
    P("lang", FORBIDDEN),
    P("external_references", FORBIDDEN),
};
const struct tq__stix_table tq__stix_common_sco =
    TABLE(common_sco_props, NULL, TQ__SC_PROPERTY, false);

/* ---- SDOs ---------------------------------------------------------------------------------- */

static const struct tq__stix_prop attack_pattern[] = {
    REQ("name", STRING),
    P("description", STRING),
    P("aliases", STRINGS),
    SUB("kill_chain_phases", OBJECTS, kcp_table),
};

static const struct tq__stix_prop campaign[] = {
    REQ("name", STRING),    P("description", STRING), P("aliases", STRINGS),
    P("first_seen", STAMP), P("last_seen", STAMP),    P("objective", STRING),
};

static const struct tq__stix_prop course_of_action[] = {
    REQ("name", STRING),
    P("description", STRING),
};

static const struct tq__stix_prop grouping[] = {
    P("name", STRING),
    P("description", STRING),
    REQ("context", STRING),
    REQ("object_refs", REFS),
};

static const struct tq__stix_prop identity[] = {
    REQ("name", STRING),         P("description", STRING), P("roles", STRINGS),
    P("identity_class", STRING), P("sectors", STRINGS),    P("contact_information", STRING),
};

static const struct tq__stix_prop incident[] = {
    REQ("name", STRING),
    P("description", STRING),
    SUB("kill_chain_phases", OBJECTS, kcp_table),
};

static const struct tq__stix_prop indicator[] = {
    P("name", STRING),
    P("description", STRING),
    P("indicator_types", STRINGS),
    REQ("pattern", STRING),
    REQ("pattern_type", STRING),
    P("pattern_version", STRING),
    REQ("valid_from", STAMP),
    P("valid_until", STAMP),
    SUB("kill_chain_phases", OBJECTS, kcp_table),
};

static const struct tq__stix_prop infrastructure[] = {
    REQ("name", STRING),
    P("description", STRING),
    P("infrastructure_types", STRINGS),
    P("aliases", STRINGS),
    SUB("kill_chain_phases", OBJECTS, kcp_table),
    P("first_seen", STAMP),
    P("last_seen", STAMP),
};

static const struct tq__stix_prop intrusion_set[] = {
    REQ("name", STRING),
    P("description", STRING),
    P("aliases", STRINGS),
    P("first_seen", STAMP),
    P("last_seen", STAMP),
    P("goals", STRINGS),
    P("resource_level", STRING),
    P("primary_motivation", STRING),
    P("secondary_motivations", STRINGS),
};

static const struct tq__stix_prop location[] = {
    P("name", STRING),
    P("description", STRING),
    {.name = "latitude", .kind = TQ__SK_NUMBER, .min = -90, .max = 90},
    {.name = "longitude", .kind = TQ__SK_NUMBER, .min = -180, .max = 180},
    {.name = "precision", .kind = TQ__SK_NUMBER, .min = 0, .max = INT64_MAX / 2},
    P("region", STRING),
    P("country", STRING),
    P("administrative_area", STRING),
    P("city", STRING),
    P("street_address", STRING),
    P("postal_code", STRING),
};

static const struct tq__stix_prop malware[] = {
    P("name", STRING),
    P("description", STRING),
    P("malware_types", STRINGS),
    REQ("is_family", BOOL),
    P("aliases", STRINGS),
    SUB("kill_chain_phases", OBJECTS, kcp_table),
    P("first_seen", STAMP),
    P("last_seen", STAMP),
    SET("operating_system_refs", REFS, R_SOFTWARE),
    P("architecture_execution_envs", STRINGS),
    P("implementation_languages", STRINGS),
    P("capabilities", STRINGS),
    SET("sample_refs", REFS, R_FILE_ARTIFACT),
};

static const struct tq__stix_prop malware_analysis[] = {
    REQ("product", STRING),
    P("version", STRING),
    SET("host_vm_ref", REF, R_SOFTWARE),
    SET("operating_system_ref", REF, R_SOFTWARE),
    SET("installed_software_refs", REFS, R_SOFTWARE),
    P("configuration_version", STRING),
    P("modules", STRINGS),
    P("analysis_engine_version", STRING),
    P("analysis_definition_version", STRING),
    P("submitted", STAMP),
    P("analysis_started", STAMP),
    P("analysis_ended", STAMP),
    P("result_name", STRING),
    P("result", STRING),
    SET("analysis_sco_refs", REFS, R_SCO),
    SET("sample_ref", REF, R_SAMPLE),
};

static const struct tq__stix_prop note[] = {
    P("abstract", STRING),
    REQ("content", STRING),
    P("authors", STRINGS),
    REQ("object_refs", REFS),
};

static const struct tq__stix_prop observed_data[] = {
    REQ("first_observed", STAMP),
    REQ("last_observed", STAMP),
    {.name = "number_observed",
     .kind = TQ__SK_INT,
     .flags = TQ__SF_REQUIRED,
     .min = 1,
     .max = 999999999},
    P("objects", DICT),
    SET("object_refs", REFS, R_NOT_SDO),
};

static const struct tq__stix_prop opinion[] = {
    P("explanation", STRING),
    P("authors", STRINGS),
    REQSET("opinion", ENUM, E_OPINION),
    REQ("object_refs", REFS),
};

static const struct tq__stix_prop report[] = {
    REQ("name", STRING),     P("description", STRING), P("report_types", STRINGS),
    REQ("published", STAMP), REQ("object_refs", REFS),
};

static const struct tq__stix_prop threat_actor[] = {
    REQ("name", STRING),
    P("description", STRING),
    P("threat_actor_types", STRINGS),
    P("aliases", STRINGS),
    P("first_seen", STAMP),
    P("last_seen", STAMP),
    P("roles", STRINGS),
    P("goals", STRINGS),
    P("sophistication", STRING),
    P("resource_level", STRING),
    P("primary_motivation", STRING),
    P("secondary_motivations", STRINGS),
    P("personal_motivations", STRINGS),
};

static const struct tq__stix_prop tool[] = {
    REQ("name", STRING),
    P("description", STRING),
    P("tool_types", STRINGS),
    P("aliases", STRINGS),
    SUB("kill_chain_phases", OBJECTS, kcp_table),
    P("tool_version", STRING),
};

static const struct tq__stix_prop vulnerability[] = {
    REQ("name", STRING),
    P("description", STRING),
};

/* ---- SROs ---------------------------------------------------------------------------------- */

static const struct tq__stix_prop relationship[] = {
    {.name = "relationship_type",
     .kind = TQ__SK_STRING,
     .flags = TQ__SF_REQUIRED,
     .syntax = rel_type_valid,
     .what = "made of a-z, 0-9 and hyphens"},
    P("description", STRING),
    REQSET("source_ref", REF, R_OBJ),
    REQSET("target_ref", REF, R_OBJ),
    P("start_time", STAMP),
    P("stop_time", STAMP),
};

static const struct tq__stix_prop sighting[] = {
    P("description", STRING),
    P("first_seen", STAMP),
    P("last_seen", STAMP),
    INT("count", 0, 999999999),
    REQSET("sighting_of_ref", REF, R_OBJ),
    SET("observed_data_refs", REFS, R_OBSERVED),
    SET("where_sighted_refs", REFS, R_WHERE),
    P("summary", BOOL),
};

/* ---- meta objects -------------------------------------------------------------------------- */

static const struct tq__stix_prop language_content[] = {
    REQSET("object_ref", REF, R_NOT_LC),
    P("object_modified", STAMP),
    REQ("contents", OBJECT),
};

static const struct tq__stix_prop extension_definition[] = {
    REQ("name", STRING),
    P("description", STRING),
    REQ("schema", STRING),
    REQ("version", STRING),
    REQSET("extension_types", ENUMS, E_EXTENSION_TYPE),
    P("extension_properties", STRINGS),
    REQSET("created_by_ref", REF, R_IDENTITY),
};

/* Marking definitions are not versioned: their table is complete, without common properties. */
static const struct tq__stix_prop marking_definition[] = {
    REQ("type", TYPE),
    REQ("spec_version", SPEC_VERSION),
    REQ("id", ID),
    {.name = "created", .kind = TQ__SK_STAMP_MS, .flags = TQ__SF_REQUIRED | TQ__SF_SOFT},
    SET("created_by_ref", REF, R_IDENTITY),
    SUB("external_references", OBJECTS, extref_table),
    SET("object_marking_refs", REFS, R_MARKING),
    SUB("granular_markings", OBJECTS, granular_table),
    P("extensions", EXTENSIONS),
    P("name", STRING),
    P("definition_type", STRING),
    P("definition", OBJECT),
    P("modified", FORBIDDEN),
    P("revoked", FORBIDDEN),
    P("labels", FORBIDDEN),
    P("confidence", FORBIDDEN),
    P("lang", FORBIDDEN),
};

/* ---- SCOs ---------------------------------------------------------------------------------- */

/*
 * The OASIS schemas type SCO references as plain strings, and the validator's own examples use
 * malformed ones, so a bad SCO reference is a warning; the spec's MUST is kept for SDO/SRO
 * references and for the common properties.
 */

static const struct tq__stix_prop artifact[] = {
    SYN("mime_type", mime_valid, "an IANA media type", TQ__SF_SOFT),
    P("payload_bin", BIN),
    P("url", STRING),
    P("hashes", HASHES),
    SET("encryption_algorithm", ENUM, E_ENCRYPTION),
    P("decryption_key", STRING),
};

static const struct tq__stix_prop autonomous_system[] = {
    REQ("number", INT),
    P("name", STRING),
    P("rir", STRING),
};

static const struct tq__stix_prop directory[] = {
    REQ("path", STRING), SYN("path_enc", enc_name_valid, "a character set name", TQ__SF_SOFT),
    P("ctime", STAMP),   P("mtime", STAMP),
    P("atime", STAMP),   SOFTSET("contains_refs", REFS, R_FILE_DIR),
};

static const struct tq__stix_prop domain_name[] = {
    REQ("value", STRING),
    SOFTSET("resolves_to_refs", REFS, R_RESOLVES),
};

static const struct tq__stix_prop email_addr[] = {
    REQ("value", STRING),
    P("display_name", STRING),
    SOFTSET("belongs_to_ref", REF, R_USER),
};

static const struct tq__stix_prop mime_part[] = {
    P("body", STRING),
    SOFTSET("body_raw_ref", REF, R_FILE_ARTIFACT),
    P("content_type", STRING),
    P("content_disposition", STRING),
};
static const struct tq__stix_table mime_part_table =
    TABLE(mime_part, check_mime_part, TQ__SC_ANY, false);

static const struct tq__stix_prop email_message[] = {
    REQ("is_multipart", BOOL),
    P("date", STAMP),
    P("content_type", STRING),
    SOFTSET("from_ref", REF, R_EMAIL),
    SOFTSET("sender_ref", REF, R_EMAIL),
    SOFTSET("to_refs", REFS, R_EMAIL),
    SOFTSET("cc_refs", REFS, R_EMAIL),
    SOFTSET("bcc_refs", REFS, R_EMAIL),
    P("message_id", STRING),
    P("subject", STRING),
    P("received_lines", STRINGS),
    P("additional_header_fields", DICT),
    P("body", STRING),
    SUB("body_multipart", OBJECTS, mime_part_table),
    SOFTSET("raw_email_ref", REF, R_ARTIFACT),
};

static const struct tq__stix_prop file[] = {
    P("hashes", HASHES),
    INT("size", 0, INT64_MAX),
    P("name", STRING),
    SYN("name_enc", enc_name_valid, "a character set name", TQ__SF_SOFT),
    P("magic_number_hex", HEX),
    P("mime_type", STRING),
    P("ctime", STAMP),
    P("mtime", STAMP),
    P("atime", STAMP),
    SOFTSET("parent_directory_ref", REF, R_DIRECTORY),
    SOFTSET("contains_refs", REFS, R_SCO),
    SOFTSET("content_ref", REF, R_ARTIFACT),
};

static const struct tq__stix_prop ipv4_addr[] = {
    {.name = "value",
     .kind = TQ__SK_STRING,
     .flags = TQ__SF_REQUIRED,
     .syntax = ipv4_valid,
     .what = "an IPv4 address or CIDR block"},
    SOFTSET("resolves_to_refs", REFS, R_MAC),
    SOFTSET("belongs_to_refs", REFS, R_AS),
};

static const struct tq__stix_prop ipv6_addr[] = {
    {.name = "value",
     .kind = TQ__SK_STRING,
     .flags = TQ__SF_REQUIRED,
     .syntax = ipv6_valid,
     .what = "an IPv6 address or CIDR block"},
    SOFTSET("resolves_to_refs", REFS, R_MAC),
    SOFTSET("belongs_to_refs", REFS, R_AS),
};

static const struct tq__stix_prop mac_addr[] = {
    {.name = "value",
     .kind = TQ__SK_STRING,
     .flags = TQ__SF_REQUIRED,
     .syntax = mac_valid,
     .what = "a lower-case, colon-separated MAC address"},
};

static const struct tq__stix_prop mutex[] = {
    REQ("name", STRING),
};

static const struct tq__stix_prop network_traffic[] = {
    P("start", STAMP),
    P("end", STAMP),
    P("is_active", BOOL),
    SOFTSET("src_ref", REF, R_ENDPOINT),
    SOFTSET("dst_ref", REF, R_ENDPOINT),
    INT("src_port", 0, 65535),
    INT("dst_port", 0, 65535),
    REQ("protocols", STRINGS),
    INT("src_byte_count", 0, INT64_MAX),
    INT("dst_byte_count", 0, INT64_MAX),
    INT("src_packets", 0, INT64_MAX),
    INT("dst_packets", 0, INT64_MAX),
    P("ipfix", DICT),
    SOFTSET("src_payload_ref", REF, R_ARTIFACT),
    SOFTSET("dst_payload_ref", REF, R_ARTIFACT),
    SOFTSET("encapsulates_refs", REFS, R_TRAFFIC),
    SOFTSET("encapsulated_by_ref", REF, R_TRAFFIC),
};

static const struct tq__stix_prop process[] = {
    P("is_hidden", BOOL),
    P("pid", INT),
    P("created_time", STAMP),
    P("cwd", STRING),
    P("command_line", STRING),
    P("environment_variables", DICT),
    SOFTSET("opened_connection_refs", REFS, R_TRAFFIC),
    SOFTSET("creator_user_ref", REF, R_USER),
    SOFTSET("image_ref", REF, R_FILE),
    SOFTSET("parent_ref", REF, R_PROCESS),
    SOFTSET("child_refs", REFS, R_PROCESS),
};

static const struct tq__stix_prop software[] = {
    REQ("name", STRING),     P("cpe", STRING),    P("swid", STRING),
    P("languages", STRINGS), P("vendor", STRING), P("version", STRING),
};

static const struct tq__stix_prop url[] = {
    REQ("value", STRING),
};

static const struct tq__stix_prop user_account[] = {
    P("user_id", STRING),
    P("credential", STRING),
    P("account_login", STRING),
    P("account_type", STRING),
    P("display_name", STRING),
    P("is_service_account", BOOL),
    P("is_privileged", BOOL),
    P("can_escalate_privs", BOOL),
    P("is_disabled", BOOL),
    P("account_created", STAMP),
    P("account_expires", STAMP),
    P("credential_last_changed", STAMP),
    P("account_first_login", STAMP),
    P("account_last_login", STAMP),
};

static const struct tq__stix_prop registry_value[] = {
    P("name", STRING),
    P("data", STRING),
    SET("data_type", ENUM, E_REG_DATATYPE),
};
static const struct tq__stix_table registry_value_table =
    TABLE(registry_value, NULL, TQ__SC_ANY, true);

static const struct tq__stix_prop windows_registry_key[] = {
    SYN("key", regkey_valid, "a key with a full hive name (no HKLM-style abbreviation)", 0),
    SUB("values", OBJECTS, registry_value_table),
    P("modified_time", STAMP),
    SOFTSET("creator_user_ref", REF, R_USER),
    INT("number_of_subkeys", 0, INT64_MAX),
};

static const struct tq__stix_prop x509_certificate[] = {
    P("is_self_signed", BOOL),
    P("hashes", HASHES),
    P("version", STRING),
    P("serial_number", STRING),
    P("signature_algorithm", STRING),
    P("issuer", STRING),
    P("validity_not_before", STAMP),
    P("validity_not_after", STAMP),
    P("subject", STRING),
    P("subject_public_key_algorithm", STRING),
    P("subject_public_key_modulus", STRING),
    P("subject_public_key_exponent", INT),
    P("x509_v3_extensions", OBJECT),
};

/* ---- predefined SCO extensions ------------------------------------------------------------- */

static const struct tq__stix_prop ads[] = {
    REQ("name", STRING),
    P("hashes", HASHES),
    INT("size", 0, INT64_MAX),
};
static const struct tq__stix_table ads_table = TABLE(ads, NULL, TQ__SC_ANY, false);

static const struct tq__stix_prop ntfs_ext[] = {
    P("sid", STRING),
    SUB("alternate_data_streams", OBJECTS, ads_table),
};

static const struct tq__stix_prop raster_ext[] = {
    P("image_height", INT),
    P("image_width", INT),
    P("bits_per_pixel", INT),
    P("exif_tags", DICT),
};

static const struct tq__stix_prop pdf_ext[] = {
    P("version", STRING), P("is_optimized", BOOL), P("document_info_dict", DICT),
    P("pdfid0", STRING),  P("pdfid1", STRING),
};

static const struct tq__stix_prop archive_ext[] = {
    REQSOFT("contains_refs", REFS, R_FILE_DIR),
    P("comment", STRING),
};

static const struct tq__stix_prop pebinary_ext[] = {
    REQ("pe_type", STRING),
    P("imphash", STRING),
    P("machine_hex", HEX),
    INT("number_of_sections", 0, INT64_MAX),
    P("time_date_stamp", STAMP),
    P("pointer_to_symbol_table_hex", HEX),
    INT("number_of_symbols", 0, INT64_MAX),
    INT("size_of_optional_header", 0, INT64_MAX),
    P("characteristics_hex", HEX),
    P("file_header_hashes", HASHES),
    P("optional_header", OBJECT),
    P("sections", OBJECTS),
};

static const struct tq__stix_prop http_ext[] = {
    REQ("request_method", STRING),
    REQ("request_value", STRING),
    P("request_version", STRING),
    P("request_header", DICT),
    INT("message_body_length", 0, INT64_MAX),
    SOFTSET("message_body_data_ref", REF, R_ARTIFACT),
};

static const struct tq__stix_prop icmp_ext[] = {
    REQ("icmp_type_hex", HEX),
    REQ("icmp_code_hex", HEX),
};

static const struct tq__stix_prop socket_ext[] = {
    REQSET("address_family", ENUM, E_ADDRESS_FAMILY),
    P("is_blocking", BOOL),
    P("is_listening", BOOL),
    P("options", DICT),
    SET("socket_type", ENUM, E_SOCKET_TYPE),
    INT("socket_descriptor", 0, INT64_MAX),
    P("socket_handle", INT),
};

static const struct tq__stix_prop tcp_ext[] = {
    P("src_flags_hex", HEX),
    P("dst_flags_hex", HEX),
};

static const struct tq__stix_prop winproc_ext[] = {
    P("aslr_enabled", BOOL),
    P("dep_enabled", BOOL),
    P("priority", STRING),
    P("owner_sid", STRING),
    P("window_title", STRING),
    P("startup_info", DICT),
    SET("integrity_level", ENUM, E_INTEGRITY),
};

static const struct tq__stix_prop winsvc_ext[] = {
    P("service_name", STRING),
    P("descriptions", STRINGS),
    P("display_name", STRING),
    P("group_name", STRING),
    SET("start_type", ENUM, E_START_TYPE),
    SOFTSET("service_dll_refs", REFS, R_FILE),
    SET("service_type", ENUM, E_SERVICE_TYPE),
    SET("service_status", ENUM, E_SERVICE_STATUS),
};

static const struct tq__stix_prop unix_ext[] = {
    P("gid", INT),
    P("groups", STRINGS),
    P("home_dir", STRING),
    P("shell", STRING),
};

#define EXT(t, n, props, need_any)                                                                 \
    {                                                                                              \
        (t), (n), &(const struct tq__stix_table)TABLE(props, NULL, TQ__SC_QUIET, need_any)         \
    }

static const struct tq__stix_ext exts[] = {
    EXT("file", "ntfs-ext", ntfs_ext, true),
    EXT("file", "raster-image-ext", raster_ext, true),
    EXT("file", "pdf-ext", pdf_ext, true),
    EXT("file", "archive-ext", archive_ext, false),
    EXT("file", "windows-pebinary-ext", pebinary_ext, false),
    EXT("network-traffic", "http-request-ext", http_ext, false),
    EXT("network-traffic", "icmp-ext", icmp_ext, false),
    EXT("network-traffic", "socket-ext", socket_ext, false),
    EXT("network-traffic", "tcp-ext", tcp_ext, true),
    EXT("process", "windows-process-ext", winproc_ext, true),
    EXT("process", "windows-service-ext", winsvc_ext, true),
    EXT("user-account", "unix-account-ext", unix_ext, true),
};

const struct tq__stix_table *tq__stix_ext_find(const char *type, const char *ext)
{
    for (size_t i = 0; i < ARRAY_LEN(exts); i++)
        if (strcmp(exts[i].name, ext) == 0 && strcmp(exts[i].type, type) == 0)
            return exts[i].table;
    return NULL;
}

/* ---- the type index ------------------------------------------------------------------------ */

#define T(name, cls, props, check, need_any)                                                       \
    {                                                                                              \
        (name), TQ__CL_##cls,                                                                      \
            &(const struct tq__stix_table)TABLE(props, check, TQ__SC_PROPERTY, need_any)           \
    }

/* Sorted by name for bsearch. */
static const struct tq__stix_type types[] = {
    T("artifact", SCO, artifact, check_artifact, false),
    T("attack-pattern", SDO, attack_pattern, NULL, false),
    T("autonomous-system", SCO, autonomous_system, NULL, false),
    T("campaign", SDO, campaign, NULL, false),
    T("course-of-action", SDO, course_of_action, NULL, false),
    T("directory", SCO, directory, NULL, false),
    T("domain-name", SCO, domain_name, NULL, false),
    T("email-addr", SCO, email_addr, NULL, false),
    T("email-message", SCO, email_message, check_email_message, false),
    T("extension-definition", META, extension_definition, check_extension_definition, false),
    T("file", SCO, file, check_file, false),
    T("grouping", SDO, grouping, NULL, false),
    T("identity", SDO, identity, NULL, false),
    T("incident", SDO, incident, NULL, false),
    T("indicator", SDO, indicator, NULL, false),
    T("infrastructure", SDO, infrastructure, NULL, false),
    T("intrusion-set", SDO, intrusion_set, NULL, false),
    T("ipv4-addr", SCO, ipv4_addr, NULL, false),
    T("ipv6-addr", SCO, ipv6_addr, NULL, false),
    T("language-content", META, language_content, check_language_content, false),
    T("location", SDO, location, check_location, false),
    T("mac-addr", SCO, mac_addr, NULL, false),
    T("malware", SDO, malware, check_malware, false),
    T("malware-analysis", SDO, malware_analysis, check_malware_analysis, false),
    T("marking-definition", MARKING, marking_definition, check_marking, false),
    T("mutex", SCO, mutex, NULL, false),
    T("network-traffic", SCO, network_traffic, check_network_traffic, false),
    T("note", SDO, note, NULL, false),
    T("observed-data", SDO, observed_data, check_observed_data, false),
    T("opinion", SDO, opinion, NULL, false),
    T("process", SCO, process, NULL, true),
    T("relationship", SRO, relationship, NULL, false),
    T("report", SDO, report, NULL, false),
    T("sighting", SRO, sighting, NULL, false),
    T("software", SCO, software, NULL, false),
    T("threat-actor", SDO, threat_actor, NULL, false),
    T("tool", SDO, tool, NULL, false),
    T("url", SCO, url, NULL, false),
    T("user-account", SCO, user_account, NULL, true),
    T("vulnerability", SDO, vulnerability, NULL, false),
    T("windows-registry-key", SCO, windows_registry_key, NULL, true),
    T("x509-certificate", SCO, x509_certificate, NULL, true),
};

/* strcmp order of a counted string against a C string, without strlen. */
static int name_cmp(struct tq_str a, const char *b)
{
    for (size_t i = 0; i < a.len; i++) {
        if (b[i] == '\0' || (unsigned char)a.ptr[i] != (unsigned char)b[i])
            return b[i] == '\0' ? 1 : (unsigned char)a.ptr[i] < (unsigned char)b[i] ? -1 : 1;
    }
    return b[a.len] == '\0' ? 0 : -1;
}

const struct tq__stix_type *tq__stix_type_find(struct tq_str name)
{
    size_t lo = 0, hi = ARRAY_LEN(types);

    if (!name.ptr)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, types[mid].name);

        if (c == 0)
            return &types[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Timestamps that the spec orders. */
const struct tq__stix_order tq__stix_orders[] = {
    {"campaign", "first_seen", "last_seen", false},
    {"infrastructure", "first_seen", "last_seen", false},
    {"intrusion-set", "first_seen", "last_seen", false},
    {"malware", "first_seen", "last_seen", false},
    {"threat-actor", "first_seen", "last_seen", false},
    {"sighting", "first_seen", "last_seen", false},
    {"indicator", "valid_from", "valid_until", true},
    {"observed-data", "first_observed", "last_observed", false},
    {"relationship", "start_time", "stop_time", true},
    {"network-traffic", "start", "end", false},
    {"malware-analysis", "analysis_started", "analysis_ended", false},
    {"x509-certificate", "validity_not_before", "validity_not_after", false},
};
const size_t tq__stix_n_orders = ARRAY_LEN(tq__stix_orders);
