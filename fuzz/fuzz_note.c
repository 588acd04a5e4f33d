/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_note.c - signed notes, checkpoints and keys from untrusted bytes.
 *
 * The input is parsed as a signed note, as checkpoint text and as verifier and signer keys.
 * Whatever parses must format back to the same bytes and parse again to the same values (a
 * fixed point). A parsed note is also verified against a fixed Ed25519 key and a fixed
 * cosignature/v1 key, and its text tried as a checkpoint; the input is also offered as
 * signature lines to append to a fixed note. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_checkpoint(struct tq_str text)
{
    struct tq_checkpoint cp, again;
    struct tq_err err;
    struct tq_buf b;

    if (tq_checkpoint_parse(text, &cp, &err) != TQ_OK)
        return;
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    if (tq_checkpoint_format(&cp, &b, &err) != TQ_OK)
        abort();
    if (b.len != text.len || memcmp(b.ptr, text.ptr, text.len) != 0)
        abort();
    if (tq_checkpoint_parse((struct tq_str){b.ptr, b.len}, &again, &err) != TQ_OK)
        abort();
    if (again.size != cp.size || memcmp(again.root, cp.root, sizeof(cp.root)) != 0 ||
        !tq_str_eq(again.origin, cp.origin) || !tq_str_eq(again.extensions, cp.extensions))
        abort();
    tq_buf_cleanup(&b);
}

static void check_note(struct tq_str msg, const struct tq_note_verifier *keys, size_t n_keys)
{
    struct tq_note *note = NULL, *again = NULL;
    struct tq_err err;
    struct tq_buf b;

    if (tq_note_parse(msg, &note, &err) != TQ_OK)
        return;
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    if (tq_note_format(note, &b, &err) != TQ_OK)
        abort();
    if (b.len != msg.len || memcmp(b.ptr, msg.ptr, msg.len) != 0)
        abort();
    if (tq_note_parse((struct tq_str){b.ptr, b.len}, &again, &err) != TQ_OK)
        abort();
    if (!tq_str_eq(again->text, note->text) || again->n_sigs != note->n_sigs)
        abort();
    for (size_t i = 0; i < note->n_sigs; i++)
        if (again->sigs[i].key_id != note->sigs[i].key_id ||
            !tq_str_eq(again->sigs[i].name, note->sigs[i].name) ||
            again->sigs[i].sig_len != note->sigs[i].sig_len ||
            memcmp(again->sigs[i].sig, note->sigs[i].sig, note->sigs[i].sig_len) != 0)
            abort();
    if (tq_note_verify(note, keys, n_keys, &err) == TQ_OK && note->n_verified == 0)
        abort();
    check_checkpoint(note->text);
    tq_buf_cleanup(&b);
    tq_note_free(again);
    tq_note_free(note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t seed[32] = {0x11};
    struct tq_str in = {(const char *)data, size};
    struct tq_note_verifier keys[2], v;
    struct tq_note_signer s;
    struct tq_note *note = NULL;
    struct tq_err err;

    if (tq_note_signer_from_seed(TQ_STR("example.org/log"), TQ_NOTE_ALG_ED25519, seed, &s, &err) !=
        TQ_OK)
        abort();
    tq_note_signer_verifier(&s, &keys[0]);
    tq_note_signer_cleanup(&s);
    if (tq_note_signer_from_seed(TQ_STR("example.org/witness"), TQ_NOTE_ALG_COSIG_V1, seed, &s,
                                 &err) != TQ_OK)
        abort();
    tq_note_signer_verifier(&s, &keys[1]);

    check_note(in, keys, 2);
    check_checkpoint(in);

    /* Keys: a parsed key formats to a key that parses to the same value. */
    if (tq_note_verifier_parse(in, &v, &err) == TQ_OK) {
        char text[TQ_NOTE_KEY_TEXT_MAX];
        struct tq_note_verifier w;

        tq_note_verifier_format(&v, text);
        if (tq_note_verifier_parse(tq_str_c(text), &w, &err) != TQ_OK ||
            memcmp(&v, &w, sizeof(v)) != 0)
            abort();
    }
    {
        struct tq_note_signer t;

        if (tq_note_signer_parse(in, &t, &err) == TQ_OK)
            tq_note_signer_cleanup(&t);
    }

    /* As signature lines appended to a fixed, cosigned checkpoint. */
    if (tq_note_new(TQ_STR("example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
                    &note, &err) != TQ_OK ||
        tq_note_cosign(note, &s, 1234, &err) != TQ_OK)
        abort();
    if (tq_note_add_sig_lines(note, in, &err) == TQ_OK) {
        struct tq_buf b;

        tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
        if (tq_note_format(note, &b, &err) != TQ_OK)
            abort();
        check_note((struct tq_str){b.ptr, b.len}, keys, 2);
        tq_buf_cleanup(&b);
    }
    tq_note_free(note);
    tq_note_signer_cleanup(&s);
    return 0;
}
