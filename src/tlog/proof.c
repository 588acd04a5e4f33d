/* SPDX-License-Identifier: Apache-2.0
 *
 * tlog/proof.c - C2SP tlog-proof@v1 proofs of log entries: the strict parser and formatter of
 * proof files and the offline verifier.
 *
 * A block's extra data is the opening of a leaf, salt || record; the logged entry is its
 * commitment SHA-256(extra). Everything here computes on the caller's bytes only (notes and
 * checkpoints through note.h, inclusion through merkle.h, records through the strict JSON
 * parser); building proofs from the node's log is audit/proof.c. docs/internals/tlog.md has the
 * format, docs/internals/audit.md ("Proofs") what a proof reveals and how to check one.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/proof.h"
#include "tansiq/json.h"

#define EM_DASH_SP "\xe2\x80\x94 " /* U+2014 followed by a space: a signature line */
#define EM_DASH_SP_LEN 4
#define HASH_B64_LEN TQ_BASE64_LEN(TQ_MERKLE_HASH_BYTES)
/* Longest "extra " payload: padded base64 of TQ_PROOF_EXTRA_MAX bytes. */
#define EXTRA_B64_MAX TQ_BASE64_LEN(TQ_PROOF_EXTRA_MAX)

/* ---- parsing -------------------------------------------------------------------------- */

/* True when the next line (not consumed) starts with prefix; false at the end. */
static bool peek_starts(const struct tq_lines *r, const char *prefix, size_t n)
{
    return r->off + n <= r->text.len && memcmp(r->text.ptr + r->off, prefix, n) == 0;
}

/* TQ_EINVAL with "block B, line L: <reason>". */
static tq_rc __attribute__((format(printf, 4, 5)))
fail_at(struct tq_err *err, size_t block, size_t line, const char *fmt, ...)
{
    char why[TQ_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return tq_err_set(err, TQ_EINVAL, "block %zu, line %zu: %s", block, line, why);
}

/* The reason of a failed line read. */
static tq_rc fail_line(struct tq_err *err, size_t block, const struct tq_lines *r,
                       enum tq_line_result res, const char *expected)
{
    if (res == TQ_LINE_UNTERMINATED)
        return fail_at(err, block, r->lineno, "does not end in a newline");
    return fail_at(err, block, r->lineno + 1, "the file ends where %s was expected", expected);
}

/*
 * Check a block's checkpoint, the signed note text[start, end): it parses as a note and its
 * text as a checkpoint, whose size must exceed index.
 */
static tq_rc check_checkpoint(struct tq_str note_text, size_t block, size_t first_line,
                              size_t last_line, uint64_t index, struct tq_err *err)
{
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err e = {0};
    tq_rc rc;

    rc = tq_note_parse(note_text, &note, &e);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(note->text, &cp, &e);
    if (rc) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu, lines %zu-%zu (checkpoint): %s", block,
                        first_line, last_line, e.msg[0] ? e.msg : tq_rc_str(rc));
        goto out;
    }
    if (index >= cp.size)
        rc = tq_err_set(err, TQ_EINVAL,
                        "block %zu: index %" PRIu64 " is not below the checkpoint's size %" PRIu64,
                        block, index, cp.size);
out:
    tq_note_free(note);
    return rc;
}

/*
 * Parse the block that starts at r's position (the header line is next). Decoded bytes go to
 * *mem, which advances; the block borrows from r's text and from mem.
 */
static tq_rc parse_block(struct tq_lines *r, size_t block, uint8_t **mem,
                         struct tq_proof_block *out, struct tq_err *err)
{
    struct tq_proof_block b = {0};
    struct tq_str line;
    enum tq_line_result res;
    size_t n, start, first_line;
    uint8_t *hashes;

    res = tq_lines_next(r, &line);
    if (res != TQ_LINE_OK)
        return fail_line(err, block, r, res, "the header line");
    if (!tq_str_eq_c(line, TQ_PROOF_HEADER))
        return fail_at(err, block, r->lineno, "expected the header line '" TQ_PROOF_HEADER "'");

