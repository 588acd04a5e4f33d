/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_psi.c - `tansiq psi`: private set intersection of a watchlist with a partner's, and
 * the grants that open this node's lists to partners.
 *
 *   psi PARTNER --list NAME [--peer-list NAME] [--cardinality] [--keys K] [--json]
 *   psi allow PARTNER --list NAME [--mode matches|cardinality|both] [--runs-per-day N]
 *                                  [--min-entries N]
 *   psi deny PARTNER --list NAME
 *   psi grants
 *   psi runs [PARTNER] [--limit N]
 *
 * The family is one command whose first operand is the verb or the partner, so that a run reads
 * as `tansiq psi PARTNER --list NAME`; a partner named like a verb is run with `psi run PARTNER`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "tansiq/audit.h"
#include "tansiq/psi_node.h"

static unsigned uint_opt(const struct cli_ctx *c, const char *name, unsigned dflt, unsigned max,
                         bool *ok)
{
    const char *s = cli_opt(c, name);
    uint64_t v = dflt;

    if (s && (!tq_str_to_u64(tq_str_c(s), &v) || v > max)) {
        fprintf(stderr, "tansiq: psi: --%s is 0 to %u\n", name, max);
        *ok = false;
    }
    return (unsigned)v;
}

static const char *modes_word(unsigned m)
{
    return m == (TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY) ? "both"
           : m == TQ_PSI_GRANT_CARDINALITY                        ? "cardinality"
                                                                  : "matches";
}

static int run_allow(struct cli_ctx *c, const char *partner, const char *list)
{
    const char *mode = cli_opt(c, "mode");
    struct tq_node_config cfg;
    struct tq_store_psi_grant g = {0};
    struct tq_err err = {0};
    bool ok = true;
    tq_rc rc;

    if (!mode || strcmp(mode, "matches") == 0)
        g.modes = TQ_PSI_GRANT_MATCHES;
    else if (strcmp(mode, "cardinality") == 0)
        g.modes = TQ_PSI_GRANT_CARDINALITY;
    else if (strcmp(mode, "both") == 0)
        g.modes = TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY;
    else {
        fprintf(stderr, "tansiq: psi allow: --mode is matches, cardinality or both\n");
        return cli_usage(c);
    }
    /* The node's defaults (psi_runs_per_day, psi_min_entries in tansiq.conf) unless given. */
    rc = tq_node_config_load(c->node, &cfg, &err);
    if (rc)
        return cli_fail("psi allow", rc, &err);
    g.runs_per_day = uint_opt(c, "runs-per-day", cfg.psi.runs_per_day, 100000, &ok);
    g.min_entries = uint_opt(c, "min-entries", cfg.psi.min_entries, TQ_PSI_NET_MAX_ENTRIES, &ok);
    if (!ok)
        return cli_usage(c);
    snprintf(g.partner, sizeof(g.partner), "%s", partner);
    snprintf(g.list, sizeof(g.list), "%s", list);
    rc = tq_store_psi_grant_put(tq_node_store(c->node), &g, &err);
    if (rc)
        return cli_fail("psi allow", rc, &err);
    if (!c->common.json)
        printf("list %s opened to %s (%s, %u runs a day, peer lists of %u entries or more)\n", list,
               partner, modes_word(g.modes), g.runs_per_day, g.min_entries);
    return CLI_OK;
}

static int run_deny(struct cli_ctx *c, const char *partner, const char *list)
{
    struct tq_err err = {0};
    tq_rc rc = tq_store_psi_grant_delete(tq_node_store(c->node), partner, list, &err);

    if (rc)
        return cli_fail("psi deny", rc, &err);
    if (!c->common.json)
        printf("list %s closed to %s\n", list, partner);
    return CLI_OK;
}

static int run_grants(struct cli_ctx *c)
{
    struct tq_store_psi_grant *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc = tq_store_psi_grant_list(tq_node_store(c->node), &v, &n, &err);

    if (rc)
        return cli_fail("psi grants", rc, &err);
    if (c->common.json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (c->common.json) {
            printf("%s{\"partner\":", i ? "," : "");
            cli_json_str(stdout, v[i].partner);
            printf(",\"list\":");
            cli_json_str(stdout, v[i].list);
            printf(",\"mode\":\"%s\",\"runs_per_day\":%u,\"min_entries\":%u,\"created_us\":%lld}",
                   modes_word(v[i].modes), v[i].runs_per_day, v[i].min_entries,
                   (long long)v[i].created_us);
        } else {
            printf("%-20s %-24s %-11s %u runs/day, min %u entries\n", v[i].partner, v[i].list,
                   modes_word(v[i].modes), v[i].runs_per_day, v[i].min_entries);
        }
    }
    if (c->common.json)
        printf("]\n");
    else if (n == 0)
        printf("no list is opened to any partner\n");
    tq_free(v);
    return CLI_OK;
}

