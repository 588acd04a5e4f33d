/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_node.c - the node runtime and the node configuration, without the CLI.
 *
 * A home is created in a temporary directory and opened; its configuration is loaded with a
 * setting from tansiq.conf and one from the environment, each landing in its part. Then the
 * runtime starts a whole node on loopback port 0 (server, audit log, signers and the sync loop),
 * one HTTPS request reaches it (the log's checkpoint, served without authentication and signed
 * by the identity key), and it stops. A second node on the same port fails with the part that
 * failed named, and leaves nothing running.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "tansiq/node.h"
#include "tansiq/runtime.h"

#include "fixture.h"

struct home {
    char dir[64];
    char home[80];
    struct tq_node *node;
};

static int setup(void **state)
{
    struct home *h = calloc(1, sizeof(*h));
    struct tq_node_init_opts opts = {.title = "runtime test"};
    struct tq_err err = {0};

    snprintf(h->dir, sizeof(h->dir), "/tmp/tq-node-XXXXXX");
    if (!mkdtemp(h->dir))
        return -1;
    snprintf(h->home, sizeof(h->home), "%s/home", h->dir);
    if (tq_node_init(h->home, &opts, &err) || tq_node_open(h->home, &h->node, &err)) {
        fprintf(stderr, "node: %s\n", err.msg);
        return -1;
    }
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct home *h = *state;

    tq_node_close(h->node);
    nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(h);
    return 0;
}

/* GET url, trusting only the node's own certificate; the status into *status, body into b. */
static void get(const char *url, const char *cert, long *status, struct tq_buf *b)
{
    tq_buf_init(b, 1u << 20);
    assert_int_equal(fixture_https_get(url, cert, NULL, status, b), CURLE_OK);
}

static void config_parts_from_file_and_environment(void **state)
{
    struct home *h = *state;
    struct tq_node_config cfg;
    struct tq_server_config http;
    struct tq_err err = {0};
    char conf[128];
    FILE *f;

    snprintf(conf, sizeof(conf), "%s/tansiq.conf", h->home);
    f = fopen(conf, "a");
    assert_non_null(f);
    fputs("sync_interval_s = 3600\nlog_origin = example.org/log\n", f);
    fclose(f);
    setenv("TANSIQ_MAX_CONNECTIONS", "77", 1);
    assert_int_equal(tq_node_config_load(h->node, &cfg, &err), TQ_OK);
    unsetenv("TANSIQ_MAX_CONNECTIONS");
    assert_string_equal(cfg.http.title, "runtime test");
    assert_int_equal(cfg.http.max_connections, 77);
    assert_int_equal(cfg.http.port, 8443);
    assert_int_equal(cfg.sync.interval_s, 3600);
    assert_string_equal(cfg.audit.log_origin, "example.org/log");
    /* The server's view keeps what callers of the server configuration read there. */
    assert_int_equal(tq_node_server_config(h->node, &http, &err), TQ_OK);
    assert_int_equal(http.sync_interval_s, 3600);
    assert_string_equal(http.log_origin, "example.org/log");
    assert_non_null(http.cert_pem_path);
}

static void runtime_serves_one_request(void **state)
{
    struct home *h = *state;
    struct tq_node_config cfg;
    struct tq_node_runtime *rt = NULL, *second = NULL;
    struct tq_err err = {0};
    char url[TQ_NODE_URL_MAX], log_url[TQ_NODE_URL_MAX + 32];
    const char *cert, *key;
    struct tq_buf body;
    long status = 0;

    assert_int_equal(tq_node_config_load(h->node, &cfg, &err), TQ_OK);
    cfg.http.listen_addr = "127.0.0.1";
    cfg.http.port = 0;
    cfg.http.threads = 2;
    cfg.sync.interval_s = 1; /* the loop runs (no partners) and must stop promptly */
    if (tq_node_runtime_start(h->node, &cfg, &rt, &err))
        fail_msg("runtime: %s", err.msg);
    assert_true(tq_node_runtime_port(rt) > 0);
    tq_node_runtime_url(rt, url);
    assert_true(strncmp(url, "https://127.0.0.1:", 18) == 0);
    assert_non_null(strstr(url, "/taxii2/"));
    tq_node_tls_paths(h->node, &cert, &key);
    snprintf(log_url, sizeof(log_url), "https://127.0.0.1:%u/log/checkpoint",
             tq_node_runtime_port(rt));
    get(log_url, cert, &status, &body);
    assert_int_equal(status, 200);
    /* A C2SP checkpoint: origin line, size, root, blank line, signature lines. */
    assert_non_null(strstr(body.ptr, "\n\n\xe2\x80\x94 "));
    tq_buf_cleanup(&body);

    /* The same port again: the server part fails, named, and nothing is left running. */
    cfg.http.port = tq_node_runtime_port(rt);
    assert_int_not_equal(tq_node_runtime_start(h->node, &cfg, &second, &err), TQ_OK);
    assert_null(second);
    assert_true(strncmp(err.msg, "cannot start the server: ", 25) == 0);
    tq_node_runtime_stop(rt);
    tq_node_runtime_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_parts_from_file_and_environment),
        cmocka_unit_test(runtime_serves_one_request),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("node", tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
