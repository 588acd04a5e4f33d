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
        rc = tq_policy_put(store, coll, &batch->items[0].obj, 1, NULL, NULL, NULL, err);
out:
    tq_stix_batch_free(batch);
    tq_free(json);
    tq_node_identity_cleanup(&ident);
    return rc;
}

int cmd_marking(int argc, char **argv)
{
    enum { OPT_RELEASE_TO = OPT_FIRST_FREE, OPT_NFS, OPT_COLLECTION };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"release-to", required_argument, NULL, OPT_RELEASE_TO},
        {"no-further-sharing", no_argument, NULL, OPT_NFS},
        {"collection", required_argument, NULL, OPT_COLLECTION},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_node *node = NULL;
    struct tq_err err = {0};
    const char *collection = "shared";
    char *audience = NULL, id[TQ_STIX_ID_MAX];
    bool help = false, nfs = false;
    int c, status;
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_RELEASE_TO)
            audience = optarg;
        else if (c == OPT_NFS)
            nfs = true;
        else if (c == OPT_COLLECTION)
            collection = optarg;
        else
            return CLI_USAGE;
    }
    if (help || optind + 1 != argc || strcmp(argv[optind], "add") != 0 || !audience) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq marking add --release-to AUDIENCE [--no-further-sharing]\n"
                "                          [--collection COLL] [--home DIR] [--json]\n\n"
                "Create a releasability marking-definition: objects that list its id in their\n"
                "object_marking_refs are released to AUDIENCE (comma-separated group:NAME and\n"
                "partner:NAME entries), and with --no-further-sharing their recipients may not\n"
                "pass them on. It is stored in COLL (default 'shared'); an object stored in\n"
                "another collection that references it gets a copy beside it, so the marking\n"
                "always travels with the objects it governs. The marking itself goes to the\n"
                "partners it names. Its id is printed.\n\n"
                "Every marking is read in full and fails closed: an object that references a\n"
                "marking-definition this node does not hold, or one it does not understand,\n"
                "goes to no partner (`tansiq explain` says which).\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    rc = marking_add(node, collection, audience, nfs, id, &err);
    if (rc)
        status = cli_fail("marking", rc, &err);
    else if (common.json)
        printf("{\"id\":\"%s\"}\n", id);
    else
        printf("%s\n", id);
    tq_node_close(node);
    return status;
}
