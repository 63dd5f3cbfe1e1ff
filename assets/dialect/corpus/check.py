#!/usr/bin/env python3
"""Checks one author file against GUIDE.md's counts (an authoring aid; the Rust loader
in dialect-model/src/corpus.rs checks the columns again when the corpus is used).

    python3 check.py author-A9.tsv
    python3 check.py --mood author-A17.tsv   (GUIDE-mood.md's counts)
"""
import sys

INTENTS = """feeling_good feeling_unwell tired pain slept_well slept_badly appetite_good
appetite_poor exercised not_exercised need_help emergency yes no repeat_request thanks
greeting weather_snow low_mood lonely other""".split()
QUESTIONS = "how_feeling slept appetite pain_check exercise_today exercised_done safety_check open confirm".split()
BODY = set("頭 首 肩 背中 腰 胸 腹 膝 足 手 歯 目".split())
TAGS = """plain rambling self_correction double_negation third_person danger_no_request
question_form indirect false_friend short standard_mixed small_talk_around near_miss""".split()
EMERGENCY = """fire smoke gas_smell cannot_breathe choking collapsed unresponsive stroke_numbness
stroke_face stroke_speech sudden_confusion sudden_headache chest_pain fall_cannot_get_up
heavy_bleeding family_missing buried_in_snow wants_to_die""".split()
NEED_HELP = """no_heating_cold no_water no_power no_kerosene snowed_in medicine_out
stranger_at_door suspicious_call help_request""".split()
HEADER = "id author question_context text standard intent body_part critical tags sources".split()


def main(path, mood=False):
    problems = []
    lines = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip()]
    if lines[0].split("\t") != HEADER:
        problems.append(f"header must be: {' '.join(HEADER)}")
    rows = [l.split("\t") for l in lines[1:]]
    seen_ids, seen_text = set(), set()
    intents, questions, tags, dangers = {}, set(), set(), set()
    critical = near = short = 0
    for n, r in enumerate(rows, 2):
        if len(r) != len(HEADER):
            problems.append(f"line {n}: {len(r)} columns, want {len(HEADER)}")
            continue
        rid, author, q, text, std, intent, body, crit, tag, src = r
        if rid in seen_ids:
            problems.append(f"line {n}: id {rid} repeated")
        seen_ids.add(rid)
        if text in seen_text:
            problems.append(f"line {n}: text repeated")
        seen_text.add(text)
        if not rid.startswith(author + "-"):
            problems.append(f"line {n}: id {rid} does not start with {author}-")
        if q not in QUESTIONS:
            problems.append(f"line {n}: unknown question_context {q}")
        if intent not in INTENTS:
            problems.append(f"line {n}: unknown intent {intent}")
        if body and (body not in BODY or intent not in ("pain", "emergency")):
            problems.append(f"line {n}: body_part {body} only for pain (or 胸 for emergency)")
        if crit != ("true" if intent in ("emergency", "need_help") else "false"):
            problems.append(f"line {n}: critical must be true exactly for emergency/need_help")
        if not text.strip() or not std.strip() or not src.strip():
            problems.append(f"line {n}: text, standard and sources must not be empty")
        row_tags = [t for t in tag.split(";") if t]
        if not row_tags:
            problems.append(f"line {n}: no tags")
        for t in row_tags:
            if t.startswith("danger:"):
                d = t[len("danger:"):]
                if d not in EMERGENCY + NEED_HELP:
                    problems.append(f"line {n}: unknown danger {d}")
                elif "near_miss" not in row_tags:
                    dangers.add(d)
            elif t not in TAGS:
                problems.append(f"line {n}: unknown tag {t}")
            tags.add(t)
        intents[intent] = intents.get(intent, 0) + 1
        questions.add(q)
        critical += crit == "true"
        near += "near_miss" in row_tags
        short += "short" in row_tags
        if crit == "true" and "near_miss" in row_tags:
            problems.append(f"line {n}: a near miss is not critical")
    if mood:
        for i, least in [("low_mood", 20), ("lonely", 20)]:
            if intents.get(i, 0) < least:
                problems.append(f"{intents.get(i, 0)} {i} rows, want at least {least}")
        if len(rows) < 75:
            problems.append(f"{len(rows)} rows, want about 80")
        wants = sum(1 for r in rows if len(r) == len(HEADER) and "danger:wants_to_die" in r[8]
                    and "near_miss" not in r[8])
        if wants < 6:
            problems.append(f"{wants} wants_to_die rows, want at least 6")
        if near < 15:
            problems.append(f"{near} near misses, want at least 15")
        if short < 10:
            problems.append(f"{short} short answers, want at least 10")
        for p in problems:
            print(p)
        print(f"{len(rows)} rows, {intents.get('low_mood', 0)} low_mood, {intents.get('lonely', 0)} lonely, "
              f"{near} near misses, {short} short; {'OK' if not problems else f'{len(problems)} problems'}")
        return 1 if problems else 0
    if len(rows) < 195:
        problems.append(f"{len(rows)} rows, want about 200")
    for i in INTENTS:
        if i not in intents and i not in ("low_mood", "lonely"):
            problems.append(f"no row with intent {i}")
    for q in QUESTIONS:
        if q not in questions:
            problems.append(f"no row after question {q}")
    for t in TAGS:
        if t not in tags:
            problems.append(f"no row tagged {t}")
    if critical < 40:
        problems.append(f"{critical} critical rows, want at least 40")
    if len(dangers) < 18:
        problems.append(f"{len(dangers)} danger concepts, want at least 18")
    if near < 15:
        problems.append(f"{near} near misses, want at least 15")
    if short < 25:
        problems.append(f"{short} short answers, want at least 25")
    for p in problems:
        print(p)
    print(f"{len(rows)} rows, {critical} critical over {len(dangers)} dangers, {near} near misses, "
          f"{short} short; {'OK' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[-1], mood="--mood" in args))
