/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_admin.c - `tansiq user ...` and `tansiq collection ...`.
 *
 * Passwords are read from standard input (--password-stdin) or typed at a terminal with echo
 * off, never taken from the command line where other users could see them in ps(1). Tokens
 * are shown once and stored only as their SHA-256.
 */
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"

#define PASSWORD_MAX 1024

static const char user_usage[] =
    "usage: tansiq user add NAME [--password-stdin] [--read COLL]... [--write COLL]...\n"
    "       tansiq user grant NAME COLL [--read] [--write] [--revoke]\n"
    "       tansiq user token NAME [--label TEXT]\n"
    "       tansiq user remove NAME\n"
    "       tansiq user list [--json]\n\n"
    "Users authenticate with HTTP Basic (password, stored as an Argon2id hash) or with a\n"
    "bearer API token (shown once, stored hashed). COLL is a collection id or alias, or '*'\n"
    "for every collection. Every command takes --home DIR.\n";

static bool read_line(FILE *f, char *buf, size_t size)
{
    size_t n;

    if (!fgets(buf, (int)size, f))
        return false;
    n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return true;
}

static bool read_password(bool from_stdin, char *buf, size_t size)
{
    struct termios old, quiet;
    char again[PASSWORD_MAX];
    bool ok;

    if (from_stdin || !isatty(STDIN_FILENO))
        return read_line(stdin, buf, size) && buf[0];
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fprintf(stderr, "password: ");
    ok = read_line(stdin, buf, size);
    fprintf(stderr, "\nagain: ");
    ok = ok && read_line(stdin, again, sizeof(again));
    fprintf(stderr, "\n");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    ok = ok && buf[0] && strcmp(buf, again) == 0;
    sodium_memzero(again, sizeof(again));
    if (!ok)
        fprintf(stderr, "tansiq: the passwords are empty or do not match\n");
    return ok;
}

static tq_rc user_must_exist(struct tq_store *store, const char *name, struct tq_err *err)
{
    char *hash = NULL;
    tq_rc rc = tq_store_user_get(store, name, &hash, err);

    if (hash)
        sodium_memzero(hash, strlen(hash));
    tq_free(hash);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(err, rc, "no user named '%s'", name);
    return rc;
}

static tq_rc grant(struct tq_store *store, const char *user, const char *coll, bool r, bool w,
                   struct tq_err *err)
{
    char id[37];
    bool had_r = false, had_w = false;
    tq_rc rc = cli_collection_id(store, coll, true, id, err);

    if (!rc)
        rc = tq_store_perm_get(store, user, id, &had_r, &had_w, err);
    if (!rc)
        rc = tq_store_perm_set(store, user, id, had_r || r, had_w || w, err);
    return rc;
}

static int user_list(struct tq_store *store, bool json)
{
    char **names = NULL;
    size_t n = 0;
    struct tq_err err = {0};
    tq_rc rc = tq_store_user_list(store, &names, &n, &err);

    if (rc)
        return cli_fail("user list", rc, &err);
    if (json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            printf("%s", i ? "," : "");
            cli_json_str(stdout, names[i]);
        } else {
            printf("%s\n", names[i]);
        }
        tq_free(names[i]);
    }
    if (json)
        printf("]\n");
    tq_free(names);
    return CLI_OK;
}

