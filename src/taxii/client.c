/* SPDX-License-Identifier: Apache-2.0
 *
 * taxii/client.c - the node's TAXII 2.1 client on libcurl (the partner-sync side).
 *
 * One CURL easy handle per client, configured once in tq_client_new and reused for every
 * request, so libcurl keeps the connection (and its TLS session) alive between them. Every
 * answer is read into one capped tq_buf, checked for the TAXII media type, parsed with the
 * strict tq_json_parse and only then read as a resource; objects are validated with the STIX
 * rules of src/stix like any other untrusted input. libcurl is initialised once per process
 * (pthread_once) and never cleaned up: its global state lives until exit.
 * docs/internals/client.md has the error mapping and the limits.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "tansiq/client.h"
#include "tansiq/json.h"
#include "taxii/taxii.h"

#define CONNECT_TIMEOUT_DEFAULT_MS 10000u
#define TIMEOUT_DEFAULT_MS 300000u
#define URL_MAX 8192        /* longest request URL we build */
#define SERVER_TEXT_MAX 200 /* bytes of a server's error title or description we repeat */
#define ROOT_DEFAULT "api"

struct tq_client {
    CURL *curl;
    char *base; /* "https://host:port", no trailing slash */
    char *root; /* api root path, no leading or trailing slash */
    struct curl_slist *hdr_get;
    struct curl_slist *hdr_post;
    size_t max_response;
    uint64_t connections;

    /* per request */
    struct tq_buf body;
    bool body_toobig;
    char date_first[TQ_TIME_STR_MAX];
    char date_last[TQ_TIME_STR_MAX];
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- process-wide libcurl initialisation ------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* Copy untrusted server text into out, replacing control bytes, at most SERVER_TEXT_MAX. */
static void sanitize(const char *s, char out[SERVER_TEXT_MAX + 1])
{
    size_t i;

    for (i = 0; s && s[i] && i < SERVER_TEXT_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[i] = '\0';
}

/* Append s percent-encoded: everything but RFC 3986 unreserved bytes (and ',' when
 * keep_comma, the list separator of TAXII filters) is escaped. */
static tq_rc append_pct(struct tq_buf *b, const char *s, bool keep_comma)
{
    static const char hex[] = "0123456789ABCDEF";
    tq_rc rc = TQ_OK;

    for (size_t i = 0; s[i] && rc == TQ_OK; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
                     (keep_comma && ch == ',');

        if (plain) {
            rc = tq_buf_append(b, &s[i], 1);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            rc = tq_buf_append(b, e, 3);
        }
    }
    return rc;
}

static bool media_is_taxii(const char *ct)
{
    static const char type[] = "application/taxii+json";
    const char *p;

    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, type, sizeof(type) - 1) != 0)
        return false;
    p = ct + sizeof(type) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return true;
    if (*p != ';')
        return false;
    /* A version parameter, when present, must be 2.1. */
    p = strcasestr(p, "version=");
    if (!p)
        return true;
    p += 8;
    if (*p == '"')
        p++;
    return strncmp(p, "2.1", 3) == 0 &&
           (p[3] == '\0' || p[3] == '"' || p[3] == ';' || p[3] == ' ' || p[3] == '\t');
}

/* json-c helpers: NULL / false when the member is absent or of another type. */
static const char *jstr(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool jbool(struct json_object *o, const char *key, bool *out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
        return false;
    *out = json_object_get_boolean(v);
    return true;
}

static bool jcount(struct json_object *o, const char *key, uint64_t *out)
{
    struct json_object *v;
    int64_t n;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    n = json_object_get_int64(v);
    if (n < 0)
        return false;
    *out = (uint64_t)n;
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? tq_xstrdup(s) : NULL;
}

/* ---- libcurl callbacks ------------------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct tq_client *c = ud;
    size_t n = size * nmemb;

    if (tq_buf_append(&c->body, ptr, n) != TQ_OK) {
        c->body_toobig = true;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Keep one header value when it is a plausible timestamp (checked again by the caller). */
static void keep_header(const char *v, size_t len, char out[TQ_TIME_STR_MAX])
{
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 &&
           (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= TQ_TIME_STR_MAX)
        return;
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    static const char first[] = "X-TAXII-Date-Added-First:";
    static const char last[] = "X-TAXII-Date-Added-Last:";
    struct tq_client *c = ud;
    size_t n = size * nmemb;

    /* A status line starts the headers of a new response: forget the previous one's. */
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        c->date_first[0] = '\0';
        c->date_last[0] = '\0';
    } else if (n > sizeof(first) - 1 && strncasecmp(ptr, first, sizeof(first) - 1) == 0) {
        keep_header(ptr + sizeof(first) - 1, n - (sizeof(first) - 1), c->date_first);
    } else if (n > sizeof(last) - 1 && strncasecmp(ptr, last, sizeof(last) - 1) == 0) {
        keep_header(ptr + sizeof(last) - 1, n - (sizeof(last) - 1), c->date_last);
    }
    return n;
}