static int run_runs(struct cli_ctx *c, const char *partner)
{
    struct tq_store_psi_run *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    bool ok = true;
    unsigned limit = uint_opt(c, "limit", 50, TQ_PSI_RUNS_PAGE_MAX, &ok);
    tq_rc rc;

    if (!ok || limit == 0)
        return cli_usage(c);
    rc = tq_store_psi_run_list(tq_node_store(c->node), partner, limit, &v, &n, &err);
    if (rc)
        return cli_fail("psi runs", rc, &err);
    if (c->common.json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        char when[TQ_TIME_STR_MAX];

        tq_time_format(v[i].at_us, when);
        if (c->common.json) {
            printf("%s{\"id\":%lld,\"time\":\"%s\",\"partner\":", i ? "," : "", (long long)v[i].id,
                   when);
            cli_json_str(stdout, v[i].partner);
            printf(",\"list\":");
            cli_json_str(stdout, v[i].list);
            printf(",\"role\":\"%s\",\"session\":\"%s\",\"mode\":\"%s\",\"keys_per_entry\":%u,"
                   "\"own_entries\":%llu,\"peer_entries\":%llu,\"count\":%lld,\"outcome\":",
                   v[i].role, v[i].session, v[i].mode, v[i].keys_per_entry,
                   (unsigned long long)v[i].own_entries, (unsigned long long)v[i].peer_entries,
                   (long long)v[i].count);
            cli_json_str(stdout, v[i].outcome);
            printf("}");
        } else {
            printf("%s %-9s %-16s %-16s %-11s own %llu peer %llu shared %lld  %s\n", when,
                   v[i].role, v[i].partner, v[i].list, v[i].mode,
                   (unsigned long long)v[i].own_entries, (unsigned long long)v[i].peer_entries,
                   (long long)v[i].count, v[i].outcome);
        }
    }
    if (c->common.json)
        printf("]\n");
    tq_free(v);
    return CLI_OK;
}

static void print_result(const struct cli_ctx *c, const char *partner,
                         const struct tq_psi_run_result *r)
{
    if (c->common.json) {
        printf("{\"partner\":");
        cli_json_str(stdout, partner);
        printf(",\"session\":\"%s\",\"mode\":\"%s\",\"keys_per_entry\":%u,\"own_entries\":%zu,"
               "\"peer_entries\":%zu,\"count\":%zu,\"outcome\":",
               r->session, r->mode == TQ_PSI_MODE_CARDINALITY ? "cardinality" : "matches",
               r->keys_per_entry, r->own_entries, r->peer_entries, r->count);
        cli_json_str(stdout, r->outcome);
        printf(",\"list_sha256\":\"");
        cli_print_hex(stdout, r->list_digest, 32);
        printf("\"");
        if (r->matched) {
            printf(",\"matched\":[");
            for (size_t i = 0; i < r->count; i++) {
                printf("%s{\"ref\":", i ? "," : "");
                cli_json_str(stdout, r->matched[i].ref);
                printf(",\"name\":");
                cli_json_str(stdout, r->matched[i].name ? r->matched[i].name : "");
                printf("}");
            }
            printf("]");
        }
        printf(",\"trimmed\":[");
        for (size_t i = 0; i < r->n_trimmed; i++) {
            if (i)
                printf(",");
            cli_json_str(stdout, r->trimmed[i]);
        }
        printf("]}\n");
        return;
    }
    printf("psi with %s: session %s, %s, K=%u\n", partner, r->session,
           r->mode == TQ_PSI_MODE_CARDINALITY ? "cardinality" : "matches", r->keys_per_entry);
    printf("  own list %zu entries, partner's list %zu entries\n", r->own_entries, r->peer_entries);
    printf("  shared: %zu\n", r->count);
    for (size_t i = 0; r->matched && i < r->count; i++)
        printf("  %s  %s\n", r->matched[i].ref, r->matched[i].name ? r->matched[i].name : "");
    if (r->n_trimmed)
        printf("  %zu entries had more than %u keys; their first %u were sent (psi --json lists "
               "them)\n",
               r->n_trimmed, r->keys_per_entry, r->keys_per_entry);
    printf("  outcome: %s\n", r->outcome);
}