    res = tq_lines_next(r, &line);
    if (res != TQ_LINE_OK)
        return fail_line(err, block, r, res, "'extra' or 'index'");
    if (tq_str_starts_with(line, "extra ")) {
        struct tq_str b64 = {line.ptr + 6, line.len - 6};

        if (b64.len > EXTRA_B64_MAX)
            return fail_at(err, block, r->lineno, "extra data longer than %u bytes",
                           TQ_PROOF_EXTRA_MAX);
        if (!tq_base64_decode(b64, *mem, &n) || n > TQ_PROOF_EXTRA_MAX)
            return fail_at(err, block, r->lineno, "extra data is not canonical padded base64");
        b.has_extra = true;
        b.extra = *mem;
        b.extra_len = n;
        *mem += n;
        res = tq_lines_next(r, &line);
        if (res != TQ_LINE_OK)
            return fail_line(err, block, r, res, "'index'");
    }
    if (!tq_str_starts_with(line, "index "))
        return fail_at(err, block, r->lineno, "expected 'index <decimal>'");
    if (!tq_str_to_u64((struct tq_str){line.ptr + 6, line.len - 6}, &b.index))
        return fail_at(err, block, r->lineno,
                       "index is not a decimal up to 2^64-1 without sign or leading zeros");

    hashes = *mem;
    for (;;) {
        uint8_t *h = hashes + b.n_hashes * TQ_MERKLE_HASH_BYTES;

        res = tq_lines_next(r, &line);
        if (res != TQ_LINE_OK)
            return fail_line(err, block, r, res, "the empty line before the checkpoint");
        if (line.len == 0)
            break;
        if (b.n_hashes == TQ_MERKLE_INCLUSION_MAX)
            return fail_at(err, block, r->lineno, "more than %d inclusion proof hashes",
                           TQ_MERKLE_INCLUSION_MAX);
        if (line.len != HASH_B64_LEN || !tq_base64_decode(line, h, &n) || n != TQ_MERKLE_HASH_BYTES)
            return fail_at(err, block, r->lineno,
                           "inclusion proof hash is not canonical base64 of 32 bytes");
        b.n_hashes++;
    }
    b.hashes = (const uint8_t(*)[TQ_MERKLE_HASH_BYTES])hashes;
    *mem += b.n_hashes * TQ_MERKLE_HASH_BYTES;

    /* The checkpoint: non-empty text lines, an empty line, signature lines. */
    start = r->off;
    first_line = r->lineno + 1;
    for (n = 0;; n++) {
        res = tq_lines_next(r, &line);
        if (res != TQ_LINE_OK)
            return fail_line(err, block, r, res, "the checkpoint's text and signatures");
        if (line.len == 0)
            break;
    }
    if (n == 0)
        return fail_at(err, block, r->lineno, "the checkpoint is empty");
    if (!peek_starts(r, EM_DASH_SP, EM_DASH_SP_LEN)) {
        res = tq_lines_next(r, &line);
        if (res == TQ_LINE_END)
            return fail_at(err, block, r->lineno + 1,
                           "the file ends where the checkpoint's signature lines were expected");
        return fail_at(err, block, r->lineno, "expected a signature line (\"— name signature\")");
    }
    while (peek_starts(r, EM_DASH_SP, EM_DASH_SP_LEN)) {
        res = tq_lines_next(r, &line);
        if (res != TQ_LINE_OK)
            return fail_line(err, block, r, res, "a signature line");
    }
    b.checkpoint = (struct tq_str){r->text.ptr + start, r->off - start};
    if (r->off < r->text.len && !peek_starts(r, TQ_PROOF_HEADER "\n", sizeof(TQ_PROOF_HEADER)))
        return fail_at(err, block, r->lineno + 1,
                       "expected a signature line, the header of the next block or the end");
    {
        tq_rc rc = check_checkpoint(b.checkpoint, block, first_line, r->lineno, b.index, err);

        if (rc)
            return rc;
    }
    *out = b;
    return TQ_OK;
}