/* ---- create and free -------------------------------------------------------------------- */

/* https://authority with no userinfo, query or fragment; a trailing path is allowed. */
static tq_rc check_base_url(const char *url, struct tq_err *err)
{
    const char *auth, *end;

    if (!url || strncasecmp(url, "https://", 8) != 0)
        return tq_err_set(err, TQ_EINVAL, "the base URL must start with https://");
    auth = url + 8;
    end = auth + strcspn(auth, "/");
    if (end == auth)
        return tq_err_set(err, TQ_EINVAL, "the base URL has no host");
    if (memchr(auth, '@', (size_t)(end - auth)))
        return tq_err_set(err, TQ_EINVAL,
                          "the base URL must not carry credentials: use the user and password "
                          "or token options");
    if (strpbrk(url, "?# \t\r\n"))
        return tq_err_set(err, TQ_EINVAL, "the base URL must not hold a query or fragment");
    if (strlen(url) > URL_MAX / 2)
        return tq_err_set(err, TQ_EINVAL, "the base URL is too long");
    return TQ_OK;
}

/* Copy s without leading and trailing slashes. */
static char *trim_slashes(const char *s, bool leading)
{
    size_t len;

    while (leading && *s == '/')
        s++;
    len = strlen(s);
    while (len > 0 && s[len - 1] == '/')
        len--;
    return tq_xstrndup(s, len);
}

static tq_rc setopt_failed(CURLcode cc, const char *what, struct tq_err *err)
{
    return tq_err_set(err, cc == CURLE_OUT_OF_MEMORY ? TQ_ENOMEM : TQ_EINVAL,
                      "libcurl refused the %s option: %s", what, curl_easy_strerror(cc));
}

static tq_rc configure(struct tq_client *c, const struct tq_client_options *o, struct tq_err *err)
{
    CURL *h = c->curl;
    CURLcode cc;

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        cc = curl_easy_setopt(h, opt, val);                                                        \
        if (cc != CURLE_OK)                                                                        \
            return setopt_failed(cc, #opt, err);                                                   \
    } while (0)

    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "https");
#else
    SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    /* Redirects are not followed: a partner that moves must be reconfigured, and credentials
     * never travel to a host we were not told about. */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    if (o->ca_pem) {
#if LIBCURL_VERSION_NUM >= 0x074d00
        struct curl_blob blob = {
            .data = (void *)(uintptr_t)o->ca_pem, /* copied by libcurl (CURL_BLOB_COPY) */
            .len = strlen(o->ca_pem),
            .flags = CURL_BLOB_COPY,
        };
        SET(CURLOPT_CAINFO_BLOB, &blob);
#else
        return tq_err_set(err, TQ_ENOTSUP, "an in-memory CA needs libcurl 7.77 or later");
#endif
    }
    /* Trust exactly what was given: a CA directory compiled into libcurl would otherwise let
     * any public CA vouch for the host. */
    if (o->ca_file || o->ca_pem)
        SET(CURLOPT_CAPATH, (char *)NULL);
    if (o->pinned_pubkey)
        SET(CURLOPT_PINNEDPUBLICKEY, o->pinned_pubkey);
    if (o->client_cert_file) {
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLCERT, o->client_cert_file);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
        SET(CURLOPT_SSLKEY, o->client_key_file);
    }
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        (long)(o->connect_timeout_ms ? o->connect_timeout_ms : CONNECT_TIMEOUT_DEFAULT_MS));
    SET(CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms ? o->timeout_ms : TIMEOUT_DEFAULT_MS));
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    /* Refuse early when the server announces a larger body; on_body enforces it otherwise. */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
    /* libcurl keeps its own copies of the credentials for the life of the handle. */
    if (o->token) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        SET(CURLOPT_XOAUTH2_BEARER, o->token);
    } else if (o->user) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, o->user);
        SET(CURLOPT_PASSWORD, o->password);
    }
#undef SET
    return TQ_OK;
}

struct tq_client *tq_client_new(const struct tq_client_options *o, struct tq_err *err)
{
    struct tq_client *c = NULL;
    struct curl_slist *l;
    tq_rc rc;

