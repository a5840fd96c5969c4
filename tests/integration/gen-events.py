#!/usr/bin/env python3
"""gen-events.py - print warehouse events, one JSON object per line, for
`mosquitto_pub -l`.  Each order yields created, picked, packed, shipped (in
that order unless --shuffle), so COUNT events cover COUNT/4 orders.

usage: gen-events.py WAREHOUSE COUNT [--start N] [--shuffle SEED]
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

STAGES = ["order.created", "order.picked", "order.packed", "order.shipped"]


def events(wh, count, start):
    base = datetime(2026, 11, 24, 3, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    for i in range(start, start + count):
        order, stage = divmod(i, 4)
        t = base + timedelta(minutes=order % 1000, seconds=stage * 600)
        ev = {
            "event_id": f"{wh}-{i}",
            "type": STAGES[stage],
            "occurred_at": t.isoformat(),
            "warehouse_id": wh,
            "order_id": f"ORD-{order}",
        }
        if stage == 0:
            ev["customer"] = {"name": f"Customer {order}", "email": f"c{order}@example.com",
                              "locale": "hi-IN", "timezone": "Asia/Kolkata"}
            ev["promised_ship_by"] = (t + timedelta(days=1)).isoformat()
            ev["promised_delivery_by"] = (t + timedelta(days=4)).date().isoformat()
            ev["service_level"] = "standard"
        if stage == 3:
            ev["courier"] = "dhl"
            ev["tracking_number"] = f"JD{wh.upper()}{order:010d}"
        yield json.dumps(ev, separators=(",", ":"))


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    wh, count = args[0], int(args[1])
    start = int(args[args.index("--start") + 1]) if "--start" in args else 0
    lines = list(events(wh, count, start))
    if "--shuffle" in args:
        random.Random(int(args[args.index("--shuffle") + 1])).shuffle(lines)
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
