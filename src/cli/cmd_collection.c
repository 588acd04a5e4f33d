/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_collection.c - `tansiq collection ...`: TAXII collections and the sharing default
 * agreed for each (`collection policy`).
 *
 * Changing a collection's default goes through tq_policy_collection_default_set, which
 * recomputes the release decisions of the objects in it in the same transaction.
 */
#include <string.h>

#include "cli/cli.h"
#include "tansiq/policy.h"

static int run_add(struct cli_ctx *c)
{
    /* The strings are argv's; tq_store_collection_add only reads them. */
    struct tq_collection col = {.alias = (char *)cli_opt(c, "alias"),
                                .description = (char *)cli_opt(c, "description"),
                                .title = c->argv[0]};
    struct tq_err err = {0};
    tq_rc rc;

    tq_uuid4(col.id);
    rc = tq_store_collection_add(tq_node_store(c->node), &col, &err);
    if (rc)
        return cli_fail("collection", rc, &err);
    printf("%s\n", col.id);
    return CLI_OK;
}

static int run_list(struct cli_ctx *c)
{
    struct tq_collection *list = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc;

    rc = tq_store_collection_list(tq_node_store(c->node), &list, &n, &err);
    for (size_t i = 0; !rc && i < n; i++) {
        if (c->common.json) {
            printf("%s{\"id\":\"%s\",\"alias\":", i ? "," : "[", list[i].id);
            cli_json_str(stdout, list[i].alias);
            printf(",\"title\":");
            cli_json_str(stdout, list[i].title);
            printf("}");
        } else {
            printf("%s  %-12s %s\n", list[i].id, list[i].alias ? list[i].alias : "-",
                   list[i].title);
        }
    }
    if (!rc && c->common.json)
        printf("%s\n", n ? "]" : "[]");
    tq_collection_list_free(list, n);
    return rc ? cli_fail("collection", rc, &err) : CLI_OK;
}

/* The node is opened only once --tlp and --audience are known to be well formed. */
static int run_policy(struct cli_ctx *c)
{
    struct tq_collection_policy pol = {0};
    const char *tlp_arg = cli_opt(c, "tlp"), *audience = cli_opt(c, "audience");
    const char *coll = c->argv[0];
    enum tq_tlp tlp = TQ_TLP_UNSET;
    struct tq_node *node = NULL;
    struct tq_store *store;
    struct tq_err err = {0};
    char id[37];
    int status;
    tq_rc rc;

    if (tlp_arg && tq_tlp_parse(tlp_arg, &tlp) != TQ_OK) {
        fprintf(stderr,
                "tansiq: '%s' is not a TLP level (clear, green, amber, amber+strict, "
                "red)\n",
                tlp_arg);
        return CLI_USAGE;
    }
    if (audience && tq_policy_audience_check(audience, &err) != TQ_OK)
        return cli_fail("collection policy", TQ_EINVAL, &err);
    status = cli_open_node(&c->common, &node);
    if (status)
        return status;
    store = tq_node_store(node);
    rc = cli_collection_id(store, coll, false, id, &err);
    if (!rc)
        rc = tq_store_collection_policy_get(store, id, &pol, &err);
    if (!rc && (tlp_arg || audience)) {
        if (tlp_arg)
            pol.default_tlp = (int)tlp;
        if (audience) {
            tq_free(pol.audience);
            pol.audience = tq_xstrdup(audience);
        }
        rc = tq_policy_collection_default_set(store, id, (enum tq_tlp)pol.default_tlp, pol.audience,
                                              &err);
    }
    if (rc) {
        status = cli_fail("collection policy", rc, &err);
    } else if (c->common.json) {
        printf("{\"collection\":\"%s\",\"tlp\":", id);
        cli_json_str(stdout, pol.default_tlp ? tq_tlp_name((enum tq_tlp)pol.default_tlp) : NULL);
        printf(",\"audience\":");
        cli_json_str(stdout, pol.audience ? pol.audience : "");
        printf("}\n");
    } else {
        printf("collection  %s\ntlp         %s\naudience    %s\n", id,
               pol.default_tlp ? tq_tlp_name((enum tq_tlp)pol.default_tlp) : "(unset: TLP:AMBER)",
               pol.audience && pol.audience[0] ? pol.audience : "(nobody)");
    }
    tq_collection_policy_cleanup(&pol);
    tq_node_close(node);
    return status;
}

static const struct cli_opt add_opts[] = {{"alias", true}, {"description", true}, {NULL, false}};
static const struct cli_opt policy_opts[] = {{"tlp", true}, {"audience", true}, {NULL, false}};

static const struct cli_cmd collection_cmds[] = {
    {"add", "collection add TITLE [--alias NAME] [--description TEXT]", add_opts, 1, 1, CLI_NODE,
     NULL, NULL, run_add},
    {"list", "collection list [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_list},
    {"policy", "collection policy COLL [--tlp LEVEL] [--audience LIST] [--json]", policy_opts, 1, 1,
     0,
     "Show or set the default agreed for a collection: the TLP of objects that carry\n"
     "no TLP marking (clear, green, amber, amber+strict, red; unset reads as amber)\n"
     "and the audience of objects created here that name none, as a comma-separated\n"
     "list of group:NAME and partner:NAME ('' for nobody). Without --tlp and\n"
     "--audience the current default is printed. Setting it recomputes what every\n"
     "partner sees in the collection.\n",
     NULL, run_policy},
};

const struct cli_family cli_collection = {
    .name = "collection",
    .summary = "manage TAXII collections and their sharing defaults",
    .help = "TAXII collections of this node. Users see a collection only once granted read\n"
            "or write on it (tansiq user grant).\n",
    .cmds = collection_cmds,
    .n_cmds = CLI_N(collection_cmds),
};
