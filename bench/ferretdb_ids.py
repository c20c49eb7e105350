"""One-document reads and writes by ``_id`` as a collection grows (printed figures, not a test).

    NEWSMON_TEST_MONGO_URI=mongodb://127.0.0.1:PORT/ .venv/bin/python bench/ferretdb_ids.py [--rounds 4]

Measures what deploy/ferretdb/sqlite-id-index.patch is about: in a scratch database (dropped at
the end), after each round of 500 inserted 5 KB documents, the ms of ``find_one({"_id": x})``, of
an ``$inc`` update by ``_id`` and of one ``find`` by ``_id`` ``$in`` of 50 ids, and the server's
plan for a one-``_id`` find (FerretDB prints SQLite's: ``SCAN`` or ``SEARCH ... USING INDEX``).
On a server that uses its ``_id`` index the first two stay flat as the collection grows.

Each document also carries 18 int64 ``dedupe_keys``, as a stored article does (its content hash,
16 LSH bands, its URL), and the collection has the ``dedupe_keys`` index newsmon creates: the
last two columns are one ``find`` by ``dedupe_keys`` ``$in`` of one article's 18 keys and of a
10-article batch's 180, none of them stored (a new story: the usual case). MongoDB answers them
from that multikey index; FerretDB 1.24's SQLite backend has no index of array elements and reads
every document, so they grow with the collection (deploy/ferretdb/README.md, "dedupe_keys").
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid

from pymongo import InsertOne, MongoClient, UpdateOne


def _ms(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", default=os.environ.get("NEWSMON_TEST_MONGO_URI"),
                        help="server URI (default: $NEWSMON_TEST_MONGO_URI)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of 500 inserts (default 4)")
    args = parser.parse_args(argv)
    if not args.uri:
        parser.error("no server: pass --uri or set NEWSMON_TEST_MONGO_URI")
    body = "word " * 1000
    rng = random.Random(1)

    def keys(n: int) -> list[int]:
        return [rng.getrandbits(63) for _ in range(n)]

    name = f"newsmon_bench_ids_{uuid.uuid4().hex[:8]}"
    with MongoClient(args.uri, serverSelectionTimeoutMS=5000) as client:
        coll = client[name]["docs"]
        try:
            coll.create_index("dedupe_keys", name="dedupe_keys")
            print("| documents | find_one by _id, ms | $inc by _id, ms | find _id $in 50, ms "
                  "| dedupe_keys $in 18, ms | dedupe_keys $in 180, ms | plan of a one-_id find |")
            print("|---:|---:|---:|---:|---:|---:|---|")
            for round_ in range(args.rounds):
                base = round_ * 500
                for start in range(base, base + 500, 50):
                    coll.bulk_write([InsertOne({"_id": f"id{i}", "body": body, "n": 1,
                                                "dedupe_keys": keys(18)})
                                     for i in range(start, start + 50)], ordered=False)
                ids = [f"id{i}" for i in range(base, base + 50)]
                find_one = _ms(lambda: [coll.find_one({"_id": i}, {"n": 1}) for i in ids]) / len(ids)
                update = _ms(lambda: coll.bulk_write([UpdateOne({"_id": i}, {"$inc": {"n": 1}}) for i in ids],
                                                     ordered=False)) / len(ids)
                find_in = _ms(lambda: list(coll.find({"_id": {"$in": ids}}, {"n": 1})))
                asked = [keys(18), keys(180)]  # drawn before the clock starts
                by_keys = [_ms(lambda k=k: list(coll.find({"dedupe_keys": {"$in": k}}, {"n": 1})))
                           for k in asked]
                plan = client[name].command("explain", {"find": "docs", "filter": {"_id": ids[0]}})
                steps = plan.get("queryPlanner", {}).get("Plan") or [str(plan.get("queryPlanner", ""))[:60]]
                print(f"| {base + 500} | {find_one:.2f} | {update:.2f} | {find_in:.1f} | {by_keys[0]:.1f} "
                      f"| {by_keys[1]:.1f} | {' '.join(map(str, steps))} |")
        finally:
            client.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
