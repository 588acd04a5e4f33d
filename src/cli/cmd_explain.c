/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_explain.c - `tansiq explain`: why a partner may or may not see an object.
 */
#include <string.h>

#include "cli/cli.h"
#include "tansiq/policy.h"

/* Explain in one collection; TQ_ENOTFOUND when the object is not in it. */
static tq_rc explain_one(struct tq_store *store, const char *coll_id, const char *label,
                         const char *object_id, const char *partner, bool json, bool *released,
                         size_t *shown, struct tq_err *err)
{
    char *text = NULL;
    bool rel = false;
    tq_rc rc = tq_policy_explain(store, coll_id, object_id, -1, partner, &rel, &text, err);

    if (rc) {
        tq_free(text);
        return rc;
    }
    if (json) {
        printf("%s{\"collection\":", *shown ? "," : "");
        cli_json_str(stdout, label);
        printf(",\"released\":%s,\"explanation\":", rel ? "true" : "false");
        cli_json_str(stdout, text);
        printf("}");
    } else {
        printf("%scollection %s: %s\n%s", *shown ? "\n" : "", label, rel ? "RELEASED" : "WITHHELD",
               text ? text : "");
        if (text && text[0] && text[strlen(text) - 1] != '\n')
            printf("\n");
    }
    (*shown)++;
    *released = *released || rel;
    tq_free(text);
    return TQ_OK;
}

static int run_explain(struct cli_ctx *c)
{
    const char *partner = cli_opt(c, "partner"), *coll = cli_opt(c, "collection");
    const char *object_id = c->argv[0];
    struct tq_collection *cols = NULL;
    struct tq_node *node = c->node;
    struct tq_store *store;
    struct tq_err err = {0};
    bool released = false;
    size_t n = 0, shown = 0;
    int status;
    tq_rc rc = TQ_OK;

    if (!partner)
        return cli_usage(c);
    store = tq_node_store(node);
    if (c->common.json) {
        printf("{\"object\":");
        cli_json_str(stdout, object_id);
        printf(",\"partner\":");
        cli_json_str(stdout, partner);
        printf(",\"collections\":[");
    }
    if (coll) {
        char id[37];
        rc = cli_collection_id(store, coll, false, id, &err);
        if (!rc)
            rc = explain_one(store, id, coll, object_id, partner, c->common.json, &released, &shown,
                             &err);
    } else {
        rc = tq_store_collection_list(store, &cols, &n, &err);
        for (size_t i = 0; !rc && i < n; i++) {
            rc = explain_one(store, cols[i].id, cols[i].alias ? cols[i].alias : cols[i].id,
                             object_id, partner, c->common.json, &released, &shown, &err);
            if (rc == TQ_ENOTFOUND)
                rc = TQ_OK;
        }
        tq_collection_list_free(cols, n);
        if (!rc && shown == 0)
            rc = tq_err_set(&err, TQ_ENOTFOUND, "no collection holds %s", object_id);
    }
    if (c->common.json)
        printf("],\"released\":%s}\n", released ? "true" : "false");
    if (rc)
        status = cli_fail("explain", rc, &err);
    else
        status = released ? CLI_OK : CLI_REFUSED;
    return status;
}

static const struct cli_opt explain_opts[] = {
    {"partner", true}, {"collection", true}, {NULL, false}};

static const struct cli_cmd explain_cmds[] = {{
    .synopsis = "explain OBJECT_ID --partner NAME [--collection COLL] [--json]",
    .opts = explain_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CLI_NODE,
    .run = run_explain,
}};

const struct cli_family cli_explain = {
    .name = "explain",
    .summary = "say why a partner may or may not see an object",
    .help = "Why partner NAME may or may not see the latest version of a stored object: its\n"
            "markings, the collection default, the rule that decided. Without --collection,\n"
            "every collection holding the object is explained. Exit status 0 when the\n"
            "object is released to the partner (in at least one collection), 1 when it is\n"
            "withheld.\n",
    .cmds = explain_cmds,
    .n_cmds = 1,
};