int cmd_user(int argc, char **argv)
{
    enum { OPT_PWSTDIN = OPT_FIRST_FREE, OPT_READ, OPT_WRITE, OPT_REVOKE, OPT_LABEL };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
        {"read", optional_argument, NULL, OPT_READ},
        {"write", optional_argument, NULL, OPT_WRITE},
        {"revoke", no_argument, NULL, OPT_REVOKE},
        {"label", required_argument, NULL, OPT_LABEL},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    const char *reads[64], *writes[64], *label = "";
    size_t n_reads = 0, n_writes = 0;
    bool help = false, pw_stdin = false, revoke = false, flag_r = false, flag_w = false;
    struct tq_node *node = NULL;
    struct tq_store *store;
    struct tq_err err = {0};
    const char *sub, *name;
    int c, status;
    tq_rc rc = TQ_OK;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        switch (c) {
        case OPT_PWSTDIN:
            pw_stdin = true;
            break;
        case OPT_READ:
            flag_r = true;
            if (optarg && n_reads < 64)
                reads[n_reads++] = optarg;
            break;
        case OPT_WRITE:
            flag_w = true;
            if (optarg && n_writes < 64)
                writes[n_writes++] = optarg;
            break;
        case OPT_REVOKE:
            revoke = true;
            break;
        case OPT_LABEL:
            label = optarg;
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (help || optind == argc) {
        fputs(user_usage, help ? stdout : stderr);
        return help ? CLI_OK : CLI_USAGE;
    }
    sub = argv[optind];
    name = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (strcmp(sub, "list") != 0 && !name) {
        fputs(user_usage, stderr);
        return CLI_USAGE;
    }
    if ((strcmp(sub, "grant") == 0 && argc > optind + 3) ||
        (strcmp(sub, "grant") != 0 && strcmp(sub, "list") != 0 && argc > optind + 2)) {
        fprintf(stderr,
                "tansiq: unexpected argument '%s' (collections of 'user add' are given "
                "as --read=COLL and --write=COLL)\n",
                argv[argc - 1]);
        return CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    store = tq_node_store(node);
    if (strcmp(sub, "list") == 0) {
        status = user_list(store, common.json);
    } else if (strcmp(sub, "add") == 0) {
        char password[PASSWORD_MAX];
        char *hash = NULL;

        if (!read_password(pw_stdin, password, sizeof(password))) {
            fprintf(stderr, "tansiq: no password given\n");
            status = CLI_USAGE;
            goto out;
        }
        rc = tq_auth_password_hash(password, &hash, &err);
        sodium_memzero(password, sizeof(password));
        if (!rc)
            rc = tq_store_user_put(store, name, hash, &err);
        tq_free(hash);
        for (size_t i = 0; !rc && i < n_reads; i++)
            rc = grant(store, name, reads[i], true, false, &err);
        for (size_t i = 0; !rc && i < n_writes; i++)
            rc = grant(store, name, writes[i], false, true, &err);
        if (!rc && !common.json)
            printf("user %s saved\n", name);
    } else if (strcmp(sub, "grant") == 0) {
        char id[37];

        if (optind + 2 >= argc) {
            fputs(user_usage, stderr);
            status = CLI_USAGE;
            goto out;
        }
        if (!flag_r && !flag_w && !revoke)
            flag_r = true;
        rc = user_must_exist(store, name, &err);
        if (!rc && revoke) {
            rc = cli_collection_id(store, argv[optind + 2], true, id, &err);
            if (!rc)
                rc = tq_store_perm_set(store, name, id, false, false, &err);
        } else if (!rc) {
            rc = grant(store, name, argv[optind + 2], flag_r, flag_w, &err);
        }
    } else if (strcmp(sub, "token") == 0) {
        char *token = NULL;
        uint8_t hash[32];

        rc = user_must_exist(store, name, &err);
        if (!rc)
            rc = tq_auth_token_new(&token, hash, &err);
        if (!rc)
            rc = tq_store_token_add(store, name, hash, label, &err);
        if (!rc)
            printf("%s\n", token);
        if (token)
            sodium_memzero(token, strlen(token));
        tq_free(token);
    } else if (strcmp(sub, "remove") == 0) {
        rc = tq_store_user_delete(store, name, &err);
    } else {
        fprintf(stderr, "tansiq: unknown user command '%s'\n", sub);
        status = CLI_USAGE;
    }
    if (rc)
        status = cli_fail(sub, rc, &err);
out:
    tq_node_close(node);
    return status;
}

int cmd_collection(int argc, char **argv)
{
    enum { OPT_ALIAS = OPT_FIRST_FREE, OPT_DESC };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"alias", required_argument, NULL, OPT_ALIAS},
        {"description", required_argument, NULL, OPT_DESC},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_collection col = {0}, *list = NULL;
    struct tq_node *node = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    bool help = false;
    int c, status;
    tq_rc rc = TQ_OK;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_ALIAS)
            col.alias = optarg;
        else if (c == OPT_DESC)
            col.description = optarg;
        else
            return CLI_USAGE;
    }
    if (help || optind == argc || (strcmp(argv[optind], "add") == 0 && optind + 2 != argc)) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq collection add TITLE [--alias NAME] [--description TEXT]\n"
                "       tansiq collection list [--json]\n\n"
                "TAXII collections of this node. Users see a collection only once granted read\n"
                "or write on it (tansiq user grant).\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    if (strcmp(argv[optind], "add") == 0) {
        tq_uuid4(col.id);
        col.title = argv[optind + 1];
        rc = tq_store_collection_add(tq_node_store(node), &col, &err);
        if (!rc)
            printf("%s\n", col.id);
    } else if (strcmp(argv[optind], "list") == 0) {
        rc = tq_store_collection_list(tq_node_store(node), &list, &n, &err);
        for (size_t i = 0; !rc && i < n; i++) {
            if (common.json) {
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
        if (!rc && common.json)
            printf("%s\n", n ? "]" : "[]");
        tq_collection_list_free(list, n);
    } else {
        fprintf(stderr, "tansiq: unknown collection command '%s'\n", argv[optind]);
        status = CLI_USAGE;
    }
    if (rc)
        status = cli_fail("collection", rc, &err);
    tq_node_close(node);
    return status;
}
