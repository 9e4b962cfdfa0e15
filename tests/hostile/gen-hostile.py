#!/usr/bin/python3
"""gen-hostile.py: write the hostile inputs for tests/e2e/hostile-input.t.

Usage: gen-hostile.py OUTDIR

Writes OUTDIR/NAME.in (the bytes fed on stdin) for every case, and
OUTDIR/cases.tsv with one line per case: NAME, the programs it applies to
("both" or "rg" for reconcile-groups only), and the line number the error
must name. Inputs are made here rather than kept in the repository (one is
over 1 MiB).
"""
import json
import os
import sys

S1 = "01G0J1EXE7AXZ2C93K61WBPYEH"


def entry(**kw):
    e = {"id": "01FCNDV6P870EA6S7TK1DSYDG0", "email": "alice@example.com",
         "name": "Alice", "until": "2026-11-29T09:00:00Z",
         "account": {"id": "a-0000000000000001", "email": "alice@example.com"}}
    e.update(kw)
    return {k: v for k, v in e.items() if v is not DROP}


DROP = object()


UNSET = object()


def roster(sched=UNSET, oncall=UNSET, **kw):
    r = {"type": "roster",
         "schedule": sched if sched is not UNSET else {"id": S1, "name": "TestSchedule"},
         "at": "2026-11-29T07:00:00Z",
         "window": {"from": "2026-11-29T07:00:00Z", "to": "2026-11-29T07:00:00Z"},
         "oncall": oncall if oncall is not UNSET else [entry()]}
    r.update(kw)
    return {k: v for k, v in r.items() if v is not DROP}


