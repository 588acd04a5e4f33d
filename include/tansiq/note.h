/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/note.h - C2SP signed notes, tlog checkpoints and cosignature/v1 cosignatures.
 *
 * A signed note (c2sp.org/signed-note) is UTF-8 text ending in a newline, a blank line, and one
 * or more lines "<U+2014 EM DASH> <key name> <base64(key id || signature)>". A checkpoint
 * (c2sp.org/tlog-checkpoint) is a note whose text is an origin line, a decimal tree size, a
 * base64 root hash and optional extension lines. A cosignature (c2sp.org/tlog-cosignature,
 * Ed25519 cosignature/v1) is a note signature over "cosignature/v1\ntime <T>\n" followed by the
 * checkpoint text, carrying the 8-byte big-endian timestamp before the 64-byte signature.
 *
 * Keys use the text encodings of golang.org/x/mod/sumdb/note: a verifier key is
 * "<name>+<8 hex key id>+<base64(type || public key)>", a signer key is
 * "PRIVATE+KEY+<name>+<8 hex key id>+<base64(type || 32-byte Ed25519 seed)>". The key id is
 * the first four bytes of SHA-256(name || "\n" || type || public key), read big-endian.
 *
 * Everything here is pure computation on caller-provided bytes: thread-safe, no I/O, no state.
 */
#ifndef TANSIQ_NOTE_H
#define TANSIQ_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

/* Signature types of c2sp.org/signed-note that tansiq implements. */
#define TQ_NOTE_ALG_ED25519 0x01  /* plain Ed25519 over the note text */
#define TQ_NOTE_ALG_COSIG_V1 0x04 /* timestamped Ed25519 cosignature/v1 */

/*
 * Limits. A whole note (text, blank line and signature lines) may be at most
 * TQ_NOTE_MAX_BYTES; a note may carry at most TQ_NOTE_MAX_SIGS signature lines (the spec asks
 * for at least 16, x/mod/sumdb/note stops at 100). Key names in keys are at most
 * TQ_NOTE_NAME_MAX bytes; names in signature lines are bounded only by the note size.
 */
#define TQ_NOTE_MAX_BYTES (64u * 1024u)
#define TQ_NOTE_MAX_SIGS 100
#define TQ_NOTE_NAME_MAX 255

/* Sizes of the fixed parts. */
#define TQ_NOTE_ED25519_SIG_BYTES 64
#define TQ_NOTE_COSIG_SIG_BYTES 72 /* 8-byte timestamp || 64-byte Ed25519 signature */
#define TQ_CHECKPOINT_HASH_BYTES 32
/* Longest vkey/skey text, NUL included: "PRIVATE+KEY+" name "+" 8 hex "+" base64(33 bytes). */
#define TQ_NOTE_KEY_TEXT_MAX (12 + TQ_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

/* ---- keys ------------------------------------------------------------------------------ */

/* A public key that may verify signatures. Plain value, no cleanup needed. */
struct tq_note_verifier {
    char name[TQ_NOTE_NAME_MAX + 1]; /* NUL-terminated */
    uint32_t key_id;
    uint8_t alg; /* TQ_NOTE_ALG_* */
    uint8_t pubkey[32];
};

/* A private key that signs. Holds secrets: call tq_note_signer_cleanup() to wipe it. */
struct tq_note_signer {
    char name[TQ_NOTE_NAME_MAX + 1];
    uint32_t key_id;
    uint8_t alg;
    uint8_t pubkey[32];
    uint8_t seed[32];
    uint8_t sk[64]; /* libsodium expanded secret key (seed || public key) */
};

/*
 * True when name is a valid key name: non-empty, valid UTF-8, no Unicode white space (the set
 * Go's unicode.IsSpace reports) and no '+'.
 */
bool tq_note_name_valid(struct tq_str name);

/* Key id of (name, alg, 32-byte public key): SHA-256(name || "\n" || alg || pubkey)[:4]. */
uint32_t tq_note_key_id(struct tq_str name, uint8_t alg, const uint8_t pubkey[32]);

/*
 * Parse a verifier key "<name>+<hex id>+<base64(alg || pubkey)>". Both TQ_NOTE_ALG_ED25519 and
 * TQ_NOTE_ALG_COSIG_V1 keys are accepted. The hex id must be 8 digits and must equal the key id
 * computed from name and key. On TQ_OK fills *out. Returns TQ_EINVAL (reason in err) for any
 * malformed key, an id that does not match, an unknown type or a name longer than
 * TQ_NOTE_NAME_MAX.
 */
tq_rc tq_note_verifier_parse(struct tq_str vkey, struct tq_note_verifier *out, struct tq_err *err);

/* Build a verifier from its parts (key id computed). TQ_EINVAL on a bad name or type. */
tq_rc tq_note_verifier_from_pubkey(struct tq_str name, uint8_t alg, const uint8_t pubkey[32],
                                   struct tq_note_verifier *out, struct tq_err *err);