    if (!o) {
        tq_err_set(err, TQ_EINVAL, "no client options given");
        return NULL;
    }
    rc = check_base_url(o->base_url, err);
    if (rc)
        return NULL;
    if (!o->user != !o->password) {
        tq_err_set(err, TQ_EINVAL, "a user needs a password and a password a user");
        return NULL;
    }
    if (o->token && o->user) {
        tq_err_set(err, TQ_EINVAL, "give either a token or a user and password, not both");
        return NULL;
    }
    if (o->ca_file && o->ca_pem) {
        tq_err_set(err, TQ_EINVAL, "give either a CA file or in-memory CA text, not both");
        return NULL;
    }
    if (!o->client_cert_file != !o->client_key_file) {
        tq_err_set(err, TQ_EINVAL, "a client certificate needs its key and a key its certificate");
        return NULL;
    }
    if (o->token && (!o->token[0] || strpbrk(o->token, "\r\n"))) {
        tq_err_set(err, TQ_EINVAL, "the token is empty or holds a line break");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        tq_err_set(err, TQ_EIO, "libcurl failed to initialise: %s",
                   curl_easy_strerror(curl_init_rc));
        return NULL;
    }

    c = tq_xcalloc(1, sizeof(*c));
    c->max_response =
        o->max_response_bytes ? o->max_response_bytes : TQ_CLIENT_MAX_RESPONSE_DEFAULT;
    tq_buf_init(&c->body, c->max_response);
    c->base = trim_slashes(o->base_url, false);
    c->root = trim_slashes(o->api_root ? o->api_root : ROOT_DEFAULT, true);
    if (!c->root[0] || strpbrk(c->root, "?#%")) {
        tq_err_set(err, TQ_EINVAL, "the api root must be a plain, non-empty path");
        goto fail;
    }
    c->curl = curl_easy_init();
    if (!c->curl) {
        tq_err_set(err, TQ_EIO, "libcurl could not create a handle");
        goto fail;
    }
    c->hdr_get = curl_slist_append(NULL, "Accept: " TQ_TAXII_MEDIA);
    c->hdr_post = c->hdr_get ? curl_slist_append(NULL, "Accept: " TQ_TAXII_MEDIA) : NULL;
    l = c->hdr_post;
    /* No "Expect: 100-continue": envelopes are sent outright, without a round trip first. */
    l = l ? curl_slist_append(l, "Content-Type: " TQ_TAXII_MEDIA) : NULL;
    l = l ? curl_slist_append(l, "Expect:") : NULL;
    if (!l) {
        tq_err_set(err, TQ_ENOMEM, "out of memory building request headers");
        goto fail;
    }
    rc = configure(c, o, err);
    if (rc)
        goto fail;
    return c;
fail:
    tq_client_free(c);
    return NULL;
}

void tq_client_free(struct tq_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->hdr_get);
    curl_slist_free_all(c->hdr_post);
    tq_buf_cleanup(&c->body);
    tq_free(c->base);
    tq_free(c->root);
    tq_free(c);
}

uint64_t tq_client_connections(const struct tq_client *c)
{
    return c ? c->connections : 0;
}

/* ---- one request ------------------------------------------------------------------------ */

static tq_rc transport_error(struct tq_client *c, CURLcode cc, struct tq_err *err)
{
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
    tq_rc rc;

    switch (cc) {
    case CURLE_OUT_OF_MEMORY:
        rc = TQ_ENOMEM;
        break;
    case CURLE_FILESIZE_EXCEEDED:
        return tq_err_set(err, TQ_ETOOBIG, "the response from %s exceeds %zu bytes", c->base,
                          c->max_response);
    case CURLE_WRITE_ERROR:
        if (c->body_toobig)
            return tq_err_set(err, TQ_ETOOBIG, "the response from %s exceeds %zu bytes", c->base,
                              c->max_response);
        rc = TQ_EIO;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
        rc = TQ_ETLS;
        break;
    default:
        rc = TQ_EIO;
        break;
    }
    /* The base URL carries no credentials (tq_client_new refuses them), nor does curl's
     * message. */
    return tq_err_set(err, rc, "request to %s failed: %s", c->base, why);
}

