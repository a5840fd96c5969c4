#!/usr/bin/env python3
"""sim_score.py - score what slipwatch did against slipwatch-sim's truth.

    sim_score.py TRUTH.json STORE.db [--sink LOG.jsonl] [--tolerance S]
                 [--signals a,b,...] [--details N]

Reads the truth (doc/simulator.md, "The truth file") and the store the
alert engine wrote (outbox, pages), and prints one "NAME VALUE" line per
figure, then the first N failures of each kind ("# ..." lines).  Exit
status 0 always; the caller decides what must be 0.

Customer notices are the outbox rows without a receiver that went out
(state sent, or merged into a message that went out).  An order is found
by its customer's address (each simulated order has its own).

Figures:
  orders, orders_expect, orders_silent, slips_expect, slips_may
  slips_expect_scored   expected slips due at least --tolerance before the
                    run's end (the ones required)
  expect_heard      expected slips told (a notice of that kind, for that
                    parcel where the kind is a parcel's, sent or merged)
  expect_missed     expected slips never told
  expect_late       told, but more than --tolerance after the slip ended
                    (the store learns a slip ended only at the next poll)
  told_early        a notice of a kind before any slip of that kind began
                    for the order (beyond --tolerance): a false statement
  silent_told       orders that must hear nothing and got a notice
  unexplained       notices of a slip kind that the order's truth does not
                    hold, expect or may (orders with a slip)
  duplicates        the same (entity, kind, promise) sent twice
  held_breaches     notices of a held kind for a held courier or warehouse
                    sent inside the hold window (doc/simulator.md, hold)
  sink_messages     messages the SMTP server took (--sink)
  sink_duplicates   Message-IDs it took twice
  notices_sent      customer messages the store says went out (notices
                    after the run's end are counted here, scored nowhere)
  notices_after_end customer notices sent after the truth's end
  pages_notices     page notifications the store says went out
  problems          troubles naming a page on a configured signal
  problems_paged    of those, paged: one of the pages they name notified
  problems_missed   never paged
  pages_fired       pages (rule and subject) that notified
  pages_explained   of those, lane cohorts no trouble names whose members'
                    slips were all caused by a trouble
  pages_repeated    pages that opened more than one incident
  pages_false       pages with no trouble behind them
"""
import argparse
import datetime
import json
import sqlite3
import sys

PARCEL_KINDS = {"no_first_scan", "stalled", "attempt_fail", "exception",
                "returning", "available_for_pickup", "eta_slip"}
SLIP_KINDS = PARCEL_KINDS | {"ship_late", "late"}