/* Write v as verifier-key text into out (NUL-terminated, at most TQ_NOTE_KEY_TEXT_MAX). */
void tq_note_verifier_format(const struct tq_note_verifier *v, char out[TQ_NOTE_KEY_TEXT_MAX]);

/*
 * Parse a signer key "PRIVATE+KEY+<name>+<hex id>+<base64(alg || 32-byte seed)>". The public
 * key is derived from the seed and the id checked against it. alg may be TQ_NOTE_ALG_ED25519
 * (the x/mod/sumdb/note form) or TQ_NOTE_ALG_COSIG_V1 (same layout, for cosigners). On TQ_OK
 * fills *out, which the caller wipes with tq_note_signer_cleanup(). TQ_EINVAL on any malformed
 * or mismatching key; the detail never contains key material.
 */
tq_rc tq_note_signer_parse(struct tq_str skey, struct tq_note_signer *out, struct tq_err *err);

/* Build a signer from name, type and a 32-byte Ed25519 seed. TQ_EINVAL on a bad name or type. */
tq_rc tq_note_signer_from_seed(struct tq_str name, uint8_t alg, const uint8_t seed[32],
                               struct tq_note_signer *out, struct tq_err *err);

/* Generate a fresh signer from the system CSPRNG. TQ_EINVAL on a bad name or type. */
tq_rc tq_note_signer_generate(struct tq_str name, uint8_t alg, struct tq_note_signer *out,
                              struct tq_err *err);

/* Write s as signer-key text into out. The result is a secret: wipe it after use. */
void tq_note_signer_format(const struct tq_note_signer *s, char out[TQ_NOTE_KEY_TEXT_MAX]);

/* The verifier that checks s's signatures. */
void tq_note_signer_verifier(const struct tq_note_signer *s, struct tq_note_verifier *out);

/* Wipe the secret parts of s (safe to call on a zeroed or already wiped signer). */
void tq_note_signer_cleanup(struct tq_note_signer *s);

/* ---- signed notes ---------------------------------------------------------------------- */

/* One signature line of a note. name and b64 point into the note's own copy of its bytes. */
struct tq_note_sig {
    struct tq_str name;
    uint32_t key_id;
    struct tq_str b64;   /* the base64 field exactly as written */
    const uint8_t *sig;  /* decoded bytes after the key id */
    size_t sig_len;      /* >= 1 */
    bool verified;       /* set by tq_note_verify for signatures by a known key that verify */
    uint64_t cosig_time; /* timestamp of a verified cosignature/v1 signature, else 0 */
};

struct tq_note {
    struct tq_str text; /* note text, final newline included; points into owned memory */
    struct tq_note_sig *sigs;
    size_t n_sigs;
    size_t n_verified; /* distinct known keys whose signature verified */
    /* private: owned storage */
    char *mem;
    size_t mem_len;
    uint8_t *raw;
    size_t raw_len;
};

/*
 * Check note text: at most TQ_NOTE_MAX_BYTES, non-empty, valid UTF-8 (no surrogates, overlong
 * forms or values past U+10FFFF), no ASCII control character except newline, ending in a
 * newline. TQ_EINVAL (reason and byte offset in err) or TQ_ETOOBIG.
 */
tq_rc tq_note_text_check(struct tq_str text, struct tq_err *err);

/*
 * Parse a signed note without verifying anything. The text is everything up to and including
 * the newline before the last blank line; every line after it must be a signature line, the
 * last one ending in a newline. Checks: size limit, UTF-8 and control characters over the
 * whole message, signature line shape (EM DASH, space, valid key name, one space, canonical
 * padded base64 of at least 5 bytes), at most TQ_NOTE_MAX_SIGS lines.
 *
 * On TQ_OK *out is a new note (free with tq_note_free) that owns a copy of msg; all lines are
 * kept in order, so tq_note_format() gives back msg exactly. TQ_EINVAL on malformed input,
 * TQ_ETOOBIG past a limit; the reason names the line.
 */
tq_rc tq_note_parse(struct tq_str msg, struct tq_note **out, struct tq_err *err);

/*
 * Verify note signatures against known keys, with the semantics of x/mod/sumdb/note Open:
 * a line whose (name, key id) matches no known key is ignored and stays unverified; a line that
 * matches a known key must verify or the whole note is refused; at least one known key must
 * have signed. Unlike Open, every line by a known key is checked, repeated ones included. A
 * known TQ_NOTE_ALG_COSIG_V1 key verifies cosignature/v1 lines and records their timestamp.
 *
 * Sets each sig's verified flag and note->n_verified. Returns TQ_OK; TQ_EINVAL when two known
 * keys share a name and key id (ambiguous list) or a known key has a bad type;
 * TQ_EINTEGRITY when a known key's signature fails (err names the key); TQ_EAUTH when no known
 * key signed. Flags are reset at the start of each call.
 */
