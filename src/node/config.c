/* SPDX-License-Identifier: Apache-2.0
 *
 * node/config.c - the one table of configuration options.
 *
 * Each option has a name, a type, a default, bounds and a help line; the same table parses
 * tansiq.conf and TANSIQ_* variables, prints --help-config and writes the sample file at init.
 * Precedence: defaults, then the file, then the environment, then the command line (applied by
 * the caller). Every option targets one part of struct tq_node_config: http (the server's own
 * configuration), sync, audit or identity; the names stay flat, so tansiq.conf does not show the
 * parts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "tansiq/psi_node.h"

enum opt_type { OPT_STR, OPT_UINT, OPT_LISTEN, OPT_SIZE };

struct opt {
    const char *name;
    enum opt_type type;
    const char *def;
    unsigned long long min, max;
    size_t offset;
    const char *help;
};

#define CFG(field) offsetof(struct tq_node_config, field)

static const struct opt options[] = {
    {"listen", OPT_LISTEN, "127.0.0.1:8443", 0, 0, 0,
     "address:port the TAXII server listens on (IPv6 in brackets)"},
    {"title", OPT_STR, "tansiq node", 0, 0, CFG(http.title), "title shown by TAXII discovery"},
    {"api_root", OPT_STR, "api", 0, 0, CFG(http.api_root), "path segment of the TAXII api root"},
    {"max_content_length", OPT_SIZE, "10485760", 1024, 1ull << 30, CFG(http.max_content_length),
     "largest accepted request body, bytes"},
    {"threads", OPT_UINT, "0", 0, 256, CFG(http.threads), "worker threads (0: one per core)"},
    {"conn_timeout_s", OPT_UINT, "30", 1, 3600, CFG(http.conn_timeout_s),
     "idle or slow connections are closed after this many seconds"},
    {"max_connections", OPT_UINT, "1024", 1, 65536, CFG(http.max_connections),
     "concurrent connections accepted"},
    {"max_connections_per_ip", OPT_UINT, "256", 1, 65536, CFG(http.max_connections_per_ip),
     "concurrent connections accepted from one source address"},
    {"events_heartbeat_s", OPT_UINT, "15", 1, 3600, CFG(http.events_heartbeat_s),
     "seconds between two heartbeats on the event stream GET /events/"},
    {"status_retention_h", OPT_UINT, "24", 24, 24 * 365, CFG(http.status_retention_h),
     "hours a TAXII status resource is kept (at least 24)"},
    {"store", OPT_STR, "store.db", 0, 0, CFG(store.uri),
     "the store: a SQLite file (relative to the home) or a postgresql:// URI (no password)"},
    {"store_pool", OPT_UINT, "8", 1, 256, CFG(store.pool), "database connections per process"},
    {"store_statement_timeout_ms", OPT_UINT, "60000", 100, 3600000, CFG(store.statement_timeout_ms),
     "PostgreSQL: longest a statement may run, milliseconds"},
    {"store_lock_timeout_ms", OPT_UINT, "10000", 100, 600000, CFG(store.lock_timeout_ms),
     "PostgreSQL: longest wait for a lock (the node's write lock), milliseconds"},
    {"sync_interval_s", OPT_UINT, "0", 0, 7 * 24 * 3600, CFG(sync.interval_s),
     "tansiq serve pulls every partner this often, seconds (0: only 'tansiq sync')"},
    {"log_origin", OPT_STR, "", 0, 0, CFG(audit.log_origin),
     "origin of the audit log's checkpoints (empty: tansiq/ and the certificate's hash)"},
    {"phone_region", OPT_STR, "", 0, 0, CFG(monitor.phone_region),
     "country (IQ, SY, JO) of phone numbers written without a country code, for correlation"},
    {"monitor_scan_interval_s", OPT_UINT, "300", 10, 24 * 3600, CFG(monitor.scan_interval_s),
     "tansiq serve evaluates the hotspot and corridor alert rules this often, seconds"},
    {"psi_stall_s", OPT_UINT, "60", 5, 3600, CFG(psi.stall_s),
     "a psi run answered here waits this long for the partner's final message, seconds"},
    {"psi_refusals_per_day", OPT_UINT, "100", 1, 100000, CFG(psi.refusals_per_day),
     "refused psi requests of one partner recorded one by one in 24 hours; past them, counted"},
    {"psi_runs_per_day", OPT_UINT, "10", 0, 100000, CFG(psi.runs_per_day),
     "default runs a day of 'tansiq psi allow' (0: no limit)"},
    {"psi_min_entries", OPT_UINT, "10", 0, 62500, CFG(psi.min_entries),
     "default least partner list size of 'tansiq psi allow'"},
    {"map_tile_url", OPT_STR, "", 0, 0, CFG(http.map_tile_url),
     "the dashboard map's tile URL template (https://HOST/{z}/{x}/{y}.png; empty: no tiles)"},
    {"web_session_idle_s", OPT_UINT, "1800", 1, 7 * 24 * 3600, CFG(http.web_session_idle_s),
     "a dashboard session ends after this many seconds without a request"},
    {"web_session_max_s", OPT_UINT, "43200", 60, 30 * 24 * 3600, CFG(http.web_session_max_s),
     "a dashboard session ends this many seconds after its login, however busy"},
    {"url", OPT_STR, "", 0, 0, CFG(identity.url),
     "URL partners reach this node at (https://HOST:PORT), put in 'tansiq identity --export'"},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct opt *find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static const char *keep(struct tq_node *node, const char *s, size_t len)
{
    char *copy = tq_xstrndup(s, len);

    node->strings = tq_xrealloc(node->strings, (node->n_strings + 1) * sizeof(char *));
    node->strings[node->n_strings++] = copy;
    return copy;
}

static tq_rc parse_listen(struct tq_node *node, const char *v, size_t len,
                          struct tq_node_config *cfg, struct tq_err *err)
{
    const char *colon = NULL;
    const char *host = v;
    size_t host_len;
    char port[8];
    char *end;
    unsigned long p;

    for (size_t i = 0; i < len; i++)
        if (v[i] == ':')
            colon = v + i;
    if (!colon || (size_t)(v + len - colon - 1) >= sizeof(port) || colon == v + len - 1)
        return tq_err_set(err, TQ_ECONFIG, "listen: expected ADDRESS:PORT, got '%.*s'", (int)len,
                          v);
    host_len = (size_t)(colon - v);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    memcpy(port, colon + 1, (size_t)(v + len - colon - 1));
    port[v + len - colon - 1] = '\0';
    errno = 0;
    p = strtoul(port, &end, 10);
    if (errno || *end || p > 65535 || !isdigit((unsigned char)port[0]))
        return tq_err_set(err, TQ_ECONFIG, "listen: bad port '%s'", port);
    cfg->http.listen_addr = keep(node, host, host_len);
    cfg->http.port = (uint16_t)p;
    return TQ_OK;
}

static tq_rc set_option(struct tq_node *node, const struct opt *o, const char *v, size_t len,
                        const char *origin, struct tq_node_config *cfg, struct tq_err *err)
{
    char num[32];
    char *end;
    unsigned long long n;

    switch (o->type) {
    case OPT_LISTEN:
        return parse_listen(node, v, len, cfg, err);
    case OPT_STR:
        *(const char **)((char *)cfg + o->offset) = keep(node, v, len);
        return TQ_OK;
    case OPT_UINT:
    case OPT_SIZE:
        if (len == 0 || len >= sizeof(num))
            break;
        memcpy(num, v, len);
        num[len] = '\0';
        errno = 0;
        n = strtoull(num, &end, 10);
        if (errno || *end || !isdigit((unsigned char)num[0]) || n < o->min || n > o->max)
            break;
        if (o->type == OPT_SIZE)
            *(size_t *)((char *)cfg + o->offset) = (size_t)n;
        else
            *(unsigned *)((char *)cfg + o->offset) = (unsigned)n;
        return TQ_OK;
    }
    return tq_err_set(err, TQ_ECONFIG, "%s: %s must be a number in %llu..%llu, got '%.*s'", origin,
                      o->name, o->min, o->max, (int)len, v);
}

void tq__node_config_defaults(struct tq_node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->http.listen_addr = "127.0.0.1";
    cfg->http.port = 8443;
    cfg->http.title = "tansiq node";
    cfg->http.api_root = "api";
    cfg->http.max_content_length = 10485760;
    cfg->http.conn_timeout_s = 30;
    cfg->http.max_connections = 1024;
    cfg->http.max_connections_per_ip = 256;
    cfg->http.status_retention_h = 24;
    cfg->store.uri = "store.db";
    cfg->store.pool = 8;
    cfg->store.statement_timeout_ms = 60000;
    cfg->store.lock_timeout_ms = 10000;
    cfg->psi.stall_s = TQ_PSI_NODE_STALL_S_DEFAULT;
    cfg->psi.refusals_per_day = TQ_PSI_NODE_REFUSALS_PER_DAY_DEFAULT;
    cfg->psi.runs_per_day = TQ_PSI_RUNS_PER_DAY_DEFAULT;
    cfg->psi.min_entries = TQ_PSI_MIN_ENTRIES_DEFAULT;
}

static struct tq_str trim(const char *p, size_t len)
{
    while (len && isspace((unsigned char)*p)) {
        p++;
        len--;
    }
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    return (struct tq_str){p, len};
}

tq_rc tq__node_config_apply(struct tq_node *node, const char *text, const char *origin,
                            struct tq_node_config *cfg, struct tq_err *err)
{
    const char *line = text;
    unsigned lineno = 0;

    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        struct tq_str l = trim(line, len);
        const char *eq;
        const struct opt *o;
        struct tq_str name, value;
        char where[256];
        tq_rc rc;

        lineno++;
        line = nl ? nl + 1 : line + len;
        if (l.len == 0 || l.ptr[0] == '#')
            continue;
        eq = memchr(l.ptr, '=', l.len);
        if (!eq)
            return tq_err_set(err, TQ_ECONFIG, "%s:%u: expected 'name = value'", origin, lineno);
        name = trim(l.ptr, (size_t)(eq - l.ptr));
        value = trim(eq + 1, (size_t)(l.ptr + l.len - eq - 1));
        o = find(name.ptr, name.len);
        if (!o)
            return tq_err_set(err, TQ_ECONFIG, "%s:%u: unknown option '%.*s'", origin, lineno,
                              (int)name.len, name.ptr);
        snprintf(where, sizeof(where), "%s:%u", origin, lineno);
        rc = set_option(node, o, value.ptr, value.len, where, cfg, err);
        if (rc)
            return rc;
    }
    return TQ_OK;
}

tq_rc tq__node_config_env(struct tq_node *node, struct tq_node_config *cfg, struct tq_err *err)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char var[64] = "TANSIQ_";
        size_t k = strlen(var);
        const char *v;
        tq_rc rc;

        for (const char *p = options[i].name; *p && k < sizeof(var) - 1; p++)
            var[k++] = (char)toupper((unsigned char)*p);
        var[k] = '\0';
        v = getenv(var);
        if (!v)
            continue;
        rc = set_option(node, &options[i], v, strlen(v), var, cfg, err);
        if (rc)
            return rc;
    }
    return TQ_OK;
}

tq_rc tq__node_config_sample(struct tq_buf *out)
{
    tq_rc rc = tq_buf_append_c(out, "# tansiq node configuration: name = value\n"
                                    "# Environment variables TANSIQ_<NAME> override these;\n"
                                    "# command-line options override both.\n");

    for (size_t i = 0; !rc && i < N_OPTIONS; i++)
        rc = tq_buf_printf(out, "\n# %s\n# %s = %s\n", options[i].help, options[i].name,
                           options[i].def);
    return rc;
}

tq_rc tq_node_config_help(struct tq_buf *out)
{
    tq_rc rc = tq_buf_append_c(
        out, "Configuration options (tansiq.conf, or TANSIQ_<NAME> in the environment):\n");

    for (size_t i = 0; !rc && i < N_OPTIONS; i++)
        rc = tq_buf_printf(out, "  %-20s default %-16s %s\n", options[i].name, options[i].def,
                           options[i].help);
    return rc;
}