static int run_run(struct cli_ctx *c, const char *partner, const char *list)
{
    struct tq_psi_run_options o = {.list = list, .peer_list = cli_opt(c, "peer-list")};
    struct tq_audit_options aopt = {.no_thread = true};
    struct tq_psi_run_result r = {0};
    struct tq_audit_log *audit = NULL;
    struct tq_err err = {0};
    const char *cert, *key;
    bool ok = true;
    int status = CLI_OK;
    tq_rc rc;

    o.mode = cli_has(c, "cardinality") ? TQ_PSI_MODE_CARDINALITY : TQ_PSI_MODE_MATCHES;
    o.keys_per_entry =
        uint_opt(c, "keys", TQ_PSI_NODE_KEYS_DEFAULT, TQ_PSI_MAX_KEYS_PER_ENTRY, &ok);
    o.timeout_s = uint_opt(c, "timeout", TQ_PSI_NODE_TIMEOUT_S_DEFAULT, 3600, &ok);
    if (!ok || o.keys_per_entry == 0 || o.timeout_s == 0)
        return cli_usage(c);
    rc = tq_audit_log_open(tq_node_store(c->node), &aopt, &audit, &err);
    if (rc)
        return cli_fail("audit log", rc, &err);
    o.audit = audit;
    tq_node_tls_paths(c->node, &cert, &key);
    rc = tq_psi_run(tq_node_store(c->node), cert, key, partner, &o, &r, &err);
    if (rc == TQ_OK)
        print_result(c, partner, &r);
    else
        status = cli_fail("psi run", rc, &err);
    tq_psi_run_result_cleanup(&r);
    tq_audit_log_close(audit);
    return status;
}

static int run_psi(struct cli_ctx *c)
{
    const char *verb = c->argv[0], *list = cli_opt(c, "list");

    if (strcmp(verb, "grants") == 0 && c->argc == 1)
        return run_grants(c);
    if (strcmp(verb, "runs") == 0 && c->argc <= 2)
        return run_runs(c, c->argc == 2 ? c->argv[1] : NULL);
    if ((strcmp(verb, "allow") == 0 || strcmp(verb, "deny") == 0 || strcmp(verb, "run") == 0) &&
        c->argc == 2 && list) {
        if (verb[0] == 'a')
            return run_allow(c, c->argv[1], list);
        if (verb[0] == 'd')
            return run_deny(c, c->argv[1], list);
        return run_run(c, c->argv[1], list);
    }
    if (c->argc == 1 && list && strcmp(verb, "allow") != 0 && strcmp(verb, "deny") != 0 &&
        strcmp(verb, "runs") != 0 && strcmp(verb, "grants") != 0 && strcmp(verb, "run") != 0)
        return run_run(c, verb, list);
    return cli_usage(c);
}

static const struct cli_opt psi_opts[] = {
    {"list", true},    {"peer-list", true}, {"cardinality", false}, {"keys", true},
    {"timeout", true}, {"mode", true},      {"runs-per-day", true}, {"min-entries", true},
    {"limit", true},   {NULL, false}};

static const struct cli_cmd psi_cmds[] = {{
    .synopsis = "psi PARTNER --list NAME [--peer-list NAME] [--cardinality] [--keys K] [--json]\n"
                " psi allow PARTNER --list NAME [--mode matches|cardinality|both]\n"
                "     [--runs-per-day N] [--min-entries N]\n"
                " psi deny PARTNER --list NAME\n"
                " psi grants [--json]\n"
                " psi runs [PARTNER] [--limit N] [--json]",
    .opts = psi_opts,
    .min_args = 1,
    .max_args = 2,
    .flags = CLI_NODE,
    .run = run_psi,
}};

const struct cli_family cli_psi = {
    .name = "psi",
    .summary = "private intersection of a watchlist with a partner's",
    .help = "psi PARTNER --list NAME runs a private set intersection of the local watchlist\n"
            "NAME with the partner's list of the same name (--peer-list for another) over\n"
            "mutual TLS: each side learns which of its own entries the other also holds (ref\n"
            "and name) and the size of the other list, nothing else. --cardinality learns only\n"
            "how many. --keys K pads every entry to K keys (default 8); an entry with more is\n"
            "cut to its first K. A node answers only for a list it opened to the partner with\n"
            "psi allow (default: matches mode, 10 runs a day, peer lists of 10 entries or\n"
            "more). Lists built from STIX are never opened. Every run is a leaf of both nodes'\n"
            "audit logs; psi runs lists the runs as this node recorded them. A partner named\n"
            "allow, deny, grants, runs or run is asked with psi run PARTNER --list NAME.\n",
    .cmds = psi_cmds,
    .n_cmds = 1,
};
