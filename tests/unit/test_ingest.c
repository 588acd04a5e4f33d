/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_ingest.c - the validate-then-store pipeline.
 *
 * The pipelined path (large inputs, two threads) must give exactly what the plain path gives:
 * the same objects stored, the same counts, the same problems in the same order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tansiq/ingest.h"

struct fixture {
    char dir[64];
    char db[96];
    struct tq_store *store;
    char coll[37];
};

struct seen {
    size_t n;
    size_t index[64];
    size_t last_done;
};

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_collection c = {.title = "t"};
    struct tq_err err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-ingest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
    assert_int_equal(tq_store_open(f->db, NULL, &f->store, &err), TQ_OK);
    tq_uuid4(c.id);
    memcpy(f->coll, c.id, sizeof(f->coll));
    assert_int_equal(tq_store_collection_add(f->store, &c, &err), TQ_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];

    tq_store_close(f->store);
    for (const char *const *s = (const char *const[]){"", "-wal", "-shm", NULL}; *s; s++) {
        snprintf(path, sizeof(path), "%s%s", f->db, *s);
        unlink(path);
    }
    rmdir(f->dir);
    tq_free(f);
    return 0;
}

static void on_problem(void *ud, const struct tq_stix_problem *p)
{
    struct seen *s = ud;

    if (!p->warning && s->n < 64)
        s->index[s->n++] = p->index;
}

static void on_progress(void *ud, size_t done, size_t total)
{
    struct seen *s = ud;

    assert_true(done <= total);
    assert_true(done >= s->last_done);
    s->last_done = done;
}

/* n identities; every object whose index is a multiple of bad_every (if non-zero) is invalid. */
static char *make_text(size_t n, size_t bad_every, const char *head, const char *tail)
{
    struct tq_buf b;

    tq_buf_init(&b, 1u << 26);
    tq_buf_append_c(&b, head);
    for (size_t i = 0; i < n; i++) {
        char id[37];
        bool bad = bad_every && i % bad_every == 0;

        tq_uuid4(id);
        tq_buf_printf(&b,
                      "%s{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--%s\","
                      "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"%s\","
                      "\"name\":\"n%zu\"}",
                      i ? "," : "", id,
                      bad ? "2019-01-01T00:00:00.000Z" : "2020-01-01T00:00:00.000Z", i);
    }
    tq_buf_append_c(&b, tail);
    return tq_buf_take(&b, NULL);
}

static void pipelined_matches_plain(void **state)
{
    struct fixture *f = *state;
    char *text = make_text(95, 7, "{\"objects\":[", "],\"more\":false}");
    struct seen seen = {0};
    struct tq_ingest_hooks hooks = {on_problem, on_progress, &seen};
    struct tq_ingest_stats st;
    struct tq_err err;
    uint64_t count;

    /* chunk 10: the input is large enough for the two-thread path */
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(text), 10, &hooks, &st, &err),
                     TQ_OK);
    assert_int_equal(st.objects, 95);
    assert_int_equal(st.rejected, 14); /* 0, 7, ..., 91 */
    assert_int_equal(st.stored, 81);
    assert_int_equal(seen.n, 14);
    for (size_t i = 0; i < seen.n; i++)
        assert_int_equal(seen.index[i], i * 7);
    assert_int_equal(seen.last_done, 95);
    assert_int_equal(tq_store_count(f->store, f->coll, &count, &err), TQ_OK);
    assert_int_equal(count, 81);

    /* the same text again: everything present, through the plain path this time */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(text), 1000, &hooks, &st, &err),
                     TQ_OK);
    assert_int_equal(st.present, 81);
    assert_int_equal(st.stored, 0);
    assert_int_equal(st.rejected, 14);
    assert_int_equal(seen.n, 14);
    tq_free(text);
}

static void bad_container_stores_nothing(void **state)
{
    struct fixture *f = *state;
    char *bad_json = make_text(50, 0, "[", ""); /* unterminated array */
    char *bad_bundle =
        make_text(50, 0, "{\"type\":\"bundle\",\"id\":\"bundle--x\",\"objects\":[", "]}");
    char *not_list = make_text(50, 0, "{\"objects\":[", "],\"objects\":[]}"); /* duplicate */
    struct tq_ingest_stats st;
    struct tq_err err;
    uint64_t count;

    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(bad_json), 10, NULL, &st, &err),
                     TQ_EJSON);
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(bad_bundle), 10, NULL, &st, &err),
                     TQ_EUNPROCESSABLE);
    assert_non_null(strstr(err.msg, "bundle"));
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(not_list), 10, NULL, &st, &err),
                     TQ_EJSON);
    assert_int_equal(tq_store_count(f->store, f->coll, &count, &err), TQ_OK);
    assert_int_equal(count, 0);
    tq_free(bad_json);
    tq_free(bad_bundle);
    tq_free(not_list);
}