def line(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def end(n, stage="match-users", **kw):
    e = {"type": "end", "stage": stage, "records": n}
    e.update(kw)
    return line({k: v for k, v in e.items() if v is not DROP})


S2 = "01G0J1EXE7AXZ2C93K61WBPYE2"
GOOD = line(roster())
OTHER = line(roster(sched={"id": S2, "name": "Payments"}))


def err_rec(**kw):
    e = {"type": "error", "stage": "fetch-oncall",
         "schedule": {"id": "01G0J1EXE7AXZ2C93K61WBPYE2", "name": "Payments"},
         "message": "incident.io answered 500 internal_error: boom"}
    e.update(kw)
    return line({k: v for k, v in e.items() if v is not DROP})


cases = []  # (name, applies, errline, bytes)


def case(name, data, errline, applies="both"):
    cases.append((name, applies, errline, data))


# After one good record (schedule S1), line 2 is bad; an end follows so that
# only the bad line can be the reason for refusing. A bad roster is for
# another schedule (S2), so that no rule about a schedule named twice can be
# the reason either.
def bad2(name, badline, applies="both"):
    badline = badline.replace(S1.encode(), S2.encode()).replace(b"TestSchedule", b"Payments")
    case(name, GOOD + badline + end(2), 2, applies)


# --- size, nesting, encoding
big = roster()
big["schedule"]["name"] = "x" * (1024 * 1024 + 10)
bad2("line-over-1MiB", line(big))
bad2("deep-nesting-100000", b'{"type":"roster","deep":' + b"[" * 100000 + b"]" * 100000 + b"}\n")
bad2("deep-nesting-unclosed", b"[" * 100000 + b"\n")
bad2("deep-objects", b'{"type":"roster","d":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}\n")
bad2("invalid-utf8", GOOD.replace(b"TestSchedule", b"Test\xff\xfeSchedule"))
bad2("overlong-utf8", GOOD.replace(b"TestSchedule", b"Test\xc0\xafSchedule"))
bad2("surrogate-utf8", GOOD.replace(b"TestSchedule", b"Test\xed\xa0\x80Schedule"))
bad2("truncated-utf8", GOOD.replace(b"TestSchedule", b"TestSchedule\xe2\x82"))
bad2("nul-byte", GOOD.replace(b"TestSchedule", b"Test\x00Schedule"))
bad2("nul-escape", GOOD.replace(b"TestSchedule", b"Test\\u0000Schedule"))
bad2("lone-surrogate-escape", GOOD.replace(b"TestSchedule", b"Test\\ud800Schedule"))
bad2("not-json", b'{"type":"roster","schedule":\n')
bad2("not-an-object-array", b"[1,2,3]\n")
bad2("not-an-object-string", b'"roster"\n')
bad2("not-an-object-null", b"null\n")
bad2("blank-line", b"\n")
bad2("trailing-garbage", GOOD.rstrip(b"\n") + b" x\n")
bad2("two-objects-one-line", GOOD.rstrip(b"\n") + GOOD)

# --- type
bad2("type-missing", line({k: v for k, v in roster().items() if k != "type"}))
bad2("type-number", line(roster(type=5)))
bad2("type-empty", line(roster(type="")))
bad2("type-null", line(roster(type=None)))

# --- roster fields of the wrong type
bad2("schedule-string", line(roster(sched=S1)))
bad2("schedule-array", line(roster(sched=[S1])))
bad2("schedule-missing", line(roster(schedule=DROP)))
bad2("schedule-null", line(roster(sched=None)))
bad2("schedule-id-number", line(roster(sched={"id": 5, "name": "TestSchedule"})))
bad2("schedule-id-missing", line(roster(sched={"name": "TestSchedule"})))
bad2("schedule-id-empty", line(roster(sched={"id": "", "name": "TestSchedule"})))
bad2("schedule-name-number", line(roster(sched={"id": S1, "name": 7})))
bad2("schedule-name-object", line(roster(sched={"id": S1, "name": {"x": 1}})))
bad2("oncall-object", line(roster(oncall={"id": "x"})))
bad2("oncall-string", line(roster(oncall="alice")))
bad2("oncall-null", line(roster(oncall=None)))
bad2("oncall-missing", line(roster(oncall=DROP)))
bad2("oncall-entry-string", line(roster(oncall=["alice@example.com"])))
bad2("oncall-entry-number", line(roster(oncall=[5])))
bad2("oncall-entry-id-number", line(roster(oncall=[entry(id=5)])))
bad2("oncall-entry-email-number", line(roster(oncall=[entry(email=5)])))
bad2("oncall-entry-email-array", line(roster(oncall=[entry(email=["a@b.c"])])))
bad2("oncall-entry-name-number", line(roster(oncall=[entry(name=5)])))
bad2("oncall-entry-until-number", line(roster(oncall=[entry(until=5)])))
bad2("at-number", line(roster(at=5)))
bad2("window-string", line(roster(window="now")))
bad2("account-string", line(roster(oncall=[entry(account="a-0000000000000001")])), "rg")
bad2("account-id-number", line(roster(oncall=[entry(account={"id": 1, "email": "alice@example.com"})])), "rg")
bad2("account-id-missing", line(roster(oncall=[entry(account={"email": "alice@example.com"})])), "rg")
bad2("account-email-number", line(roster(oncall=[entry(account={"id": "a-0000000000000001", "email": 1})])), "rg")
bad2("unmatched-number", line(roster(oncall=[entry(account=DROP, unmatched=5)])), "rg")
bad2("account-and-unmatched-missing", line(roster(oncall=[entry(account=DROP)])), "rg")

# --- error records
bad2("error-schedule-string", applies="rg", badline=err_rec(schedule="Payments"))
bad2("error-schedule-id-number", applies="rg", badline=err_rec(schedule={"id": 9, "name": "Payments"}))
# (an error record without a schedule is allowed: a failed listing)
bad2("error-message-number", applies="rg", badline=err_rec(message=500))
bad2("error-stage-number", applies="rg", badline=err_rec(stage=1))

# --- duplicate keys, numbers where strings belong
bad2("duplicate-key-top", GOOD.replace(b'{"type":"roster"', b'{"type":"roster","type":"roster"'))
bad2("duplicate-key-schedule-id", GOOD.replace(b'"schedule":{"id":"' + S1.encode() + b'"',
                                               b'"schedule":{"id":"' + S1.encode() + b'","id":"01G0J1EXE7AXZ2C93K61WBPYE2"'))
bad2("duplicate-key-entry", GOOD.replace(b'"email":"alice@example.com","name"',
                                         b'"email":"alice@example.com","email":"bob@example.com","name"'))
bad2("duplicate-key-oncall", GOOD.replace(b'"oncall":[', b'"oncall":[],"oncall":['))

# --- the end record
case("end-records-string", GOOD + end("1"), 2)
case("end-records-negative", GOOD + end(-1), 2)
case("end-records-fraction", GOOD + end(0.5), 2)
case("end-records-huge", GOOD + end(1e300), 2)
case("end-records-too-many", GOOD + end(2), 2)
case("end-records-too-few", GOOD + OTHER + end(1), 3)
case("end-records-missing", GOOD + end(1, records=DROP), 2)
case("end-stage-number", GOOD + end(1, stage=5), 2)
case("end-stage-missing", GOOD + end(1, stage=DROP), 2)
case("record-after-end", GOOD + end(1) + OTHER, 3)
case("two-ends", GOOD + end(1) + end(1), 3)
case("no-end", GOOD + OTHER, 2)
case("no-final-newline-no-end", GOOD + OTHER.rstrip(b"\n"), 2)
case("empty-input", b"", 0)
case("only-end", end(0), 1)

os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "cases.tsv"), "w") as tsv:
    for name, applies, errline, data in cases:
        with open(os.path.join(sys.argv[1], name + ".in"), "wb") as f:
            f.write(data)
        tsv.write("%s\t%s\t%d\n" % (name, applies, errline))