static tq_rc status_error(long status, struct tq_client *c, bool taxii, struct tq_err *err)
{
    char title[SERVER_TEXT_MAX + 1] = "", desc[SERVER_TEXT_MAX + 1] = "";
    struct json_object *root = NULL;
    struct tq_err ignored;
    tq_rc rc;

    switch (status) {
    case 401:
        rc = TQ_EAUTH;
        break;
    case 403:
        rc = TQ_EFORBIDDEN;
        break;
    case 404:
        rc = TQ_ENOTFOUND;
        break;
    case 405:
        rc = TQ_EMETHOD;
        break;
    case 406:
        rc = TQ_ENOTACCEPTABLE;
        break;
    case 409:
        rc = TQ_ECONFLICT;
        break;
    case 413:
        rc = TQ_ETOOBIG;
        break;
    case 415:
        rc = TQ_EMEDIATYPE;
        break;
    case 422:
        rc = TQ_EUNPROCESSABLE;
        break;
    case 501:
        rc = TQ_ENOTSUP;
        break;
    case 503:
        rc = TQ_EBUSY;
        break;
    default:
        rc = status >= 400 && status < 500 ? TQ_EINVAL : TQ_EIO;
        break;
    }
    /* The TAXII error resource, when the body is one, says why. */
    if (taxii && c->body.len &&
        tq_json_parse((struct tq_str){c->body.ptr, c->body.len}, &root, &ignored) == TQ_OK &&
        json_object_is_type(root, json_type_object)) {
        sanitize(jstr(root, "title"), title);
        sanitize(jstr(root, "description"), desc);
    }
    json_object_put(root);
    return tq_err_set(err, rc, "%s answered %ld%s%s%s%s", c->base, status, title[0] ? " " : "",
                      title, desc[0] ? ": " : "", desc);
}

/*
 * Send one request (a POST when body is non-NULL) to url with the given header list, reading
 * the answer into c->body, capped at max_bytes (0: the client's max_response). On TQ_OK
 * *status is the HTTP status and *ctype the answer's Content-Type (borrowed from the handle
 * until the next request; NULL when absent). Transport failures only: any status is TQ_OK.
 */
