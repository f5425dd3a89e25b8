"""The model card: everything a user needs to trust, reproduce and run a distilled student,
as JSON (card.json, read back by kd) and as text for a person (card.md)."""

from __future__ import annotations

from kdcli.distilled.columns import CATEGORY

KIND = "kd-model"
FORMAT = 1  # bump when what card.json holds, or how the model reads its input, changes


def render_markdown(card: dict) -> str:
    """card.md: the card in the order a reader asks (what it predicts, how good, how big, how
    fast, how it was made, what it reads)."""
    data, student, teacher = card["data"], card["student"], card["teacher"]
    sel, est, lat = card["selection"], card.get("estimate"), card["latency"]
    value = ""
    if student.get("value_name"):
        value = f" ({student['value_name']} = {student['value']:g})"
    lines = [
        f"# Distilled {student['family']} student of {data['name']}",
        "",
        f"Predicts {data['target'] or 'the label'}: {', '.join(map(str, data['classes']))}.",
        f"Trained on {data['rows']:,} rows with target **{student['mode']}**{value}, from a "
        f"{teacher['name']} teacher.",
        "",
        "## Expected held-out performance",
        "",
    ]
    if est:
        lines += [
            f"From an outer {est['folds']}-fold cross-validation that repeats the whole procedure "
            "(teachers, the choice of target, the student) on each training part:",
            "",
            "| metric | mean | SE |",
            "|---|---|---|",
            *(
                f"| {m} | {v['mean']:.4f} | {v['se']:.4f} |"
                for m, v in est["metrics"].items()
                if m in ("error", "auc", "log_loss")
            ),
            "",
            f"Targets chosen in the outer folds: {', '.join(est['modes'])}.",
        ]
    else:
        lines.append("Not estimated (--estimate-folds 0).")
    lines += [
        "",
        f"## How the target was chosen ({sel['metric']}, {sel['folds']}-fold CV within the "
        f"rows, teachers {sel['teachers']})",
        "",
        "| target | best c or α | CV score | SE |",
        "|---|---|---|---|",
        *(
            f"| {c['mode']}{' ← chosen' if c['mode'] == student['mode'] else ''} | "
            f"{'' if c['value'] is None else format(c['value'], 'g')} | {c['cv']:.4f} | "
            f"{c['se']:.4f} |"
            for c in sel["candidates"]
        ),
    ]
    lines += _size_choice(card.get("size_choice")) + _teacher_model(teacher)
    lines += [
        "",
        "## Size and speed",
        "",
        f"- student: {student['size_label']}; {student['n_trees']:g} trees, "
        f"{student['n_leaves']:g} leaves, {student['model_bytes']:,.0f} bytes (native); "
        f"model.onnx {student['onnx_bytes']:,} bytes",
        f"- teacher: {teacher['n_trees']:g} trees, {teacher['n_leaves']:g} leaves, "
        f"{teacher['model_bytes']:,.0f} bytes",
        f"- onnxruntime, one thread: {lat['batch_ms_per_10k']:.2f} ms per 10,000 rows; one row "
        f"p50 {lat['single_row_p50_ms']:.3f} ms, p99 {lat['single_row_p99_ms']:.3f} ms",
        "",
        "## Input",
        "",
        "model.onnx takes one float32 tensor `features` of shape [rows, "
        f"{len(data['columns'])}], columns in this order; a category is its level's code (its "
        "position in the list), a missing value NaN; a level not listed is treated as missing. "
        "It returns `probabilities` [rows, classes] and `label` (the class index).",
        "",
        "| # | column | kind | levels (code: level) |",
        "|---|---|---|---|",
        *(
            f"| {i} | {c['name']} | {c['kind']} | "
            f"{_levels(c['levels']) if c['kind'] == CATEGORY else ''} |"
            for i, c in enumerate(data["columns"])
        ),
        "",
        "## Made by",
        "",
        f"`{card['command']}`, kd {card['kd_version']}, seed {card['seed']}, "
        f"{card['created']}; data fingerprint {data['fingerprint'][:16]}….",
        "",
    ]
    return "\n".join(lines)


def _size_choice(choice: dict | None) -> list[str]:
    if not choice:
        return []
    return [
        "",
        f"## How the size was chosen (budget: {_limits(choice)}; {choice['rule']})",
        "",
        "| size | target | CV score | SE | model.onnx bytes | ms per 10,000 rows | within |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r['size']}{' ← chosen' if r['chosen'] else ''} | {r['mode']} | "
            f"{r['cv']:.4f} | {r['se']:.4f} | {r['onnx_bytes']:,} | "
            f"{r['batch_ms_per_10k']:.2f} | {'yes' if r['within_budget'] else 'no'} |"
            for r in choice["sizes"]
        ),
    ]


def _teacher_model(teacher: dict) -> list[str]:
    model = teacher.get("model")
    if not model:
        return []
    return [
        "",
        f"Teacher from --teacher-model {model['path']} ({model['library']}, {model['rounds']} "
        f"rounds, SHA-256 {model['sha256'][:16]}…); full-data teacher: "
        f"{teacher['full_data_teacher']}.",
    ]


def _limits(choice: dict) -> str:
    parts = []
    if choice.get("max_bytes") is not None:
        parts.append(f"at most {choice['max_bytes']:,} bytes")
    if choice.get("max_ms_per_10k") is not None:
        parts.append(f"at most {choice['max_ms_per_10k']:g} ms per 10,000 rows")
    return ", ".join(parts) or "none"


def _levels(levels: list[str], most: int = 12) -> str:
    text = ", ".join(f"{i}: {v}" for i, v in enumerate(levels[:most]))
    return text + (f", … ({len(levels)} levels)" if len(levels) > most else "")