static void bare_array_and_bundle(void **state)
{
    struct fixture *f = *state;
    char *arr = make_text(40, 0, "[", "]");
    char *bundle =
        make_text(40, 0,
                  "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\","
                  "\"objects\":[",
                  "]}");
    struct tq_ingest_stats st;
    struct tq_err err;

    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(arr), 5, NULL, &st, &err), TQ_OK);
    assert_int_equal(st.stored, 40);
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(bundle), 5, NULL, &st, &err),
                     TQ_OK);
    assert_int_equal(st.stored, 40);
    tq_free(arr);
    tq_free(bundle);
}

struct commits {
    size_t calls, stored, present;
    struct tq_store *store;
};

static void on_commit(void *ud, const struct tq_ingest_commit *c)
{
    struct commits *k = ud;

    k->calls++;
    k->store = c->store;
    for (size_t i = 0; i < c->n; i++) {
        if (c->results[i] == TQ_PUT_STORED)
            k->stored++;
        else
            k->present++;
        assert_true(c->date_added_us[i] > 0);
    }
}

/* Every write goes through tq_ingest_put; its hooks see each committed put, and only those. */
static void after_commit_hooks(void **state)
{
    struct fixture *f = *state;
    char *arr = make_text(12, 0, "[", "]");
    struct tq_stix_batch *b = NULL;
    struct commits k = {0}, other = {0};
    struct tq_ingest_stats st;
    struct tq_err err;

    assert_int_equal(tq_ingest_hook_add(on_commit, &k, &err), TQ_OK);
    assert_int_equal(tq_ingest_hook_add(on_commit, &other, &err), TQ_OK);
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(arr), 5, NULL, &st, &err), TQ_OK);
    assert_int_equal(k.calls, 3); /* chunks of 5, 5 and 2 */
    assert_int_equal(k.stored, 12);
    assert_ptr_equal(k.store, f->store);
    assert_int_equal(other.stored, 12);
    tq_ingest_hook_remove(on_commit, &other);

    /* Again, through the door directly: present, not stored; the caller's arrays stay its own. */
    assert_int_equal(tq_stix_parse_batch(tq_str_c(arr), &b, &err), TQ_OK);
    {
        struct tq_stix_object objs[12];
        for (size_t i = 0; i < b->n; i++)
            objs[i] = b->items[i].obj;
        assert_int_equal(tq_ingest_put(f->store, f->coll, objs, b->n, NULL, NULL, NULL, &err),
                         TQ_OK);
        assert_int_equal(k.present, 12);
        /* A failed put calls no hook. */
        assert_int_not_equal(tq_ingest_put(f->store, "00000000-0000-4000-8000-000000000000", objs,
                                           b->n, NULL, NULL, NULL, &err),
                             TQ_OK);
    }
    assert_int_equal(k.calls, 4);
    assert_int_equal(other.calls, 3);
    tq_ingest_hook_remove(on_commit, &k);
    assert_int_equal(tq_ingest_text(f->store, f->coll, tq_str_c(arr), 5, NULL, &st, &err), TQ_OK);
    assert_int_equal(k.calls, 4);
    tq_stix_batch_free(b);
    tq_free(arr);
}

static void split_records_elements(void **state)
{
    const char *text = "{\"more\":false, \"objects\": [ {\"a\":[1,2]} ,[],\"s\\\"]\", 4 ]}";
    const char *want[] = {"{\"a\":[1,2]}", "[]", "\"s\\\"]\"", "4"};
    struct tq_json_split split;
    struct tq_err err;

    (void)state;
    assert_int_equal(tq_json_check(tq_str_c(text), &split, &err), TQ_OK);
    assert_true(split.found);
    assert_int_equal(split.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(split.elems[i].len, strlen(want[i]));
        assert_memory_equal(split.elems[i].ptr, want[i], strlen(want[i]));
    }
    assert_int_equal(text[split.list_start], '[');
    assert_int_equal(text[split.list_end - 1], ']');
    tq_json_split_cleanup(&split);
    assert_int_equal(tq_json_check(TQ_STR("{\"objects\":[1,]}"), &split, &err), TQ_EJSON);
    assert_false(split.found);
    assert_int_equal(tq_json_check(TQ_STR("{\"type\":\"x\"}"), &split, &err), TQ_OK);
    assert_false(split.found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pipelined_matches_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_container_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(bare_array_and_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(after_commit_hooks, setup, teardown),
        cmocka_unit_test(split_records_elements),
    };

    return cmocka_run_group_tests_name("ingest", tests, NULL, NULL);
}
