/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_watchlist.c - `tansiq watchlist import|list|show|remove`: the lists names are screened
 * against.
 *
 * A file is read by screen's readers (the UN consolidated list XML, CSV) or a collection's
 * identities and threat actors are taken as a list (STIX), and the store keeps the list, telling
 * what a re-import added, changed and removed by each entry's reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tansiq/watchlist.h"

#define REFS_SHOWN 50 /* refs printed per kind of change before "... and N more" */

/* The format named by --format, or guessed from the file's name and first byte. */
static const char *format_of(const char *given, const char *path, struct tq_str text)
{
    const char *dot = path ? strrchr(path, '.') : NULL;

    if (given)
        return given;
    if (dot && strcmp(dot, ".xml") == 0)
        return "un-xml";
    if (dot && (strcmp(dot, ".csv") == 0 || strcmp(dot, ".tsv") == 0))
        return "csv";
    for (size_t i = 0; i < text.len; i++)
        if (text.ptr[i] != ' ' && text.ptr[i] != '\n' && text.ptr[i] != '\r' && text.ptr[i] != '\t')
            return text.ptr[i] == '<' ? "un-xml" : "csv";
    return "csv";
}

/* A list name from a file's base name: letters, digits, '-', '_' and '.' kept, others '-'. */
static void name_from_path(const char *path, char out[TQ_WATCH_LIST_NAME_MAX + 1])
{
    const char *base = strrchr(path, '/');
    size_t n = 0;

    base = base ? base + 1 : path;
    for (; *base && n < TQ_WATCH_LIST_NAME_MAX; base++) {
        char ch = *base;

        if (ch == '.' && strchr(base + 1, '.') == NULL)
            break; /* the extension */
        out[n++] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')
                       ? ch
                       : '-';
    }
    out[n] = 0;
    if (n == 0)
        snprintf(out, TQ_WATCH_LIST_NAME_MAX + 1, "list");
}

static void print_refs(const char *mark, char **refs, size_t n)
{
    for (size_t i = 0; i < n && i < REFS_SHOWN; i++)
        printf("  %s %s\n", mark, refs[i]);
    if (n > REFS_SHOWN)
        printf("  %s ... and %zu more\n", mark, n - REFS_SHOWN);
}

static void json_refs(const char *key, char **refs, size_t n)
{
    printf(",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(',');
        cli_json_str(stdout, refs[i]);
    }
    putchar(']');
}

static int cmp_entry_ref(const void *a, const void *b)
{
    return strcmp((*(const struct tq_watch_entry *const *)a)->ref,
                  (*(const struct tq_watch_entry *const *)b)->ref);
}

/* SHA-256 over the entries' stored form (tq_watch_entry_json) in ref order, one per line. */
static tq_rc entries_digest(const struct tq_watch_entry *v, size_t n, char hex[65])
{
    const struct tq_watch_entry **by_ref = tq_xcalloc(n ? n : 1, sizeof(*by_ref));
    uint8_t sum[TQ_SHA256_BYTES];
    struct tq_buf b;
    tq_rc rc = TQ_OK;

    for (size_t i = 0; i < n; i++)
        by_ref[i] = &v[i];
    qsort(by_ref, n, sizeof(*by_ref), cmp_entry_ref);
    tq_buf_init(&b, TQ_WATCHLIST_FILE_MAX);
    for (size_t i = 0; i < n && rc == TQ_OK; i++) {
        rc = tq_watch_entry_json(by_ref[i], &b);
        if (rc == TQ_OK)
            rc = tq_buf_append(&b, "\n", 1);
    }
    if (rc == TQ_OK) {
        tq_sha256(b.ptr ? b.ptr : "", b.len, sum);
        tq_hex_encode(sum, sizeof(sum), hex);
    }
    tq_buf_cleanup(&b);
    tq_free(by_ref);
    return rc;
}

/*
 * A "watchlist" event in the audit log: which list changed, how, and the digest of what it
 * holds now, so that a partner or an inspector can tell later which list a screening or a
 * private intersection ran against. Never a name. A failure is reported, not fatal: the list
 * is already stored.
 */