static tq_rc transfer(struct tq_client *c, const char *url, const char *body, size_t body_len,
                      struct curl_slist *headers, size_t max_bytes, long *status,
                      const char **ctype, struct tq_err *err)
{
    size_t cap = max_bytes && max_bytes < c->max_response ? max_bytes : c->max_response;
    long code = 0, connects = 0;
    const char *ct = NULL;
    CURLcode cc;

    tq_buf_cleanup(&c->body);
    tq_buf_init(&c->body, cap);
    c->body_toobig = false;
    c->errbuf[0] = '\0';
    c->date_first[0] = '\0';
    c->date_last[0] = '\0';

    cc = curl_easy_setopt(c->curl, CURLOPT_URL, url);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(c->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    if (cc == CURLE_OK && body) {
        cc = curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        if (cc == CURLE_OK)
            cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        if (cc == CURLE_OK)
            cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    } else if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    }
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    if (cc != CURLE_OK)
        return setopt_failed(cc, "request", err);

    cc = curl_easy_perform(c->curl);
    if (curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
        c->connections += (uint64_t)connects;
    /* POSTFIELDS and the header list are borrowed: do not let the handle keep pointers to
     * them past this call. */
    if (body)
        (void)curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    (void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    if (cc != CURLE_OK) {
        if (cap < c->max_response &&
            (cc == CURLE_FILESIZE_EXCEEDED || (cc == CURLE_WRITE_ERROR && c->body_toobig)))
            return tq_err_set(err, TQ_ETOOBIG, "the response from %s exceeds %zu bytes", c->base,
                              cap);
        return transport_error(c, cc, err);
    }
    (void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
    (void)curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct);
    *status = code;
    *ctype = ct;
    return TQ_OK;
}

/*
 * Send one TAXII request (a POST when body is non-NULL) to url and parse a 2xx answer as a
 * TAXII JSON object into *root (owned by the caller). *status receives the HTTP status.
 */
static tq_rc perform(struct tq_client *c, const char *url, const char *body, size_t body_len,
                     long *status, struct json_object **root, struct tq_err *err)
{
    struct json_object *j = NULL;
    const char *ct = NULL;
    long code = 0;
    bool taxii;
    tq_rc rc;

    rc = transfer(c, url, body, body_len, body ? c->hdr_post : c->hdr_get, 0, &code, &ct, err);
    if (rc)
        return rc;
    taxii = media_is_taxii(ct);
    *status = code;
    if (code < 200 || code > 299)
        return status_error(code, c, taxii, err);
    if (!taxii)
        return tq_err_set(err, TQ_EUNPROCESSABLE,
                          "%s answered %ld with a body that is not TAXII JSON", c->base, code);
    rc = tq_json_parse((struct tq_str){c->body.ptr ? c->body.ptr : "", c->body.len}, &j, err);
    if (rc)
        return rc;
    if (!json_object_is_type(j, json_type_object)) {
        json_object_put(j);
        return tq_err_set(err, TQ_EUNPROCESSABLE, "%s answered with JSON that is not an object",
                          c->base);
    }
    *root = j;
    return TQ_OK;
}

/* Build base + "/" + root + "/" + the parts (percent-encoded segments) + "/" + query. */
static tq_rc collection_url(struct tq_client *c, const char *collection_id, const char *leaf,
                            struct tq_buf *url, struct tq_err *err)
{
    tq_rc rc;

    if (!collection_id || !collection_id[0])
        return tq_err_set(err, TQ_EINVAL, "no collection id given");
    rc = tq_buf_printf(url, "%s/%s/collections/", c->base, c->root);
    if (!rc)
        rc = append_pct(url, collection_id, false);
    if (!rc)
        rc = tq_buf_printf(url, "/%s/", leaf);
    if (rc)
        return tq_err_set(err, rc, "request URL too long");
    return TQ_OK;
}

static tq_rc add_query(struct tq_buf *url, const struct tq_client_query *q, struct tq_err *err)
{
    const struct {
        const char *name;
        const char *value;
    } params[] = {
        {"added_after", q ? q->added_after : NULL},
        {"next", q ? q->next : NULL},
        {"match%5Bid%5D", q ? q->match_id : NULL},
        {"match%5Btype%5D", q ? q->match_type : NULL},
        {"match%5Bversion%5D", q ? q->match_version : NULL},
        {"match%5Bspec_version%5D", q ? q->match_spec_version : NULL},
    };
    char sep = '?';
    tq_rc rc = TQ_OK;

    if (q && q->limit) {
        rc = tq_buf_printf(url, "?limit=%zu", q->limit);
        sep = '&';
    }
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && rc == TQ_OK; i++) {
        if (!params[i].value)
            continue;
        rc = tq_buf_printf(url, "%c%s=", sep, params[i].name);
        if (!rc)
            rc = append_pct(url, params[i].value, true);
        sep = '&';
    }
    if (rc)
        return tq_err_set(err, rc, "request URL too long");
    return TQ_OK;
}

/* The paging members of an envelope and the date headers of its answer. */
static tq_rc read_paging(struct tq_client *c, struct json_object *root, bool *more, char **next,
                         char first[TQ_TIME_STR_MAX], char last[TQ_TIME_STR_MAX],
                         struct tq_err *err)
{
    struct json_object *v;
    const char *n;
    int64_t us;

    *more = false;
    *next = NULL;
    if (json_object_object_get_ex(root, "more", &v) && !jbool(root, "more", more))
        return tq_err_set(err, TQ_EUNPROCESSABLE, "envelope: \"more\" is not a boolean");
    n = jstr(root, "next");
    if (json_object_object_get_ex(root, "next", &v) && !n)
        return tq_err_set(err, TQ_EUNPROCESSABLE, "envelope: \"next\" is not a string");
    if (c->date_first[0] && tq_time_parse(tq_str_c(c->date_first), &us, NULL) != TQ_OK)
        return tq_err_set(err, TQ_EUNPROCESSABLE, "malformed X-TAXII-Date-Added-First");
    if (c->date_last[0] && tq_time_parse(tq_str_c(c->date_last), &us, NULL) != TQ_OK)
        return tq_err_set(err, TQ_EUNPROCESSABLE, "malformed X-TAXII-Date-Added-Last");
    memcpy(first, c->date_first, TQ_TIME_STR_MAX);
    memcpy(last, c->date_last, TQ_TIME_STR_MAX);
    if (*more && n)
        *next = tq_xstrdup(n);
    return TQ_OK;
}

/* The "objects" list of an envelope: NULL for an empty page ({}), refused when not a list. */
static tq_rc envelope_list(struct json_object *root, struct json_object **list, struct tq_err *err)
{
    *list = NULL;
    if (json_object_object_get_ex(root, "type", NULL))
        return tq_err_set(err, TQ_EUNPROCESSABLE, "the answer is a STIX object, not an envelope");
    if (!json_object_object_get_ex(root, "objects", list))
        return TQ_OK;
    if (!json_object_is_type(*list, json_type_array))
        return tq_err_set(err, TQ_EUNPROCESSABLE, "envelope: \"objects\" is not a list");
    return TQ_OK;
}

/* ---- discovery and collections ---------------------------------------------------------- */

void tq_client_discovery_cleanup(struct tq_client_discovery *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_api_roots; i++)
        tq_free(d->api_roots[i]);
    tq_free(d->api_roots);
    tq_free(d->title);
    tq_free(d->default_api_root);
    memset(d, 0, sizeof(*d));
}