void tq_proof_file_free(struct tq_proof_file *f)
{
    if (!f)
        return;
    tq_free(f->blocks);
    tq_free(f->text);
    tq_free(f->mem);
    tq_free(f);
}

tq_rc tq_proof_parse(struct tq_str text, struct tq_proof_file **out, struct tq_err *err)
{
    struct tq_proof_file *f = NULL;
    struct tq_lines r = {0};
    uint8_t *mem;
    size_t cap = 0;
    tq_rc rc = TQ_OK;

    if (!out || (!text.ptr && text.len))
        return tq_err_set(err, TQ_EINVAL, "proof: no input");
    if (text.len > TQ_PROOF_FILE_MAX)
        return tq_err_set(err, TQ_EINVAL, "proof: %zu bytes, limit %u", text.len,
                          TQ_PROOF_FILE_MAX);
    if (text.len == 0)
        return tq_err_set(err, TQ_EINVAL, "proof: empty");

    f = tq_xcalloc(1, sizeof(*f));
    f->text = tq_xmalloc(text.len);
    memcpy(f->text, text.ptr, text.len);
    /* Base64 never decodes to more bytes than it has characters. */
    f->mem = tq_xmalloc(text.len);
    mem = f->mem;
    r.text = (struct tq_str){f->text, text.len};
    while (r.off < r.text.len) {
        if (f->n == TQ_PROOF_BLOCKS_MAX) {
            rc = tq_err_set(err, TQ_EINVAL, "block %d, line %zu: more than %d blocks",
                            TQ_PROOF_BLOCKS_MAX + 1, r.lineno + 1, TQ_PROOF_BLOCKS_MAX);
            goto out;
        }
        if (f->n == cap) {
            cap = cap ? cap * 2 : 4;
            f->blocks = tq_xrealloc(f->blocks, cap * sizeof(*f->blocks));
        }
        rc = parse_block(&r, f->n + 1, &mem, &f->blocks[f->n], err);
        if (rc)
            goto out;
        f->n++;
    }
    *out = f;
    f = NULL;
out:
    tq_proof_file_free(f);
    return rc;
}

/* ---- formatting ----------------------------------------------------------------------- */

tq_rc tq_proof_block_format(const struct tq_proof_block *b, struct tq_buf *out, struct tq_err *err)
{
    size_t mark = out->len;
    tq_rc rc;

    if (b->n_hashes > TQ_MERKLE_INCLUSION_MAX)
        return tq_err_set(err, TQ_EINVAL, "proof: %zu inclusion proof hashes, limit %d",
                          b->n_hashes, TQ_MERKLE_INCLUSION_MAX);
    if (b->has_extra && b->extra_len > TQ_PROOF_EXTRA_MAX)
        return tq_err_set(err, TQ_EINVAL, "proof: %zu bytes of extra data, limit %u", b->extra_len,
                          TQ_PROOF_EXTRA_MAX);
    if (b->checkpoint.len == 0 || b->checkpoint.ptr[b->checkpoint.len - 1] != '\n')
        return tq_err_set(err, TQ_EINVAL, "proof: the checkpoint is empty or unterminated");
    rc = tq_buf_append_c(out, TQ_PROOF_HEADER "\n");
    if (rc == TQ_OK && b->has_extra) {
        rc = tq_buf_append_c(out, "extra ");
        if (rc == TQ_OK)
            rc = tq_buf_append_base64(out, b->extra, b->extra_len);
        if (rc == TQ_OK)
            rc = tq_buf_append_c(out, "\n");
    }
    if (rc == TQ_OK)
        rc = tq_buf_printf(out, "index %" PRIu64 "\n", b->index);
    for (size_t i = 0; rc == TQ_OK && i < b->n_hashes; i++) {
        rc = tq_buf_append_base64(out, b->hashes[i], TQ_MERKLE_HASH_BYTES);
        if (rc == TQ_OK)
            rc = tq_buf_append_c(out, "\n");
    }
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, "\n");
    if (rc == TQ_OK)
        rc = tq_buf_append_str(out, b->checkpoint);
    if (rc) {
        out->len = mark;
        if (out->ptr)
            out->ptr[mark] = '\0';
        return tq_err_set(err, rc, "proof: output buffer limit");
    }
    return TQ_OK;
}