def ts(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def subject_of(signal, subject):
    """The truth's subject as the pages table spells it."""
    label = {"cohort_slips": "lane", "courier_feed_silent": "courier",
             "courier_api_errors": "courier", "courier_ontime": "courier"}.get(signal, "warehouse")
    return label + "=" + subject.replace(" ", "_")


def page_members(db, pid):
    """The members a page's first notification named (its Figures line)."""
    row = db.execute("SELECT body FROM outbox WHERE entity = ? AND receiver IS NOT NULL"
                     " ORDER BY id LIMIT 1", ("page:%d" % pid,)).fetchone()
    for line in (row[0] or "").split("\n") if row else []:
        if line.startswith("Figures:"):
            try:
                return list(json.loads(line.split(":", 1)[1]).get("members", []))
            except ValueError:
                return []
    return []


def load_notices(db):
    cols = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
    grp = "grp" if "grp" in cols else "NULL"
    rows = db.execute(
        "SELECT id, entity, slip_kind, promise, recipient, state, created_at,"
        " coalesce(sent_at, created_at), " + grp + " FROM outbox"
        " WHERE receiver IS NULL AND state IN ('sent', 'merged')").fetchall()
    return [dict(zip(("id", "entity", "kind", "promise", "rcpt", "state", "created",
                      "at", "grp"), r)) for r in rows]


def score(truth, db, tolerance, signals, sink):
    out, bad = {}, {}

    def fail(kind, text):
        bad.setdefault(kind, []).append(text)

    orders = {o["email"].lower(): o for o in truth["orders"]}
    end = ts(truth["end"])
    every = load_notices(db)
    out_after = [n for n in every if n["at"] > end]
    notices = [n for n in every if n["at"] <= end]
    by_order = {}
    for n in notices:
        by_order.setdefault(n["rcpt"].lower(), []).append(n)

    tot = truth["totals"]
    for k in ("orders", "orders_expect", "orders_silent", "slips_expect", "slips_may"):
        out[k] = tot[k]
    out["notices_sent"] = sum(1 for n in every if n["state"] == "sent")
    out["notices_after_end"] = len(out_after)
    out["pages_notices"] = db.execute(
        "SELECT count(*) FROM outbox WHERE receiver IS NOT NULL AND state = 'sent'").fetchone()[0]

    heard = missed = late = scored = 0
    for o in truth["orders"]:
        mine = by_order.get(o["email"].lower(), [])
        for s in o["expect"]:
            if ts(s["send_after"]) > end - tolerance:
                continue  # due too near the end of the run to require
            scored += 1
            def match(n):
                if n["kind"] != s["kind"]:
                    return False
                return s["kind"] not in PARCEL_KINDS or n["entity"].endswith(":" + s["tracking_number"])
            got = [n for n in mine if match(n)]
            if not got:
                missed += 1
                fail("expect_missed", "%s %s %s from %s" % (o["order_id"], s["kind"],
                                                           s.get("tracking_number", ""), s["from"]))
                continue
            heard += 1
            first = min(n["at"] for n in got)
            if first > ts(s["until"]) + tolerance:
                late += 1
                fail("expect_late", "%s %s told %ds after the slip ended" %
                     (o["order_id"], s["kind"], first - ts(s["until"])))
    out["slips_expect_scored"] = scored
    out["expect_heard"], out["expect_missed"], out["expect_late"] = heard, missed, late

    silent_told = unexplained = early = 0
    for email, mine in by_order.items():
        o = orders.get(email)
        if o is None:
            continue
        slips = o["expect"] + o["may"]
        if not slips:
            silent_told += 1
            fail("silent_told", "%s got %s" % (o["order_id"], ", ".join(sorted(n["kind"] for n in mine))))
            continue
        for n in mine:
            if n["kind"] not in SLIP_KINDS:
                continue
            same = [s for s in slips if s["kind"] == n["kind"]]
            if not same:
                unexplained += 1
                fail("unexplained", "%s told %s; its truth has %s" %
                     (o["order_id"], n["kind"], ", ".join(sorted({s["kind"] for s in slips}))))
            elif n["at"] + tolerance < min(ts(s["from"]) for s in same):
                early += 1
                fail("told_early", "%s %s told %ds before the slip began" %
                     (o["order_id"], n["kind"], min(ts(s["from"]) for s in same) - n["at"]))
    out["silent_told"], out["unexplained"], out["told_early"] = silent_told, unexplained, early

    seen, dup = set(), 0
    for n in notices:
        if n["state"] != "sent":
            continue
        key = (n["entity"], n["kind"], n["promise"])
        if key in seen:
            dup += 1
            fail("duplicates", "%s %s sent twice" % (n["entity"], n["kind"]))
        seen.add(key)
    out["duplicates"] = dup

    breaches = 0
    for tr in truth["troubles"]:
        h = tr.get("hold")
        if not h:
            continue
        lo, hi = ts(h["from"]), ts(h["until"])
        for o in truth["orders"]:
            if "warehouse" in h and o["warehouse"] != h["warehouse"]:
                continue
            tns = {p["tracking_number"] for p in o["parcels"] if p["courier"] == h.get("courier")}
            for n in by_order.get(o["email"].lower(), []):
                if n["kind"] not in h["kinds"] or not lo <= n["at"] < hi:
                    continue
                if "courier" in h and not any(n["entity"].endswith(":" + t) for t in tns):
                    continue
                breaches += 1
                fail("held_breaches", "%s %s sent during %s's hold" % (o["order_id"], n["kind"], tr["name"]))
    out["held_breaches"] = breaches

    if sink:
        msgs = [json.loads(line) for line in open(sink, encoding="utf-8") if line.strip()]
        ids = [m.get("message_id") for m in msgs if m.get("message_id")]
        out["sink_messages"] = len(msgs)
        out["sink_duplicates"] = len(ids) - len(set(ids))

    # Pages: one per systemic problem.  A trouble with pages is paged when
    # any (signal, subject) it names on a configured signal fired; a page
    # that fired is explained when a trouble names it, or, for a lane
    # cohort, when its members' slips were caused by a trouble (an
    # exception wave on one lane is a cohort too); else it is false.
    caused = {}
    for o in truth["orders"]:
        for s in o["expect"] + o["may"]:
            if s.get("tracking_number") and s.get("cause"):
                caused[s["tracking_number"]] = s["cause"]
    named, problems = {}, []
    for tr in truth["troubles"]:
        mine = [(p["signal"], subject_of(p["signal"], p["subject"]))
                for p in tr["pages"] if p["signal"] in signals]
        for key in mine:
            named[key] = tr["name"]
        if mine:
            problems.append((tr["name"], mine))
    fired = {}
    for pid, rule, subject, incident, notified in db.execute(
            "SELECT id, rule, subject, incident, first_notified_at FROM pages"):
        if notified > 0 and rule in signals:
            fired[(signals[rule], subject)] = (pid, rule, incident)
    paged = 0
    for name, keys in problems:
        if any(k in fired for k in keys):
            paged += 1
        else:
            fail("problems_missed", "%s: none of %s paged" %
                 (name, ", ".join("%s %s" % k for k in keys)))
    repeated = false = explained = 0
    for (signal, subject), (pid, rule, incident) in sorted(fired.items()):
        if incident > 1:
            repeated += 1
            fail("pages_repeated", "%s %s opened %d incidents" % (rule, subject, incident))
        if (signal, subject) in named:
            continue
        members = page_members(db, pid)
        causes = {caused.get(m.rsplit(":", 1)[-1]) for m in members}
        if members and None not in causes:
            explained += 1
            continue
        false += 1
        fail("pages_false", "%s %s paged with no trouble behind it (members: %s)" %
             (rule, subject, ", ".join(members[:5]) or "none"))
    out["problems"], out["problems_paged"] = len(problems), paged
    out["problems_missed"] = len(problems) - paged
    out["pages_fired"], out["pages_explained"] = len(fired), explained
    out["pages_repeated"], out["pages_false"] = repeated, false
    return out, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("truth")
    ap.add_argument("store")
    ap.add_argument("--sink", help="the SMTP sink's log.jsonl")
    ap.add_argument("--tolerance", type=int, default=4 * 3600,
                    help="seconds a notice may trail the end of its slip (default 4h)")
    ap.add_argument("--signals", default="",
                    help="RULE=SIGNAL,... the [page] rules configured, to score pages on")
    ap.add_argument("--details", type=int, default=10, help="failures listed per figure")
    a = ap.parse_args()
    truth = json.load(open(a.truth, encoding="utf-8"))
    db = sqlite3.connect("file:%s?mode=ro" % a.store, uri=True)
    signals = dict(kv.split("=", 1) for kv in a.signals.split(",") if kv)
    figures, bad = score(truth, db, a.tolerance, Signals(signals), a.sink)
    for k, v in figures.items():
        print(k, v)
    for k, lines in bad.items():
        for line in lines[:a.details]:
            print("# %s: %s" % (k, line))
        if len(lines) > a.details:
            print("# %s: ... %d more" % (k, len(lines) - a.details))
    return 0


class Signals(dict):
    """RULE -> SIGNAL; `in` also answers for a signal name."""

    def __contains__(self, key):
        return dict.__contains__(self, key) or key in self.values()


if __name__ == "__main__":
    sys.exit(main())