static void audit_watchlist(struct tq_store *store, const char *action, const char *list,
                            const char *format, size_t entries,
                            const struct tq_store_watchlist_diff *d, const char *digest)
{
    char n_s[24], added[24], changed[24], removed[24];
    struct tq_store_audit_field f[8];
    struct tq_store_audit_event ev = {.kind = "watchlist", .version_us = -1, .fields = f};
    struct tq_err err = {0};

    ev.at_us = tq_time_now_us();
    f[ev.n_fields++] = (struct tq_store_audit_field){"action", action};
    f[ev.n_fields++] = (struct tq_store_audit_field){"list", list};
    if (format)
        f[ev.n_fields++] = (struct tq_store_audit_field){"format", format};
    if (d) {
        snprintf(n_s, sizeof(n_s), "%zu", entries);
        snprintf(added, sizeof(added), "%zu", d->n_added);
        snprintf(changed, sizeof(changed), "%zu", d->n_changed);
        snprintf(removed, sizeof(removed), "%zu", d->n_removed);
        f[ev.n_fields++] = (struct tq_store_audit_field){"entries", n_s};
        f[ev.n_fields++] = (struct tq_store_audit_field){"entries_added", added};
        f[ev.n_fields++] = (struct tq_store_audit_field){"entries_changed", changed};
        f[ev.n_fields++] = (struct tq_store_audit_field){"entries_removed", removed};
    }
    if (digest)
        f[ev.n_fields++] = (struct tq_store_audit_field){"entries_sha256", digest};
    if (tq_store_audit_append(store, &ev, 1, &err))
        fprintf(stderr, "tansiq: watchlist %s: %s kept, but not written to the audit log: %s\n",
                list, action, err.msg);
}

static int run_import(struct cli_ctx *c)
{
    const char *path = c->argc ? c->argv[0] : NULL, *coll = cli_opt(c, "collection");
    const char *format, *list = cli_opt(c, "list");
    char name[TQ_WATCH_LIST_NAME_MAX + 1], source[512], digest[65];
    struct tq_store_watchlist_diff d = {0};
    struct tq_watch_entry *v = NULL;
    struct tq_store *store = tq_node_store(c->node);
    struct tq_err err = {0};
    struct tq_buf text = {0};
    size_t n = 0;
    tq_rc rc;

    format = cli_opt(c, "format");
    if (format && strcmp(format, "un-xml") != 0 && strcmp(format, "csv") != 0 &&
        strcmp(format, "stix") != 0) {
        fprintf(stderr, "tansiq: --format is un-xml, csv or stix\n");
        return cli_usage(c);
    }
    if ((format && strcmp(format, "stix") == 0) != (coll != NULL) || (!coll && !path) ||
        (coll && path)) {
        fprintf(stderr, "tansiq: give a FILE, or --format stix with --collection C\n");
        return cli_usage(c);
    }
    if (coll) {
        rc = tq_watchlist_from_stix(store, coll, NULL, &v, &n, &err);
        snprintf(source, sizeof(source), "stix:%s", coll);
        snprintf(name, sizeof(name), "stix-%s", coll);
    } else {
        rc = cli_read_input(path, TQ_WATCHLIST_FILE_MAX, &text, &err);
        if (rc)
            return cli_fail(path, rc, &err);
        format = format_of(format, path, (struct tq_str){text.ptr, text.len});
        if (strcmp(format, "un-xml") == 0)
            rc = tq_watchlist_parse_un((struct tq_str){text.ptr, text.len}, NULL, &v, &n, &err);
        else
            rc = tq_watchlist_parse_csv((struct tq_str){text.ptr, text.len}, NULL, &v, &n, &err);
        tq_buf_cleanup(&text);
        snprintf(source, sizeof(source), "%s", path);
        if (strcmp(format, "un-xml") == 0)
            snprintf(name, sizeof(name), "un-sc");
        else
            name_from_path(path, name);
    }
    if (rc)
        return cli_fail(coll ? coll : path, rc, &err);
    rc = entries_digest(v, n, digest);
    if (rc == TQ_OK)
        rc = tq_store_watchlist_put(
            store,
            &(struct tq_store_watchlist){
                .name = (char *)(list ? list : name), .source = source, .format = (char *)format},
            v, n, &d, &err);
    tq_watch_entries_free(v, n);
    if (rc)
        return cli_fail("watchlist import", rc, &err);
    audit_watchlist(store, "import", list ? list : name, format, n, &d, digest);
    if (c->common.json) {
        printf("{\"list\":");
        cli_json_str(stdout, list ? list : name);
        printf(",\"format\":\"%s\",\"entries\":%zu,\"created\":%s", format, n,
               d.created ? "true" : "false");
        json_refs("added", d.added, d.n_added);
        json_refs("changed", d.changed, d.n_changed);
        json_refs("removed", d.removed, d.n_removed);
        printf(",\"unchanged\":%zu}\n", d.unchanged);
    } else {
        printf("watchlist %s (%s): %zu entries; %zu added, %zu changed, %zu removed, %zu "
               "unchanged\n",
               list ? list : name, format, n, d.n_added, d.n_changed, d.n_removed, d.unchanged);
        if (!d.created) {
            print_refs("+", d.added, d.n_added);
            print_refs("~", d.changed, d.n_changed);
            print_refs("-", d.removed, d.n_removed);
        }
    }
    tq_store_watchlist_diff_cleanup(&d);
    return CLI_OK;
}