tq_rc tq_proof_format(const struct tq_proof_file *f, struct tq_buf *out, struct tq_err *err)
{
    size_t mark = out->len;
    tq_rc rc = TQ_OK;

    for (size_t i = 0; rc == TQ_OK && i < f->n; i++)
        rc = tq_proof_block_format(&f->blocks[i], out, err);
    if (rc) {
        out->len = mark;
        if (out->ptr)
            out->ptr[mark] = '\0';
    }
    return rc;
}

/* ---- verification --------------------------------------------------------------------- */

static void entry_cleanup(struct tq_proof_entry *e)
{
    for (size_t i = 0; i < e->n_cosigs; i++)
        tq_free(e->cosigs[i].name);
    tq_free(e->cosigs);
    tq_free(e->origin);
    tq_free(e->record);
    tq_free(e->kind);
    tq_free(e->time);
    tq_free(e->collection);
    tq_free(e->object);
    tq_free(e->version);
    tq_free(e->sha256);
    tq_free(e->partner);
    tq_free(e->added);
}

void tq_proof_report_cleanup(struct tq_proof_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_entries; i++)
        entry_cleanup(&r->entries[i]);
    tq_free(r->entries);
    tq_free(r->facts);
    memset(r, 0, sizeof(*r));
}

static bool same_key(const struct tq_note_verifier *a, const struct tq_note_verifier *b)
{
    return a->alg == b->alg && a->key_id == b->key_id && strcmp(a->name, b->name) == 0 &&
           memcmp(a->pubkey, b->pubkey, sizeof(a->pubkey)) == 0;
}

static bool str_is(struct tq_str s, const char *c)
{
    return tq_str_eq_c(s, c);
}

/*
 * A member of the record: absent is fine unless required; present must be a string. *out is a
 * copy (tq_free) or NULL.
 */
static tq_rc record_str(struct json_object *rec, const char *name, bool required, char **out,
                        size_t block, struct tq_err *err)
{
    struct json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(rec, name, &v)) {
        if (required)
            return tq_err_set(err, TQ_EINVAL, "block %zu: the record has no \"%s\"", block, name);
        return TQ_OK;
    }
    if (!json_object_is_type(v, json_type_string))
        return tq_err_set(err, TQ_EINVAL, "block %zu: the record's \"%s\" is not a string", block,
                          name);
    *out = tq_xstrndup(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    return TQ_OK;
}

/* Read the event record (the opening after the salt) into e. */
static tq_rc parse_record(struct tq_str text, size_t block, struct tq_proof_entry *e,
                          struct tq_err *err)
{
    struct json_object *rec = NULL, *v;
    struct tq_err je = {0};
    tq_rc rc;

    rc = tq_json_parse(text, &rec, &je);
    if (rc) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record is not JSON: %s", block, je.msg);
        goto out;
    }
    if (!json_object_is_type(rec, json_type_object)) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record is not a JSON object", block);
        goto out;
    }
    if (!json_object_object_get_ex(rec, "v", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) != 1) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record is not of version 1 (\"v\":1)",
                        block);
        goto out;
    }
    rc = record_str(rec, "kind", true, &e->kind, block, err);
    if (rc == TQ_OK)
        rc = record_str(rec, "time", true, &e->time, block, err);
    if (rc == TQ_OK)
        rc = record_str(rec, "collection", true, &e->collection, block, err);
    if (rc == TQ_OK)
        rc = record_str(rec, "object", false, &e->object, block, err);
    if (rc == TQ_OK)
        rc = record_str(rec, "version", false, &e->version, block, err);
    if (rc == TQ_OK)
        rc = record_str(rec, "sha256", false, &e->sha256, block, err);
    if (rc == TQ_OK)
        rc = record_str(rec, "partner", false, &e->partner, block, err);
    if (rc)
        goto out;
    if (tq_time_parse(tq_str_c(e->time), &e->time_us, NULL) != TQ_OK) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record's time is not RFC 3339", block);
        goto out;
    }
    if (json_object_object_get_ex(rec, "added", &v)) {
        size_t n;

        if (!json_object_is_type(v, json_type_array)) {
            rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record's \"added\" is not a list",
                            block);
            goto out;
        }
        n = json_object_array_length(v);
        e->added = tq_xcalloc(n ? n : 1, sizeof(*e->added));
        for (size_t i = 0; i < n; i++) {
            struct json_object *x = json_object_array_get_idx(v, i);

            if (!json_object_is_type(x, json_type_int)) {
                rc = tq_err_set(err, TQ_EINVAL,
                                "block %zu: the record's \"added\" holds a non-integer", block);
                goto out;
            }
            e->added[i] = json_object_get_int64(x);
        }
        e->n_added = n;
    }
    if (!e->object && !e->n_added) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record names no object", block);
        goto out;
    }