tq_rc tq_client_discovery(struct tq_client *c, struct tq_client_discovery *out, struct tq_err *err)
{
    struct tq_client_discovery d;
    struct json_object *root = NULL, *roots;
    struct tq_buf url;
    long status;
    size_t n;
    tq_rc rc;

    memset(&d, 0, sizeof(d));
    tq_buf_init(&url, URL_MAX);
    if (tq_buf_printf(&url, "%s/taxii2/", c->base)) {
        rc = tq_err_set(err, TQ_ETOOBIG, "request URL too long");
        goto out;
    }
    rc = perform(c, url.ptr, NULL, 0, &status, &root, err);
    if (rc)
        goto out;
    d.title = dup_or_null(jstr(root, "title"));
    d.default_api_root = dup_or_null(jstr(root, "default"));
    if (json_object_object_get_ex(root, "api_roots", &roots)) {
        if (!json_object_is_type(roots, json_type_array)) {
            rc = tq_err_set(err, TQ_EUNPROCESSABLE, "discovery: \"api_roots\" is not a list");
            goto out;
        }
        n = json_object_array_length(roots);
        d.api_roots = tq_xcalloc(n ? n : 1, sizeof(*d.api_roots));
        for (size_t i = 0; i < n; i++) {
            struct json_object *v = json_object_array_get_idx(roots, i);
            if (!json_object_is_type(v, json_type_string)) {
                rc = tq_err_set(err, TQ_EUNPROCESSABLE, "discovery: api root %zu is not a string",
                                i);
                goto out;
            }
            d.api_roots[d.n_api_roots++] = tq_xstrdup(json_object_get_string(v));
        }
    }
    *out = d;
    memset(&d, 0, sizeof(d));
out:
    tq_client_discovery_cleanup(&d);
    json_object_put(root);
    tq_buf_cleanup(&url);
    return rc;
}

void tq_client_collection_list_free(struct tq_client_collection *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].id);
        tq_free(v[i].title);
        tq_free(v[i].alias);
    }
    tq_free(v);
}

tq_rc tq_client_collections(struct tq_client *c, struct tq_client_collection **out, size_t *n,
                            struct tq_err *err)
{
    struct json_object *root = NULL, *list;
    struct tq_client_collection *v = NULL;
    struct tq_buf url;
    size_t count = 0, len = 0;
    long status;
    tq_rc rc;

    tq_buf_init(&url, URL_MAX);
    if (tq_buf_printf(&url, "%s/%s/collections/", c->base, c->root)) {
        rc = tq_err_set(err, TQ_ETOOBIG, "request URL too long");
        goto out;
    }
    rc = perform(c, url.ptr, NULL, 0, &status, &root, err);
    if (rc)
        goto out;
    if (json_object_object_get_ex(root, "collections", &list)) {
        if (!json_object_is_type(list, json_type_array)) {
            rc = tq_err_set(err, TQ_EUNPROCESSABLE, "\"collections\" is not a list");
            goto out;
        }
        len = json_object_array_length(list);
    }
    v = len ? tq_xcalloc(len, sizeof(*v)) : NULL;
    for (size_t i = 0; i < len; i++) {
        struct json_object *o = json_object_array_get_idx(list, i);
        struct tq_client_collection *e = &v[count];
        const char *id = jstr(o, "id"), *title = jstr(o, "title");

        if (!id || !title || !jbool(o, "can_read", &e->can_read) ||
            !jbool(o, "can_write", &e->can_write)) {
            rc = tq_err_set(err, TQ_EUNPROCESSABLE,
                            "collection %zu lacks id, title, can_read or can_write", i);
            goto out;
        }
        e->id = tq_xstrdup(id);
        e->title = tq_xstrdup(title);
        e->alias = dup_or_null(jstr(o, "alias"));
        count++;
    }
    *out = v;
    *n = count;
    v = NULL;
out:
    tq_client_collection_list_free(v, count);
    json_object_put(root);
    tq_buf_cleanup(&url);
    return rc;
}

/* ---- objects and manifests -------------------------------------------------------------- */

void tq_client_page_cleanup(struct tq_client_page *p)
{
    if (!p)
        return;
    tq_stix_batch_free(p->batch);
    tq_free(p->next);
    memset(p, 0, sizeof(*p));
}

/*
 * One page of a collection's objects or manifest: GET the leaf with the query, check the
 * envelope and read its paging. On TQ_OK *root is the parsed answer (json_object_put) and *list
 * the envelope's list within it (NULL for an empty page).
 */