static int run_list(struct cli_ctx *c)
{
    struct tq_store_watchlist *v = NULL;
    struct tq_err err = {0};
    char when[TQ_TIME_STR_MAX];
    size_t n = 0;
    tq_rc rc;

    rc = tq_store_watchlist_list(tq_node_store(c->node), &v, &n, &err);
    if (rc)
        return cli_fail("watchlist list", rc, &err);
    if (c->common.json)
        putchar('[');
    for (size_t i = 0; i < n; i++) {
        tq_time_format_ms(v[i].imported_us, when);
        if (c->common.json) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_str(stdout, v[i].name);
            printf(",\"format\":");
            cli_json_str(stdout, v[i].format);
            printf(",\"source\":");
            cli_json_str(stdout, v[i].source);
            printf(",\"entries\":%llu,\"imported\":\"%s\"}", (unsigned long long)v[i].entries,
                   when);
        } else {
            printf("%-20s %-7s %8llu entries  imported %s  from %s\n", v[i].name, v[i].format,
                   (unsigned long long)v[i].entries, when, v[i].source ? v[i].source : "-");
        }
    }
    if (c->common.json)
        printf("]\n");
    else if (n == 0)
        printf("no watchlist (tansiq watchlist import FILE)\n");
    tq_store_watchlists_free(v, n);
    return CLI_OK;
}

static void show_entry(const struct tq_watch_entry *e)
{
    char dob[24];

    printf("%s  %s  %s\n", e->ref, tq_watch_kind_str(e->kind), e->n_names ? e->names[0].name : "-");
    for (size_t i = 1; i < e->n_names; i++)
        printf("    %-8s %s  %s\n", tq_watch_quality_str(e->names[i].quality), e->names[i].script,
               e->names[i].name);
    for (size_t i = 0; i < e->n_dobs; i++) {
        tq_watch_dob_format(&e->dobs[i], dob);
        printf("    born     %s\n", dob);
    }
    for (size_t i = 0; i < e->n_nats; i++) {
        /* A list that gives the code itself ("IQ") needs it shown once, not twice. */
        bool same = !strcmp(e->nats[i].name, e->nats[i].iso);

        printf("    national %s%s%s\n", e->nats[i].name, e->nats[i].iso[0] && !same ? " " : "",
               same ? "" : e->nats[i].iso);
    }
}

