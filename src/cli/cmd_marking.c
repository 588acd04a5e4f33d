/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_marking.c - `tansiq marking add`: a releasability marking analysts can reference.
 *
 * The marking-definition carries the tansiq releasability extension (policy.h): who the
 * objects that reference it are released to, and whether recipients may pass them on. It is
 * created by this node's STIX identity and stored like any object, so that partners receive it
 * with the objects it governs.
 */
#include <string.h>

#include "cli/cli.h"
#include "tansiq/ingest.h"
#include "tansiq/policy.h"

#define MAX_ENTRIES 64

/* Split a comma-separated audience into entries (in place); returns the count. */
static size_t split_audience(char *s, const char *entries[MAX_ENTRIES])
{
    size_t n = 0;
    char *p = s;

    while (p && *p && n < MAX_ENTRIES) {
        char *comma = strchr(p, ',');

        if (comma)
            *comma = '\0';
        while (*p == ' ')
            p++;
        if (*p)
            entries[n++] = p;
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

static tq_rc marking_add(struct tq_node *node, const char *collection, char *audience, bool nfs,
                         char id[TQ_STIX_ID_MAX], struct tq_err *err)
{
    struct tq_store *store = tq_node_store(node);
    struct tq_node_identity ident;
    struct tq_stix_batch *batch = NULL;
    const char *entries[MAX_ENTRIES];
    char coll[37], *json = NULL;
    size_t n;
    tq_rc rc;

    memset(&ident, 0, sizeof(ident));
    rc = tq_policy_audience_check(audience, err);
    if (!rc)
        rc = cli_collection_id(store, collection, false, coll, err);
    if (!rc)
        rc = tq_node_identity(node, &ident, err);
    if (rc)
        goto out;
    n = split_audience(audience, entries);
    rc = tq_policy_make_marking(entries, n, nfs, ident.stix_identity, &json, id, err);
    if (!rc)
        rc = tq_stix_parse_batch(tq_str_c(json), &batch, err);
    if (!rc && (batch->n != 1 || !batch->items[0].ok))
        rc = tq_err_set(err, TQ_ESTIX, "the new marking-definition is not valid STIX");
    if (!rc)
        rc = tq_ingest_put(store, coll, &batch->items[0].obj, 1, NULL, NULL, NULL, err);
out:
    tq_stix_batch_free(batch);
    tq_free(json);
    tq_node_identity_cleanup(&ident);
    return rc;
}

static int run_add(struct cli_ctx *c)
{
    const char *collection = cli_has(c, "collection") ? cli_opt(c, "collection") : "shared";
    struct tq_err err = {0};
    char *audience, id[TQ_STIX_ID_MAX];
    tq_rc rc;

    if (!cli_has(c, "release-to"))
        return cli_usage(c);
    audience = tq_xstrdup(cli_opt(c, "release-to")); /* split in place */
    rc = marking_add(c->node, collection, audience, cli_has(c, "no-further-sharing"), id, &err);
    tq_free(audience);
    if (rc)
        return cli_fail("marking", rc, &err);
    if (c->common.json)
        printf("{\"id\":\"%s\"}\n", id);
    else
        printf("%s\n", id);
    return CLI_OK;
}

static const struct cli_opt add_opts[] = {
    {"release-to", true}, {"no-further-sharing", false}, {"collection", true}, {NULL, false}};

static const struct cli_cmd marking_cmds[] = {{
    .name = "add",
    .synopsis = "marking add --release-to AUDIENCE [--no-further-sharing]\n"
                "                          [--collection COLL] [--home DIR] [--json]",
    .opts = add_opts,
    .flags = CLI_NODE,
    .run = run_add,
}};

const struct cli_family cli_marking = {
    .name = "marking",
    .summary = "create a releasability marking (who may see, no further sharing)",
    .help = "Create a releasability marking-definition: objects that list its id in their\n"
            "object_marking_refs are released to AUDIENCE (comma-separated group:NAME and\n"
            "partner:NAME entries), and with --no-further-sharing their recipients may not\n"
            "pass them on. It is stored in COLL (default 'shared'); an object stored in\n"
            "another collection that references it gets a copy beside it, so the marking\n"
            "always travels with the objects it governs. The marking itself goes to the\n"
            "partners it names. Its id is printed.\n\n"
            "Every marking is read in full and fails closed: an object that references a\n"
            "marking-definition this node does not hold, or one it does not understand,\n"
            "goes to no partner (`tansiq explain` says which).\n",
    .cmds = marking_cmds,
    .n_cmds = 1,
};