static tq_rc fetch_page(struct tq_client *c, const char *collection_id, const char *leaf,
                        const struct tq_client_query *q, struct json_object **root,
                        struct json_object **list, bool *more, char **next,
                        char first[TQ_TIME_STR_MAX], char last[TQ_TIME_STR_MAX], struct tq_err *err)
{
    struct json_object *j = NULL;
    struct tq_buf url;
    long status;
    tq_rc rc;

    tq_buf_init(&url, URL_MAX);
    rc = collection_url(c, collection_id, leaf, &url, err);
    if (!rc)
        rc = add_query(&url, q, err);
    if (!rc)
        rc = perform(c, url.ptr, NULL, 0, &status, &j, err);
    if (!rc)
        rc = envelope_list(j, list, err);
    if (!rc)
        rc = read_paging(c, j, more, next, first, last, err);
    tq_buf_cleanup(&url);
    if (rc) {
        json_object_put(j);
        return rc;
    }
    *root = j;
    return TQ_OK;
}

tq_rc tq_client_get_objects(struct tq_client *c, const char *collection_id,
                            const struct tq_client_query *q, struct tq_client_page *out,
                            struct tq_err *err)
{
    struct tq_client_page p;
    struct json_object *root = NULL, *list = NULL;
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    rc = fetch_page(c, collection_id, "objects", q, &root, &list, &p.more, &p.next,
                    p.date_added_first, p.date_added_last, err);
    if (rc)
        return rc;
    p.batch = tq_stix_batch_of(list, false);
    *out = p;
    json_object_put(root);
    return TQ_OK;
}

void tq_client_manifest_cleanup(struct tq_client_manifest *m)
{
    if (!m)
        return;
    tq_free(m->rows);
    tq_free(m->next);
    memset(m, 0, sizeof(*m));
}

tq_rc tq_client_get_manifest(struct tq_client *c, const char *collection_id,
                             const struct tq_client_query *q, struct tq_client_manifest *out,
                             struct tq_err *err)
{
    struct tq_client_manifest m;
    struct json_object *root = NULL, *list = NULL;
    size_t n;
    tq_rc rc;

    memset(&m, 0, sizeof(m));
    rc = fetch_page(c, collection_id, "manifest", q, &root, &list, &m.more, &m.next,
                    m.date_added_first, m.date_added_last, err);
    if (rc)
        return rc;

    n = list ? json_object_array_length(list) : 0;
    m.rows = tq_xcalloc(n ? n : 1, sizeof(*m.rows));
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(list, i);
        struct tq_client_manifest_row *r = &m.rows[i];
        const char *id = jstr(o, "id"), *added = jstr(o, "date_added"), *ver = jstr(o, "version");
        size_t idlen = id ? strlen(id) : 0;

        if (!id || !tq_stix_id_valid((struct tq_str){id, idlen}) || idlen >= sizeof(r->id) ||
            !added || tq_time_parse(tq_str_c(added), &r->date_added_us, NULL) != TQ_OK || !ver ||
            tq_time_parse(tq_str_c(ver), &r->version_us, NULL) != TQ_OK) {
            rc = tq_err_set(err, TQ_EUNPROCESSABLE,
                            "manifest row %zu: missing or malformed id, date_added or version", i);
            goto out;
        }
        memcpy(r->id, id, idlen + 1);
        m.n++;
    }
    *out = m;
    memset(&m, 0, sizeof(m));
out:
    tq_client_manifest_cleanup(&m);
    json_object_put(root);
    return rc;
}

/* ---- adding objects and status ---------------------------------------------------------- */

static tq_rc read_status(struct json_object *root, struct tq_client_status *out, struct tq_err *err)
{
    struct tq_client_status s;
    const char *id = jstr(root, "id"), *st = jstr(root, "status");
    size_t idlen = id ? strlen(id) : 0;

    memset(&s, 0, sizeof(s));
    if (!id || idlen == 0 || idlen >= sizeof(s.id))
        return tq_err_set(err, TQ_EUNPROCESSABLE, "status: missing or overlong \"id\"");
    if (!st || (strcmp(st, "complete") != 0 && strcmp(st, "pending") != 0))
        return tq_err_set(err, TQ_EUNPROCESSABLE,
                          "status: \"status\" is neither \"complete\" nor \"pending\"");
    if (!jcount(root, "total_count", &s.total_count) ||
        !jcount(root, "success_count", &s.success_count) ||
        !jcount(root, "failure_count", &s.failure_count) ||
        !jcount(root, "pending_count", &s.pending_count))
        return tq_err_set(err, TQ_EUNPROCESSABLE,
                          "status: a count is missing or not a non-negative integer");
    memcpy(s.id, id, idlen + 1);
    s.complete = strcmp(st, "complete") == 0;
    *out = s;
    return TQ_OK;
}