tq_rc tq_note_verify(struct tq_note *note, const struct tq_note_verifier *known, size_t n_known,
                     struct tq_err *err);

/* tq_note_parse followed by tq_note_verify; *out is written only when both succeed. */
tq_rc tq_note_open(struct tq_str msg, const struct tq_note_verifier *known, size_t n_known,
                   struct tq_note **out, struct tq_err *err);

/*
 * A new note with the given text and no signatures yet (sign it before formatting). The text
 * must pass tq_note_text_check(). *out owns a copy of text.
 */
tq_rc tq_note_new(struct tq_str text, struct tq_note **out, struct tq_err *err);

/*
 * Sign the note text with a TQ_NOTE_ALG_ED25519 signer and append the line. As in
 * x/mod/sumdb/note Sign, an existing line by the same (name, key id) is replaced. The new
 * signature counts as verified. TQ_EINVAL for a cosigner key, TQ_ETOOBIG past the limits.
 */
tq_rc tq_note_sign(struct tq_note *note, const struct tq_note_signer *signer, struct tq_err *err);

/*
 * Cosign: the note text must be a valid checkpoint; sign "cosignature/v1\ntime <time_s>\n" ||
 * text with a TQ_NOTE_ALG_COSIG_V1 signer and append (or replace) its line. time_s must not
 * exceed 2^63-1. TQ_EINVAL otherwise.
 */
tq_rc tq_note_cosign(struct tq_note *note, const struct tq_note_signer *signer, uint64_t time_s,
                     struct tq_err *err);

/*
 * Append signature lines received separately (for example a witness's add-checkpoint
 * response): one or more complete lines, each ending in a newline, checked as in
 * tq_note_parse. The new lines are unverified; call tq_note_verify. On failure the note is
 * unchanged.
 */
tq_rc tq_note_add_sig_lines(struct tq_note *note, struct tq_str lines, struct tq_err *err);

/*
 * Append the note's exact bytes (text, blank line, signature lines in order) to out. TQ_EINVAL
 * when the note has no signature (an unsigned note is not a signed note), else what
 * tq_buf_append returns.
 */
tq_rc tq_note_format(const struct tq_note *note, struct tq_buf *out, struct tq_err *err);

/* NULL is a no-op. */
void tq_note_free(struct tq_note *note);

/* ---- checkpoints ----------------------------------------------------------------------- */

/*
 * The parsed body of a checkpoint. origin and extensions borrow from the parsed text.
 * extensions holds the extension lines verbatim (each non-empty and newline-terminated), or is
 * empty.
 */
struct tq_checkpoint {
    struct tq_str origin;
    uint64_t size;
    uint8_t root[TQ_CHECKPOINT_HASH_BYTES];
    struct tq_str extensions;
};

/*
 * Parse checkpoint text (the note text, without signatures): a non-empty origin line, the tree
 * size in decimal without sign or leading zeros (0 itself allowed) up to 2^64-1, the root hash
 * as canonical padded base64 of exactly 32 bytes, then optional non-empty extension lines. The
 * text must also pass tq_note_text_check(). On TQ_OK fills *out, borrowing from text;
 * TQ_EINVAL with the line at fault otherwise.
 */
tq_rc tq_checkpoint_parse(struct tq_str text, struct tq_checkpoint *out, struct tq_err *err);

/*
 * Append the checkpoint text for cp to out. TQ_EINVAL when the origin is empty or holds a
 * newline or control character, or when extensions are not whole non-empty lines.
 */
tq_rc tq_checkpoint_format(const struct tq_checkpoint *cp, struct tq_buf *out, struct tq_err *err);

/*
 * Open a signed checkpoint from a log: parse and verify the note against log plus the
 * optional cosigners, require a verified signature by log, require the origin line to equal
 * origin (when origin.ptr is not NULL), and parse the checkpoint. On TQ_OK *note_out is the
 * note (caller frees) and *cp_out borrows from it. Errors as tq_note_verify and
 * tq_checkpoint_parse; TQ_EAUTH when the log's own signature is missing, TQ_EINVAL on an origin
 * mismatch.
 */
tq_rc tq_checkpoint_open(struct tq_str msg, struct tq_str origin,
                         const struct tq_note_verifier *log,
                         const struct tq_note_verifier *cosigners, size_t n_cosigners,
                         struct tq_note **note_out, struct tq_checkpoint *cp_out,
                         struct tq_err *err);

/* ---- cosignature/v1 -------------------------------------------------------------------- */

/*
 * Append the cosignature/v1 signed message for checkpoint text at time_s to out:
 * "cosignature/v1\ntime <time_s>\n" || text. What tq_buf_append returns.
 */
tq_rc tq_cosig_message(struct tq_str text, uint64_t time_s, struct tq_buf *out);

#endif