out:
    json_object_put(rec);
    return rc;
}

/*
 * Open block i's checkpoint with the given keys: the log key is the Ed25519 key named after
 * the origin (the one whose key id signed, when several carry the name); the cosigners are the
 * cosignature/v1 keys. keys are distinct.
 */
static tq_rc open_checkpoint(const struct tq_proof_block *b, size_t block,
                             const struct tq_note_verifier *keys, size_t n_keys,
                             struct tq_note **note_out, struct tq_checkpoint *cp_out,
                             const struct tq_note_verifier **log_key, struct tq_err *err)
{
    struct tq_note_verifier *cosigners = NULL;
    const struct tq_note_verifier *lk = NULL;
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err e = {0};
    size_t n_cos = 0;
    tq_rc rc;

    rc = tq_note_parse(b->checkpoint, &note, &e);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(note->text, &cp, &e);
    if (rc) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: checkpoint: %s", block, e.msg);
        goto out;
    }
    for (size_t k = 0; k < n_keys; k++) {
        if (keys[k].alg != TQ_NOTE_ALG_ED25519 || !str_is(cp.origin, keys[k].name))
            continue;
        if (!lk)
            lk = &keys[k];
        for (size_t s = 0; s < note->n_sigs; s++)
            if (note->sigs[s].key_id == keys[k].key_id && str_is(note->sigs[s].name, keys[k].name))
                lk = &keys[k];
    }
    if (!lk) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: no log key was given for origin '%.*s'", block,
                        (int)(cp.origin.len > 200 ? 200 : cp.origin.len), cp.origin.ptr);
        goto out;
    }
    tq_note_free(note);
    note = NULL;
    cosigners = tq_xcalloc(n_keys ? n_keys : 1, sizeof(*cosigners));
    for (size_t k = 0; k < n_keys; k++)
        if (keys[k].alg == TQ_NOTE_ALG_COSIG_V1)
            cosigners[n_cos++] = keys[k];
    rc = tq_checkpoint_open(b->checkpoint, TQ_STR_NULL, lk, cosigners, n_cos, &note, &cp, &e);
    if (rc) {
        rc = tq_err_set(err, rc, "block %zu: %s", block, e.msg);
        goto out;
    }
    *note_out = note;
    *cp_out = cp;
    *log_key = lk;
    note = NULL;
out:
    tq_free(cosigners);
    tq_note_free(note);
    return rc;
}

/* Verify block i (1-based in messages) into e. */
static tq_rc verify_block(const struct tq_proof_block *b, size_t block,
                          const struct tq_note_verifier *keys, size_t n_keys,
                          struct tq_proof_entry *e, struct tq_err *err)
{
    const struct tq_note_verifier *lk = NULL;
    struct tq_str proof[TQ_MERKLE_INCLUSION_MAX];
    uint8_t commitment[32], leaf[TQ_MERKLE_HASH_BYTES];
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err e2 = {0};
    size_t want;
    tq_rc rc;