tq_rc tq_client_post_objects(struct tq_client *c, const char *collection_id,
                             const char *envelope_json, size_t len, struct tq_client_status *out,
                             struct tq_err *err)
{
    struct json_object *root = NULL;
    struct tq_buf url;
    long status = 0;
    tq_rc rc;

    tq_buf_init(&url, URL_MAX);
    rc = collection_url(c, collection_id, "objects", &url, err);
    if (!rc && !envelope_json)
        rc = tq_err_set(err, TQ_EINVAL, "no envelope given");
    if (!rc)
        rc = perform(c, url.ptr, envelope_json, len, &status, &root, err);
    if (!rc && status != 202 && status != 200 && status != 201)
        rc = tq_err_set(err, TQ_EUNPROCESSABLE, "%s answered a POST with %ld, not 202", c->base,
                        status);
    if (!rc)
        rc = read_status(root, out, err);
    json_object_put(root);
    tq_buf_cleanup(&url);
    return rc;
}

tq_rc tq_client_get_status(struct tq_client *c, const char *status_id, struct tq_client_status *out,
                           struct tq_err *err)
{
    struct json_object *root = NULL;
    struct tq_buf url;
    long status;
    tq_rc rc;

    if (!status_id || !status_id[0])
        return tq_err_set(err, TQ_EINVAL, "no status id given");
    tq_buf_init(&url, URL_MAX);
    rc = tq_buf_printf(&url, "%s/%s/status/", c->base, c->root);
    if (!rc)
        rc = append_pct(&url, status_id, false);
    if (!rc)
        rc = tq_buf_append_c(&url, "/");
    if (rc) {
        rc = tq_err_set(err, rc, "request URL too long");
        goto out;
    }
    rc = perform(c, url.ptr, NULL, 0, &status, &root, err);
    if (!rc)
        rc = read_status(root, out, err);
out:
    json_object_put(root);
    tq_buf_cleanup(&url);
    return rc;
}

/* ---- raw requests ----------------------------------------------------------------------- */

tq_rc tq_client_fetch(struct tq_client *c, enum tq_client_method method, const char *path,
                      const void *body, size_t body_len, const char *content_type, size_t max_bytes,
                      long *status, struct tq_buf *out, struct tq_err *err)
{
    struct curl_slist *hdr = NULL, *l;
    struct tq_buf url, ctl;
    const char *ct = NULL;
    long code = 0;
    tq_rc rc;

    if (!c || !path || path[0] != '/' || strpbrk(path, "#\r\n \t"))
        return tq_err_set(err, TQ_EINVAL,
                          "a request path must start with / and hold no "
                          "space, line break or fragment");
    if (method != TQ_CLIENT_GET && method != TQ_CLIENT_POST)
        return tq_err_set(err, TQ_EINVAL, "unknown request method");
    if (content_type && strpbrk(content_type, "\r\n"))
        return tq_err_set(err, TQ_EINVAL, "the content type holds a line break");
    tq_buf_init(&url, URL_MAX);
    tq_buf_init(&ctl, 1024);
    rc = tq_buf_printf(&url, "%s%s", c->base, path);
    if (rc) {
        rc = tq_err_set(err, rc, "request URL too long");
        goto out;
    }
    /* Whatever the server answers is the caller's to judge: no TAXII Accept header. */
    l = hdr = curl_slist_append(NULL, "Accept: */*");
    if (l && method == TQ_CLIENT_POST) {
        l = curl_slist_append(l, "Expect:");
        if (l && content_type) {
            if (tq_buf_printf(&ctl, "Content-Type: %s", content_type)) {
                rc = tq_err_set(err, TQ_EINVAL, "the content type is too long");
                goto out;
            }
            l = curl_slist_append(l, ctl.ptr);
        }
    }
    if (!l) {
        rc = tq_err_set(err, TQ_ENOMEM, "out of memory building request headers");
        goto out;
    }
    rc = transfer(c, url.ptr, method == TQ_CLIENT_POST ? (body ? body : "") : NULL,
                  method == TQ_CLIENT_POST ? body_len : 0, hdr, max_bytes, &code, &ct, err);
    if (rc)
        goto out;
    rc = tq_buf_append(out, c->body.ptr ? c->body.ptr : "", c->body.len);
    if (rc) {
        rc = tq_err_set(err, rc, "the response from %s does not fit the caller's buffer", c->base);
        goto out;
    }
    *status = code;
out:
    curl_slist_free_all(hdr);
    tq_buf_cleanup(&url);
    tq_buf_cleanup(&ctl);
    return rc;
}
