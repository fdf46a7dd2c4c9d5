"""The report: ``docs/evaluation.md`` from the experiments' JSON results, its prose the
template ``docs/templates/evaluation.md``, plus one excerpt per model (``card-NAME.md``)."""

from __future__ import annotations

import argparse
import csv
import math
import re
import time
from pathlib import Path
from typing import Any

from aidetect.datasets import list_samples
from aidetect_training.experiments.calibration import calibration_table
from aidetect_training.experiments.lofo import lofo_table
from aidetect_training.experiments.robustness import robustness_table
from aidetect_training.experiments.shared import (
    FAMILIES,
    GOALS,
    band_text,
    command,
    num,
    read_json,
)


def _cm(cm: list[list[int]] | None) -> str:
    if not cm:
        return "n/a"
    (tn, fp), (fn, tp) = cm
    return f"TN {tn} / FP {fp} / FN {fn} / TP {tp}"


def test_metrics_table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| model | n | threshold | accuracy | precision | recall | F1 | ROC-AUC | AP | "
        "confusion (real/AI) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, t in rows.items():
        lines.append(
            f"| {name} | {t['n']} | {num(t['threshold'])} | {num(t['accuracy'])} | "
            f"{num(t['precision'])} | {num(t['recall'])} | {num(t['f1'])} | {num(t['roc_auc'])} | "
            f"{num(t['average_precision'])} | {_cm(t['confusion_matrix'])} |"
        )
    return "\n".join(lines)