static int run_show(struct cli_ctx *c)
{
    const char *limit_s = cli_opt(c, "limit"), *after = cli_opt(c, "after");
    struct tq_store_watchlist info = {0};
    struct tq_watch_entry *v = NULL;
    struct tq_err err = {0};
    struct tq_buf b;
    uint64_t limit = 100;
    size_t n = 0;
    bool more = false;
    tq_rc rc;

    if (limit_s &&
        (!tq_str_to_u64(tq_str_c(limit_s), &limit) || limit < 1 || limit > TQ_WATCH_PAGE_MAX)) {
        fprintf(stderr, "tansiq: --limit is 1 to %d\n", TQ_WATCH_PAGE_MAX);
        return cli_usage(c);
    }
    rc = tq_store_watchlist_get(tq_node_store(c->node), c->argv[0], after, (size_t)limit, &info, &v,
                                &n, &more, &err);
    if (rc)
        return cli_fail("watchlist show", rc, &err);
    if (c->common.json) {
        printf("{\"name\":");
        cli_json_str(stdout, info.name);
        printf(",\"format\":");
        cli_json_str(stdout, info.format);
        printf(",\"entries_total\":%llu,\"more\":%s,\"entries\":[",
               (unsigned long long)info.entries, more ? "true" : "false");
        for (size_t i = 0; i < n; i++) {
            tq_buf_init(&b, (size_t)16 << 20);
            if (tq_watch_entry_json(&v[i], &b) == TQ_OK)
                printf("%s%s", i ? "," : "", b.ptr);
            tq_buf_cleanup(&b);
        }
        printf("]}\n");
    } else {
        printf("watchlist %s (%s, %llu entries)\n", info.name, info.format,
               (unsigned long long)info.entries);
        for (size_t i = 0; i < n; i++)
            show_entry(&v[i]);
        if (more)
            printf("... more: --after '%s'\n", v[n - 1].ref);
    }
    tq_watch_entries_free(v, n);
    tq_store_watchlist_cleanup(&info);
    return CLI_OK;
}

static int run_remove(struct cli_ctx *c)
{
    struct tq_err err = {0};
    tq_rc rc = tq_store_watchlist_remove(tq_node_store(c->node), c->argv[0], &err);

    if (rc)
        return cli_fail("watchlist remove", rc, &err);
    audit_watchlist(tq_node_store(c->node), "remove", c->argv[0], NULL, 0, NULL, NULL);
    if (!c->common.json)
        printf("watchlist %s removed\n", c->argv[0]);
    return CLI_OK;
}

static const struct cli_opt import_opts[] = {
    {"list", true}, {"format", true}, {"collection", true}, {NULL, false}};
static const struct cli_opt show_opts[] = {{"limit", true}, {"after", true}, {NULL, false}};

static const struct cli_cmd watchlist_cmds[] = {
    {"import",
     "watchlist import FILE [--list NAME] [--format un-xml|csv] [--json]\n"
     " watchlist import --format stix --collection C [--list NAME] [--json]",
     import_opts, 0, 1, CLI_NODE, NULL, NULL, run_import},
    {"list", "watchlist list [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_list},
    {"show", "watchlist show NAME [--limit N] [--after REF] [--json]", show_opts, 1, 1, CLI_NODE,
     NULL, NULL, run_show},
    {"remove", "watchlist remove NAME", NULL, 1, 1, CLI_NODE, NULL, NULL, run_remove},
};

const struct cli_family cli_watchlist = {
    .name = "watchlist",
    .summary = "import and manage the lists names are screened against",
    .help = "A watchlist is a named list of persons and entities, each with a reference (for the\n"
            "UN list its reference number, such as QDi.001), names, aliases and their quality,\n"
            "dates of birth and nationalities. import reads the UN Security Council\n"
            "consolidated list (XML), a CSV list (columns ref, name, aliases, dob, nationality,\n"
            "kind by header name) or the identities and threat actors of a collection (STIX).\n"
            "Importing a list again replaces it and reports which references were added,\n"
            "changed and removed. The list's name defaults to un-sc for the UN list, the file's\n"
            "name for CSV and stix-COLLECTION for STIX. Every command takes --home DIR.\n",
    .cmds = watchlist_cmds,
    .n_cmds = CLI_N(watchlist_cmds),
};
