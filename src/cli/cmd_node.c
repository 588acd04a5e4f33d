/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_node.c - `tansiq init` and `tansiq serve`.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static int run_init(struct cli_ctx *c)
{
    struct tq_node_init_opts opts = {.title = cli_opt(c, "title"),
                                     .hostname = cli_opt(c, "hostname"),
                                     .cert_pem = cli_opt(c, "cert"),
                                     .key_pem = cli_opt(c, "key"),
                                     .store = cli_opt(c, "store")};
    struct tq_err err = {0};
    tq_rc rc;

    rc = tq_node_init(c->common.home, &opts, &err);
    if (rc)
        return cli_fail("init", rc, &err);
    if (c->common.json) {
        printf("{\"home\":");
        cli_json_str(stdout, c->common.home);
        printf("}\n");
    } else {
        printf("initialised a tansiq node in %s\n"
               "next: tansiq user add NAME --home %s, then tansiq serve --home %s\n",
               c->common.home, c->common.home, c->common.home);
    }
    return CLI_OK;
}

static const struct cli_opt init_opts[] = {{"title", true}, {"hostname", true}, {"cert", true},
                                           {"key", true},   {"store", true},    {NULL, false}};

static const struct cli_cmd init_cmds[] = {{
    .synopsis = "init [--home DIR] [--title TITLE] [--hostname NAME]\n"
                "                   [--cert CERT.pem --key KEY.pem] [--store URI]",
    .opts = init_opts,
    .run = run_init,
}};

const struct cli_family cli_init = {
    .name = "init",
    .summary = "create a node's home: store, TLS certificate, identity key",
    .help = "Create a node's home: configuration, store with the default collection\n"
            "'shared', a TLS certificate (self-signed for NAME, default localhost, unless\n"
            "--cert/--key are given) and the node's Ed25519 identity key. The store is\n"
            "DIR/store.db (SQLite) unless --store names a PostgreSQL database that exists\n"
            "and is empty: postgresql://[USER@]HOST[:PORT]/DB[?sslmode=verify-full&...];\n"
            "the password goes in a password file (passfile= or PGPASSFILE), never in\n"
            "the URI. The URI is kept in DIR/tansiq.conf as 'store = URI'.\n",
    .cmds = init_cmds,
    .n_cmds = 1,
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Split ADDR:PORT (IPv6 in brackets) into cfg; the address string stays in arg. */
static bool parse_listen(char *arg, struct tq_server_config *cfg)
{
    char *colon = strrchr(arg, ':');
    char *end;
    long port;

    if (!colon || colon == arg)
        return false;
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535)
        return false;
    *colon = '\0';
    if (arg[0] == '[' && colon[-1] == ']') {
        colon[-1] = '\0';
        arg++;
    }
    cfg->listen_addr = arg;
    cfg->port = (uint16_t)port;
    return true;
}

static int run_serve(struct cli_ctx *c)
{
    const char *threads_arg = cli_opt(c, "threads");
    struct tq_node_config cfg;
    struct tq_node *node = NULL;
    struct tq_node_runtime *rt = NULL;
    struct tq_err err = {0};
    char url[TQ_NODE_URL_MAX];
    struct sigaction sa;
    char *listen = NULL;
    long threads = -1;
    char *end;
    int status = CLI_OK;
    tq_rc rc;

    if (threads_arg) {
        threads = strtol(threads_arg, &end, 10);
        if (*end || threads < 0 || threads > 256) {
            fprintf(stderr, "tansiq: --threads must be 0..256\n");
            return CLI_USAGE;
        }
    }
    if (cli_has(c, "listen"))
        listen = tq_xstrdup(cli_opt(c, "listen"));
    /* Before any key is read: a dump of this process would carry the TLS and identity keys. */
    tq_node_protect_process();
    {
        struct tq_node_open_opts oo = {.read_only = cli_has(c, "read-only"),
                                       .store = cli_opt(c, "store")};

        rc = tq_node_open_ex(c->common.home, &oo, &node, &err);
        if (rc) {
            status = cli_fail("cannot open the node", rc, &err);
            goto out;
        }
    }
    rc = tq_node_config_load(node, &cfg, &err);
    if (rc) {
        status = cli_fail("configuration", rc, &err);
        goto out;
    }
    if (listen && !parse_listen(listen, &cfg.http)) {
        fprintf(stderr, "tansiq: --listen expects ADDR:PORT, got '%s'\n", listen);
        status = CLI_USAGE;
        goto out;
    }
    cfg.http.plain_http = cli_has(c, "plain-http");
    if (threads >= 0)
        cfg.http.threads = (unsigned)threads;
    rc = tq_node_runtime_start(node, &cfg, &rt, &err);
    if (rc) {
        fprintf(stderr, "tansiq: %s\n", err.msg[0] ? err.msg : tq_rc_str(rc));
        status = rc == TQ_EINVAL || rc == TQ_ECONFIG ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* As soon as the server listens: with port 0 this is how the caller learns the port. */
    tq_node_runtime_url(rt, url);
    printf("%s\n", url);
    fflush(stdout);
    while (!stop_requested)
        pause();
    tq_log(TQ_LOG_INFO, "serve: stopping");
out:
    tq_node_runtime_stop(rt);
    tq_node_close(node);
    tq_free(listen);
    return status;
}

static const struct cli_opt serve_opts[] = {{"listen", true},  {"plain-http", false},
                                            {"threads", true}, {"read-only", false},
                                            {"store", true},   {NULL, false}};

static const struct cli_cmd serve_cmds[] = {{
    .synopsis = "serve [--home DIR] [--listen ADDR:PORT] [--plain-http]\n"
                "                    [--threads N] [--read-only] [--store URI]",
    .opts = serve_opts,
    .run = run_serve,
}};

const struct cli_family cli_serve = {
    .name = "serve",
    .summary = "run the TAXII 2.1 server",
    .help = "Serve TAXII 2.1 over HTTPS (the certificate in DIR/tls). --plain-http serves\n"
            "plain HTTP instead and is refused unless ADDR is a loopback address.\n"
            "Port 0 picks a free port; the chosen URL is printed on standard output.\n"
            "Several serve processes on one PostgreSQL store are one node. --read-only\n"
            "serves from a replica (--store: a PostgreSQL hot standby): TAXII reads of\n"
            "users, the log's tiles and checkpoints; writes, partners' reads (which are\n"
            "logged) and sync go to the primary.\n",
    .cmds = serve_cmds,
    .n_cmds = 1,
};