def per_family_table(rows: dict[str, dict[str, Any]]) -> str:
    """Detection rate and AUC vs real per generator, from ``compute_metrics``' per_generator."""
    gens = sorted({g for t in rows.values() for g in (t.get("per_generator") or {})})
    if not gens:
        return ""
    names = list(rows)
    lines = [
        "| generator | n | " + " | ".join(f"{n} (det. rate / AUC)" for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for g in gens:
        cells, n = [], ""
        for name in names:
            e = (rows[name].get("per_generator") or {}).get(g)
            if e:
                n = e["n"]
                cells.append(f"{e['detection_rate']:.2f} / {num(e.get('roc_auc_vs_real'), 3)}")
            else:
                cells.append("n/a")
        lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def data_section(data: Path) -> list[str]:
    samples = list_samples(data)
    splits = ("train", "val", "test")
    gens = sorted({s.generator or "real" for s in samples})
    lines = [
        f"Corpus: `{data}` (`manifest.csv`: `path,label,generator,source_id,split`).",
        "",
        "| split | real | AI | photos (source ids) |",
        "|---|---|---|---|",
    ]
    for sp in splits:
        ss = [s for s in samples if s.split == sp]
        lines.append(
            f"| {sp} | {sum(s.label == 0 for s in ss)} | {sum(s.label == 1 for s in ss)} | "
            f"{len({s.source_id for s in ss})} |"
        )
    lines += ["", "| generator | " + " | ".join(splits) + " | total |", "|---|---|---|---|---|"]
    for g in gens:
        c = [sum((s.generator or "real") == g and s.split == sp for s in samples) for sp in splits]
        lines.append(f"| {g} | " + " | ".join(map(str, c)) + f" | {sum(c)} |")
    # leaks: a source id (photo) in more than one split
    by_src: dict[str, set[str]] = {}
    for s in samples:
        by_src.setdefault(s.source_id, set()).add(s.split)
    leaks = sorted(k for k, v in by_src.items() if len(v) > 1)
    lines += [
        "",
        f"Split check: {len(by_src)} source ids; "
        + (
            f"**{len(leaks)} appear in more than one split**: {', '.join(leaks[:10])}"
            if leaks
            else "none appears in more than one split (a real photo and its fakes share a split)."
        ),
    ]
    sc = read_json(data / "shortcut_check.json")
    if sc:
        lines += [
            "",
            "Shortcut check (`aidetect corpus check-shortcuts`, grouped 5-fold CV; AUC of a "
            "classifier that sees only the named metadata feature; pass = within "
            f"{sc.get('tolerance')} of 0.5):",
            "",
            "| feature set | AUC | pass | note |",
            "|---|---|---|---|",
        ]
        for k, v in sc.get("feature_sets", {}).items():
            auc, note = num(v.get("auc"), 3), v.get("note", "")
            lines.append(f"| {k} | {auc} | {v.get('pass')} | {note} |")
        verdict = "pass" if sc.get("pass") else "FAIL"
        lines.append(f"\nOverall: {verdict} ({sc.get('files')} files).")
    return lines


def source_format_check(data: Path, cal: dict[str, Any]) -> list[str]:
    """Scores of test images by the file format of their source photo (``sources.csv``).

    Most reals are crops of JPEG/WebP photos and carry lossy-compression traces that
    the fakes (re-synthesised pixels) lose: if a model had learnt "compression traces =
    real", reals from lossless sources (PNG/PPM) would be called AI-generated more often.
    Read from each model's ``predictions.csv``; no new scoring.
    """
    src_csv = data / "sources.csv"
    if not src_csv.is_file() or not cal:
        return []
    with open(src_csv, newline="") as f:
        fmt = {r["source_id"]: r["file"].rsplit(".", 1)[-1].lower() for r in csv.DictReader(f)}
    by_path = {Path(s.path).resolve(): s for s in list_samples(data)}
    lines = [
        "| model | class | source format | n | mean P(AI) | called AI at threshold |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in cal.items():
        pred = Path(r["reliability_plot"]).parent / "predictions.csv"
        if not pred.is_file():
            continue
        groups: dict[tuple[int, str], list[float]] = {}
        with open(pred, newline="") as f:
            for row in csv.DictReader(f):
                s = by_path.get(Path(row["path"]).resolve())
                if s is None or not row["ai_probability"]:
                    continue
                kind = "lossless" if fmt.get(s.source_id) in ("png", "ppm") else "lossy"
                groups.setdefault((s.label, kind), []).append(float(row["ai_probability"]))
        for (label, kind), ps in sorted(groups.items()):
            called = sum(p >= r["threshold"] for p in ps) / len(ps)
            what = "lossless (PNG/PPM)" if kind == "lossless" else "lossy (JPEG/WebP/MPO)"
            lines.append(
                f"| {name} | {'AI' if label else 'real'} | {what} | {len(ps)} | "
                f"{sum(ps) / len(ps):.3f} | {called:.3f} |"
            )
    return lines


def observations(res: dict[str, Any]) -> list[str]:
    """Plain statements read off the numbers (so they stay true when the report is rerun)."""
    out = []
    rob = (res.get("robustness") or {}).get("models", {})
    for name, r in rob.items():
        v = r["variants"]
        o = v.get("original")
        if not o:
            continue
        for key in ("jpeg90", "jpeg75", "jpeg50", "downscale50", "centrecrop"):
            t = v.get(key)
            if not t or t["recall"] is None or o["recall"] is None:
                continue
            if key == "centrecrop" and t["auc_drop"] is not None and abs(t["auc_drop"]) < 0.02:
                out.append(
                    f"- `{name}` / `centrecrop`: ROC-AUC {t['roc_auc']:.3f} vs {o['roc_auc']:.3f} "
                    "on the full crop: no sign of a cue at the image borders (the fakes are "
                    "centre-cropped after up-sampling, x3 goes 258 -> 256)."
                )
                continue
            d_rec = o["recall"] - t["recall"]
            d_fpr = t["false_positive_rate"] - o["false_positive_rate"]
            if d_rec >= 0.15 and d_fpr <= 0.05:
                out.append(
                    f"- `{name}` / `{key}`: recall falls from {o['recall']:.2f} to "
                    f"{t['recall']:.2f}, FPR on reals {o['false_positive_rate']:.2f} -> "
                    f"{t['false_positive_rate']:.2f}: mostly fakes now look real (the traces "
                    "the model relies on are removed), rather than reals looking fake."
                )
            elif d_fpr > 0.05:
                out.append(
                    f"- `{name}` / `{key}`: FPR on reals rises from "
                    f"{o['false_positive_rate']:.2f} to {t['false_positive_rate']:.2f} "
                    f"(recall {o['recall']:.2f} -> {t['recall']:.2f})."
                )
    for arch, lr in res["lofo"].items():
        h, s = lr.get("mean_heldout_auc"), lr.get("mean_seen_auc")
        if s is not None and s < 0.75:
            out.append(
                f"- LOFO `{arch}`: **inconclusive** - the retrained models reach only ROC-AUC "
                f"{s:.3f} on the families they *did* see, so they did not learn (too few "
                "epochs for this CPU budget?); the held-out number "
                f"({num(h, 3)}) measures nothing about generalisation. Rerun with more "
                "epochs (the shipped recipe's count) before reading it."
            )
            continue
        if h is not None and s is not None:
            out.append(
                f"- LOFO `{arch}`: held-out mean ROC-AUC {h:.3f} vs in-distribution {s:.3f} "
                f"(gap {s - h:+.3f}). The families are sizes of one kind of network (RDN/RRDN "
                "super-resolution), so a small gap is expected and says little about unseen "
                "*kinds* of generator. Held-out AP is lower than AUC partly because the "
                "held-out test has about 3 reals per fake (AP depends on prevalence)."
            )
    for name, r in (res.get("calibration") or {}).get("models", {}).items():
        a = r.get("logit_slope")
        if r["ece"] is not None and r["ece"] > 0.05 and a is not None:
            kind = "under-confident (squashed towards 0.5)" if a > 1 else "over-confident"
            out.append(
                f"- `{name}`: ECE {r['ece']:.3f}; scores are {kind}, logit slope {a:.2f}. "
                "See the reliability plot."
            )
        if not r["test_fpr_ok"]:
            n_real = r["test"]["confusion_matrix"][0]
            out.append(
                f"- `{name}`: FPR on test reals {r['test_fpr']:.3f} ({n_real[1]} of "
                f"{sum(n_real)}) is over the 5 % target met on validation "
                f"({num(r['validation_fpr'], 3)}); within sampling noise for {sum(n_real)} "
                "reals (standard error about 0.02), but the target is not guaranteed."
            )
    seed = res.get("seed")
    if seed and seed["test"]["roc_auc"] is not None:
        out.append(
            f"- The seed's CIFAKE model scores ROC-AUC {seed['test']['roc_auc']:.3f} on this test "
            "split (chance level): it was trained on 32x32 whole CIFAR/Stable-Diffusion images "
            "and does not transfer to 256x256 super-resolution crops."
        )
    return out


def _load_all(out: Path) -> dict[str, Any]:
    res = {
        "robustness": read_json(out / "robustness" / "results.json"),
        "calibration": read_json(out / "calibration" / "results.json"),
        "seed": read_json(out / "seed" / "results.json"),
        "lofo": {},
    }
    for arch in ("svm", "cnn", "resnet50"):
        r = read_json(out / f"lofo-{arch}" / "results.json")
        if r:
            res["lofo"][arch] = r
    return res


def _arch_of(res: dict[str, Any], model: str) -> str | None:
    cal = (res.get("calibration") or {}).get("models", {}).get(model)
    return cal["architecture"] if cal else None


def goals_section(res: dict[str, Any]) -> list[str]:
    cal = (res.get("calibration") or {}).get("models", {})
    rob = (res.get("robustness") or {}).get("models", {})
    lines = [
        "| goal | model | measured | reached? |",
        "|---|---|---|---|",
    ]
    for name, r in cal.items():
        auc = r["test"]["roc_auc"]
        ok = auc is not None and auc >= GOALS["test_auc"]
        lines.append(
            f"| test ROC-AUC >= {GOALS['test_auc']} | {name} | {num(auc)} | "
            f"{'reached' if ok else 'missed'} |"
        )
    for arch, lr in res["lofo"].items():
        mean = lr.get("mean_heldout_auc")
        ok = mean is not None and mean >= GOALS["lofo_mean_auc"]
        n = len(lr["families"])
        part = "" if n == len(FAMILIES) else f" (partial: {n} of {len(FAMILIES)} families)"
        seen = lr.get("mean_seen_auc")
        verdict = "reached" if ok else "missed"
        if seen is not None and seen < 0.75:
            verdict = "inconclusive (the LOFO models did not learn, see Observations)"
        lines.append(
            f"| LOFO mean ROC-AUC >= {GOALS['lofo_mean_auc']} | {arch} (LOFO retrains) | "
            f"{num(mean)} | {verdict}{part} |"
        )
    for name, r in rob.items():
        drop = r["variants"].get("jpeg75", {}).get("auc_drop")
        ok = drop is not None and drop <= GOALS["jpeg75_drop"]
        lines.append(
            f"| AUC drop after JPEG 75 <= {GOALS['jpeg75_drop']} | {name} | {num(drop)} | "
            f"{'reached' if ok else 'missed'} |"
        )
    for name, r in cal.items():
        lines.append(
            f"| FPR on test reals <= {GOALS['test_fpr']} at the shipped threshold | {name} | "
            f"{num(r['test_fpr'])} | {'reached' if r['test_fpr_ok'] else 'missed'} |"
        )
    return lines


def template_sections(path: Path) -> dict[str, str]:
    """``<!-- section: NAME -->`` blocks of the report template, by name."""
    sections: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines(keepends=True):
        m = re.match(r"<!-- section: (\w+) -->", line.strip())
        if m:
            name = m.group(1)
            sections[name] = ""
        elif name is not None:
            sections[name] += line
    return sections


def corpus_facts(data: Path, res: dict[str, Any]) -> dict[str, Any]:
    """The numbers the template's prose states about the corpus and the test split."""
    samples = list_samples(data)
    per = {
        sp: (
            sum(s.split == sp and s.label == 0 for s in samples),
            sum(s.split == sp and s.label == 1 for s in samples),
        )
        for sp in ("train", "val", "test")
    }
    photos = len({s.source_id for s in samples})
    reals, fakes = per["test"]
    gen_rows = [
        sum(s.split == "test" and s.generator == g for s in samples)
        for g in {s.generator for s in samples if s.label}
    ]
    cal = (res.get("calibration") or {}).get("models", {})
    aucs = [r["test"]["roc_auc"] for r in cal.values() if r["test"].get("roc_auc") is not None]
    target = next((r["target_fpr"] for r in cal.values() if r.get("target_fpr")), 0.05)
    auc = aucs[0] if aucs else 0.5
    summary = read_json(data / "summary.json") or {}
    seconds = summary.get("build_seconds")
    return {
        "corpus_size": (
            f"{per['train'][0]} real and {per['train'][1]} AI training images, "
            f"{per['val'][0]} / {per['val'][1]} in validation, {reals} / {fakes} in test, "
            f"cut from {photos} photos."
        ),
        "test_reals": reals,
        "test_images": reals + fakes,
        "fpr_step": f"{100 / max(reals, 1):.1f}",
        "generator_rows": f"{min(gen_rows)}-{max(gen_rows)}" if gen_rows else "no",
        # Hanley & McNeil's rough bound: sqrt(AUC (1 - AUC) / the smaller class)
        "auc_se": f"{math.sqrt(max(auc * (1 - auc), 1e-4) / max(min(reals, fakes), 1)):.2f}",
        "fpr_se_points": f"{100 * math.sqrt(target * (1 - target) / max(reals, 1)):.1f}",
        "target_fpr_percent": f"{100 * target:g}",
        "train_per_class": f"{per['train'][0]} / {per['train'][1]}",
        "build_time": (
            f"{seconds / 60:.0f} minutes for {len(samples)} images"
            if seconds
            else "the build time is in the corpus's summary.json"
        ),
    }


def model_card_snippet(res: dict[str, Any], name: str, sections: dict[str, str]) -> str:
    """The report's excerpt for one model (its test metrics, LOFO, robustness, calibration),
    from the template's ``card`` section; the model card itself is ``aidetect.cards``'."""
    cal = (res.get("calibration") or {}).get("models", {}).get(name)
    rob = (res.get("robustness") or {}).get("models", {}).get(name)
    if not cal:
        return ""
    t = cal["test"]
    arch = _arch_of(res, name)
    lofo = res["lofo"].get(arch) if arch else None
    lofo_part = (
        f"Leave one generator family out (same recipe as this model, `{arch}`, retrained "
        "without the family; held-out test = test reals + that family's test fakes):\n\n"
        f"{lofo_table(lofo)}\n\n"
        if lofo
        else ""
    )
    rob_part = (
        "Robustness (test split transformed, both classes alike):\n\n"
        f"{robustness_table(res['robustness'], [name])}\n\n"
        if rob
        else ""
    )
    decision = "\n".join(
        [
            "| threshold | uncertain band | FPR on test reals | uncertain rate | ECE |",
            "|---|---|---|---|---|",
            f"| {cal['threshold']:.4f} | {band_text(cal['uncertain_band'])} | "
            f"{num(cal['test_fpr'])} | {num(t.get('uncertain_rate'))} | {num(cal['ece'])} |",
        ]
    )
    return sections["card"].format(
        test_images=t["n"],
        threshold=f"{cal['threshold']:.4f}",
        test_table=test_metrics_table({name: t}),
        decision_table=decision,
        lofo_part=lofo_part,
        robustness_part=rob_part,
    )


def lofo_archs(res: dict[str, Any], cal: dict[str, Any]) -> str:
    out: list[str] = []
    for arch, lr in res["lofo"].items():
        out += [f"### {arch}", "", lofo_table(lr), "", "Training commands:", "", "```"]
        out += [r["train_command"] for r in lr["families"].values()]
        out += ["```", ""]
        shipped = [
            f"- `{n}`: `{r['training_command']}`"
            for n, r in cal.items()
            if r["architecture"] == arch and r.get("training_command")
        ]
        if shipped:
            out += [
                "Shipped model(s) of this architecture, for comparison of the recipe "
                "(LOFO runs may use fewer epochs to fit the CPU budget):",
                "",
                *shipped,
                "",
            ]
    return "\n".join(out)


def cmd_report(a: argparse.Namespace) -> dict[str, Any]:
    res = _load_all(a.out)
    sections = template_sections(a.template)
    cal = (res.get("calibration") or {}).get("models", {})
    rob = res.get("robustness")
    seed = res.get("seed")
    tests = {n: r["test"] for n, r in cal.items()}
    values: dict[str, Any] = {
        **corpus_facts(a.data, res),
        "out": a.out,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "data_section": "\n".join(data_section(a.data)),
        "families": ", ".join(FAMILIES),
    }
    if cal:
        values["test_images"] = next(iter(tests.values()))["n"]
        values["test_table"] = test_metrics_table(tests)
        values["per_generator_table"] = per_family_table(tests)
        values["calibration_table"] = calibration_table(res["calibration"])
    if seed:
        values["seed_size"] = seed["model"]["input"]["size"]
        values["seed_threshold"] = seed["model"]["threshold"]
        values["seed_table"] = test_metrics_table({**tests, "seed-cifake-cnn": seed["test"]})
    if res["lofo"]:
        values["lofo_archs"] = lofo_archs(res, cal)
    if rob:
        values["variant_rules"] = "\n".join(
            f"- `{k}`: {v}" for k, v in rob["variant_rules"].items()
        )
        values["robustness_table"] = robustness_table(rob)
    fmt_lines = source_format_check(a.data, cal)
    values["source_format_table"] = "\n".join(fmt_lines)
    values["lossy_percent"] = lossy_source_percent(a.data)
    obs = observations(res)
    values["observations"] = "\n".join(obs)
    values["goals_table"] = "\n".join(goals_section(res))
    commands = [
        f"# models: {r['training_command']}" for r in cal.values() if r.get("training_command")
    ]
    for key in ("robustness", "calibration", "seed"):
        if res.get(key):
            commands.append(res[key]["command"])
    if seed:
        commands.append(f"# seed import (same function): {seed['import_command']}")
    commands += [lr["command"] for lr in res["lofo"].values()]
    values["commands"] = "\n".join([*commands, command()])
    wanted = {
        "head": True,
        "test": bool(cal),
        "seed_beside": bool(cal and seed),
        "per_generator": bool(cal),
        "seed_only": bool(seed and not cal),
        "lofo": bool(res["lofo"]),
        "robustness": bool(rob),
        "calibration": bool(cal),
        "shortcut_probe": bool(cal and fmt_lines),
        "observations": bool(obs),
        "goals": True,
        "commands": True,
    }
    old = Path(a.doc).read_text() if Path(a.doc).is_file() else None
    doc = "".join(sections[k].format_map(values) for k in sections if wanted.get(k))
    Path(a.doc).parent.mkdir(parents=True, exist_ok=True)
    Path(a.doc).write_text(doc.rstrip() + "\n")
    # the held-out section (python -m aidetect_training.heldout --docs) and the --like
    # LOFO one (experiments lofo --like --docs) have their own generators: keep them
    from aidetect_training.experiments.lofo import LIKE_END, LIKE_START
    from aidetect_training.heldout import MARK_END, MARK_START, write_docs

    kept = [
        old[old.index(start) : old.index(end) + len(end)]
        for start, end in ((MARK_START, MARK_END), (LIKE_START, LIKE_END))
        if old and start in old and end in old
    ]
    if kept:
        write_docs(Path(a.doc), "\n\n".join(kept))
    print(f"wrote {a.doc}")
    for name in cal:
        snippet = model_card_snippet(res, name, sections)
        (a.out / f"card-{name}.md").write_text(snippet)
        print(f"wrote {a.out / f'card-{name}.md'}")
        if a.print_cards:
            print(snippet)
    return {"doc": str(a.doc)}


def lossy_source_percent(data: Path) -> str:
    """The share of real crops cut from lossy (JPEG/WebP/MPO) photos, from ``sources.csv``."""
    src_csv = data / "sources.csv"
    if not src_csv.is_file():
        return "n/a"
    with open(src_csv, newline="") as fh:
        fmt = {r["source_id"]: r["file"].rsplit(".", 1)[-1].lower() for r in csv.DictReader(fh)}
    reals = [s for s in list_samples(data) if s.label == 0]
    lossy = sum(fmt.get(s.source_id) not in ("png", "ppm") for s in reals)
    return f"{100 * lossy / max(len(reals), 1):.0f}"
