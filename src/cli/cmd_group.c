/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_group.c - `tansiq group ...`: sharing groups of partners.
 *
 * Changes go through the tq_policy_group_* functions of policy.h, which recompute what each
 * partner sees in the same transaction; membership is never shown to partners.
 */
#include <string.h>

#include "cli/cli.h"
#include "tansiq/policy.h"

static void print_names(char **names, size_t n, bool json)
{
    if (json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            printf("%s", i ? "," : "");
            cli_json_str(stdout, names[i]);
        } else {
            printf("%s%s", i ? " " : "", names[i]);
        }
    }
    printf("%s", json ? "]" : "");
}

static int group_list(struct tq_store *store, bool json)
{
    char **groups = NULL, **members = NULL;
    size_t n = 0, m = 0;
    struct tq_err err = {0};
    tq_rc rc = tq_store_group_list(store, &groups, &n, &err);

    if (rc)
        return cli_fail("group list", rc, &err);
    if (json)
        printf("[");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = tq_store_group_members(store, groups[i], &members, &m, &err);
        if (rc)
            break;
        if (json) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_str(stdout, groups[i]);
            printf(",\"members\":");
            print_names(members, m, true);
            printf("}");
        } else {
            printf("%-20s ", groups[i]);
            print_names(members, m, false);
            printf("\n");
        }
        tq_store_names_free(members, m);
    }
    if (json)
        printf("]\n");
    tq_store_names_free(groups, n);
    return rc ? cli_fail("group list", rc, &err) : CLI_OK;
}

static int group_show(struct tq_store *store, const char *name, bool json)
{
    char **members = NULL;
    size_t m = 0;
    struct tq_err err = {0};
    tq_rc rc = tq_store_group_members(store, name, &members, &m, &err);

    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(&err, rc, "no group named '%s'", name);
    if (rc)
        return cli_fail("group show", rc, &err);
    if (json) {
        printf("{\"name\":");
        cli_json_str(stdout, name);
        printf(",\"members\":");
        print_names(members, m, true);
        printf("}\n");
    } else {
        printf("group    %s\nmembers  ", name);
        if (m)
            print_names(members, m, false);
        else
            printf("(none)");
        printf("\n");
    }
    tq_store_names_free(members, m);
    return CLI_OK;
}

static int run_list(struct cli_ctx *c)
{
    return group_list(tq_node_store(c->node), c->common.json);
}

static int run_show(struct cli_ctx *c)
{
    return group_show(tq_node_store(c->node), c->argv[0], c->common.json);
}

static int run_add(struct cli_ctx *c)
{
    const char *name = c->argv[0];
    struct tq_err err = {0};
    tq_rc rc;

    if (!tq_policy_name_valid(name))
        rc = tq_err_set(&err, TQ_EINVAL, "'%s' is not a group name ([a-z0-9][a-z0-9._-]{0,62})",
                        name);
    else
        rc = tq_policy_group_add(tq_node_store(c->node), name, &err);
    if (rc)
        return cli_fail("add", rc, &err);
    if (!c->common.json)
        printf("group %s added\n", name);
    return CLI_OK;
}

static int run_remove(struct cli_ctx *c)
{
    struct tq_err err = {0};
    tq_rc rc = tq_policy_group_remove(tq_node_store(c->node), c->argv[0], &err);

    if (rc)
        return cli_fail("remove", rc, &err);
    if (!c->common.json)
        printf("group %s removed\n", c->argv[0]);
    return CLI_OK;
}

static int run_member(struct cli_ctx *c)
{
    bool drop = cli_has(c, "remove");
    struct tq_err err = {0};
    tq_rc rc;

    rc = tq_policy_group_member_set(tq_node_store(c->node), c->argv[0], c->argv[1], !drop, &err);
    if (rc)
        return cli_fail("member", rc, &err);
    if (!c->common.json)
        printf("partner %s %s group %s\n", c->argv[1],
               drop ? "is no longer a member of" : "is a member of", c->argv[0]);
    return CLI_OK;
}

static const struct cli_opt member_opts[] = {{"remove", false}, {NULL, false}};

static const struct cli_cmd group_cmds[] = {
    {"add", "group add NAME", NULL, 1, 1, CLI_NODE, NULL, NULL, run_add},
    {"remove", "group remove NAME", NULL, 1, 1, CLI_NODE, NULL, NULL, run_remove},
    {"member", "group member GROUP PARTNER [--remove]", member_opts, 2, 2, CLI_NODE, NULL, NULL,
     run_member},
    {"list", "group list [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_list},
    {"show", "group show NAME [--json]", NULL, 1, 1, CLI_NODE, NULL, NULL, run_show},
};

const struct cli_family cli_group = {
    .name = "group",
    .summary = "manage sharing groups of partners",
    .help =
        "A sharing group (e.g. iq-sy, iq-sy-ir) names partners an object or a collection default\n"
        "can be released to as a whole ('group:NAME'). Changing a group recomputes at once what\n"
        "each partner sees. Membership is configuration of this node and is never shown to\n"
        "partners. Every command takes --home DIR.\n",
    .cmds = group_cmds,
    .n_cmds = CLI_N(group_cmds),
};
