#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/web/alarm.py TANSIQ WORK HOME URL - raise a real alarm on the node at HOME (serving at
# URL) the way a dishonest partner would: a second node, "mosul", is registered on both sides;
# the node syncs from it (and cosigns its log's checkpoint); mosul then rewrites its log (a leaf
# dropped, every checkpoint signed afresh, as tests/federation does) and the node's next sync
# from it finds the new checkpoint inconsistent with the one it cosigned: an alarm, kept in the
# node's store for GET /json/alarms. mosul is stopped at the end. Prints the alarm as JSON.
import json
import os
import sqlite3
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "federation"))
os.environ["TQ_TEST_STORE"] = "sqlite"
import fedlib  # noqa: E402

TQ, WORK, HOME, URL = sys.argv[1:5]


class Demo:
    """The node under test, as fedlib.register_partners sees a node."""
    name = "qaim"
    home = HOME
    url = URL
    cert = os.path.join(HOME, "tls", "cert.pem")

    def run(self, *args, stdin=None, ok=True):
        return fedlib.run(TQ, *args, home=HOME, stdin=stdin, ok=ok)

    def pubkey(self):
        return open(os.path.join(HOME, "identity.pub")).read().strip()


def drop_leaf(node, k=2):
    """mosul's log with leaf k dropped and the later ones renumbered; its checkpoints forgotten,
    so that the server signs a new one over the rewritten tree."""
    node.stop()
    db = sqlite3.connect(os.path.join(node.home, "store.db"))
    db.execute("DELETE FROM audit_leaves WHERE idx = ?", (k,))
    db.execute("UPDATE audit_leaves SET idx = -(idx - 1) WHERE idx > ?", (k,))
    db.execute("UPDATE audit_leaves SET idx = -idx WHERE idx < 0")
    db.execute("DELETE FROM audit_checkpoints")
    db.execute("DELETE FROM meta WHERE k = 'audit.checkpoint'")
    db.commit()
    db.close()
    node.start()


mosul = fedlib.Node(TQ, WORK, "mosul")
try:
    mosul.start()
    demo = Demo()
    fedlib.register_partners([demo, mosul], grant="*")
    # a few objects, so that the log has leaves to rewrite and the sync has something to carry
    objs = [{"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": f"Mosul liaison office {i}", "identity_class": "organization"}
            for i in range(4)]
    fedlib.post(mosul.conn(), "shared", objs)
    fedlib.settle_log(mosul)
    r = fedlib.sync(demo, "mosul")
    if r.returncode != 0:
        raise RuntimeError(f"first sync from mosul failed: {r.stderr[-400:]}")
    drop_leaf(mosul)
    fedlib.settle_log(mosul)
    r = fedlib.sync(demo, "mosul")
    alarms = json.loads(demo.run("log", "alarms", "--json").stdout or "[]")
    if r.returncode == 0 or not alarms:
        raise RuntimeError(f"no alarm after mosul rewrote its log: exit {r.returncode} "
                           f"{r.stderr[-400:]}")
    print(json.dumps(alarms[-1])[:400])
finally:
    mosul.stop()