    rc = open_checkpoint(b, block, keys, n_keys, &note, &cp, &lk, err);
    if (rc)
        return rc;
    e->index = b->index;
    e->origin = tq_xstrndup(cp.origin.ptr, cp.origin.len);
    e->size = cp.size;
    memcpy(e->root, cp.root, sizeof(e->root));
    e->cosigs = tq_xcalloc(note->n_sigs, sizeof(*e->cosigs));
    for (size_t s = 0; s < note->n_sigs; s++) {
        const struct tq_note_sig *sig = &note->sigs[s];

        if (!sig->verified || (sig->key_id == lk->key_id && str_is(sig->name, lk->name)))
            continue;
        e->cosigs[e->n_cosigs].name = tq_xstrndup(sig->name.ptr, sig->name.len);
        e->cosigs[e->n_cosigs].time_s = sig->cosig_time;
        e->n_cosigs++;
    }

    if (!b->has_extra || b->extra_len <= TQ_PROOF_SALT_BYTES) {
        rc = tq_err_set(err, TQ_EINVAL,
                        "block %zu: no opening in the extra data (32 bytes of salt, then the "
                        "record)",
                        block);
        goto out;
    }
    if (b->index >= cp.size) {
        rc = tq_err_set(err, TQ_EINVAL,
                        "block %zu: index %" PRIu64 " is not below the checkpoint's size %" PRIu64,
                        block, b->index, cp.size);
        goto out;
    }
    want = tq_merkle_inclusion_len(b->index, cp.size);
    if (b->n_hashes != want) {
        rc = tq_err_set(err, TQ_EINVAL,
                        "block %zu: %zu inclusion proof hashes, index %" PRIu64 " of %" PRIu64
                        " leaves needs %zu",
                        block, b->n_hashes, b->index, cp.size, want);
        goto out;
    }
    tq_sha256(b->extra, b->extra_len, commitment);
    rc = tq_merkle_leaf_hash(commitment, sizeof(commitment), leaf, &e2);
    if (rc) {
        rc = tq_err_set(err, rc, "block %zu: %s", block, e2.msg);
        goto out;
    }
    for (size_t i = 0; i < b->n_hashes; i++)
        proof[i] = (struct tq_str){(const char *)b->hashes[i], TQ_MERKLE_HASH_BYTES};
    rc = tq_merkle_verify_inclusion((struct tq_str){(const char *)leaf, sizeof(leaf)}, b->index,
                                    cp.size, proof, b->n_hashes,
                                    (struct tq_str){(const char *)cp.root, sizeof(cp.root)}, &e2);
    if (rc == TQ_EINTEGRITY) {
        rc = tq_err_set(err, rc,
                        "block %zu: leaf %" PRIu64 " is not in the tree of the checkpoint (size "
                        "%" PRIu64 "): the opening or the inclusion proof was altered",
                        block, b->index, cp.size);
        goto out;
    }
    if (rc) {
        rc = tq_err_set(err, rc, "block %zu: %s", block, e2.msg);
        goto out;
    }
    e->record = tq_xstrndup((const char *)b->extra + TQ_PROOF_SALT_BYTES,
                            b->extra_len - TQ_PROOF_SALT_BYTES);
    if (strlen(e->record) != b->extra_len - TQ_PROOF_SALT_BYTES) {
        rc = tq_err_set(err, TQ_EINVAL, "block %zu: the record holds a NUL byte", block);
        goto out;
    }
    rc = parse_record((struct tq_str){(const char *)b->extra + TQ_PROOF_SALT_BYTES,
                                      b->extra_len - TQ_PROOF_SALT_BYTES},
                      block, e, err);
out:
    tq_note_free(note);
    return rc;
}

static bool str_eq_opt(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void add_fact(struct tq_proof_report *r, size_t *cap, const struct tq_proof_fact *f)
{
    if (r->n_facts == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        r->facts = tq_xrealloc(r->facts, *cap * sizeof(*r->facts));
    }
    r->facts[r->n_facts++] = *f;
}

/* The stored entry of collection with this time (date_added), or SIZE_MAX. */
static size_t find_stored(const struct tq_proof_report *r, const char *collection, int64_t t_us)
{
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct tq_proof_entry *s = &r->entries[i];

        if (strcmp(s->kind, "stored") == 0 && s->time_us == t_us &&
            str_eq_opt(s->collection, collection))
            return i;
    }
    return SIZE_MAX;
}

/* The stored entry of the version a release names (collection, object, version), or SIZE_MAX. */
static size_t find_stored_version(const struct tq_proof_report *r, const struct tq_proof_entry *e)
{
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct tq_proof_entry *s = &r->entries[i];

        if (strcmp(s->kind, "stored") == 0 && str_eq_opt(s->collection, e->collection) &&
            str_eq_opt(s->object, e->object) &&
            (s->version ? str_eq_opt(s->version, e->version) : !e->version))
            return i;
    }
    return SIZE_MAX;
}

/* Link the verified entries into statements (struct tq_proof_fact). */
static void link_facts(struct tq_proof_report *r)
{
    size_t cap = 0;

    for (size_t i = 0; i < r->n_entries; i++) {
        const struct tq_proof_entry *e = &r->entries[i];
        struct tq_proof_fact f = {.partner = e->partner,
                                  .collection = e->collection,
                                  .object = e->object,
                                  .version = e->version,
                                  .sha256 = e->sha256,
                                  .time = e->time,
                                  .entry = i,
                                  .stored_entry = SIZE_MAX};

        if (strcmp(e->kind, "stored") == 0 && e->object) {
            f.kind = TQ_PROOF_FACT_STORED;
            add_fact(r, &cap, &f);
        } else if ((strcmp(e->kind, "released") == 0 || strcmp(e->kind, "withdrawn") == 0) &&
                   e->partner && e->object) {
            f.kind = e->kind[0] == 'r' ? TQ_PROOF_FACT_RELEASED : TQ_PROOF_FACT_WITHDRAWN;
            f.stored_entry = find_stored_version(r, e);
            add_fact(r, &cap, &f);
        } else if (strcmp(e->kind, "read") == 0 && e->partner) {
            f.kind = TQ_PROOF_FACT_RECEIVED;
            if (e->object && !e->n_added) {
                add_fact(r, &cap, &f);
                continue;
            }
            for (size_t k = 0; k < e->n_added; k++) {
                size_t s = find_stored(r, e->collection, e->added[k]);

                if (s == SIZE_MAX)
                    continue; /* a version the proof does not open */
                f.object = r->entries[s].object;
                f.version = r->entries[s].version;
                f.sha256 = r->entries[s].sha256;
                f.stored_entry = s;
                add_fact(r, &cap, &f);
            }
        }
    }
}

tq_rc tq_proof_verify(struct tq_str text, const struct tq_note_verifier *keys, size_t n_keys,
                      struct tq_proof_report *out, struct tq_err *err)
{
    struct tq_note_verifier *uniq = NULL;
    struct tq_proof_report r = {0};
    struct tq_proof_file *f = NULL;
    size_t n_uniq = 0;
    tq_rc rc;

    if (!out || (!keys && n_keys))
        return tq_err_set(err, TQ_EINVAL, "proof: no report or keys");
    rc = tq_proof_parse(text, &f, err);
    if (rc)
        return rc;
    uniq = tq_xcalloc(n_keys ? n_keys : 1, sizeof(*uniq));
    for (size_t k = 0; k < n_keys; k++) {
        bool dup = false;

        for (size_t j = 0; j < n_uniq && !dup; j++)
            dup = same_key(&uniq[j], &keys[k]);
        if (!dup)
            uniq[n_uniq++] = keys[k];
    }
    r.entries = tq_xcalloc(f->n, sizeof(*r.entries));
    for (size_t i = 0; i < f->n; i++) {
        r.n_entries = i + 1;
        rc = verify_block(&f->blocks[i], i + 1, uniq, n_uniq, &r.entries[i], err);
        if (rc)
            goto out;
    }
    link_facts(&r);
    *out = r;
    memset(&r, 0, sizeof(r));
out:
    tq_proof_report_cleanup(&r);
    tq_free(uniq);
    tq_proof_file_free(f);
    return rc;
}
