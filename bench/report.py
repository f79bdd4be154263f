"""Plots (PNG) and the results section of docs/benchmarks.md, from one bench/run."""
from __future__ import annotations

import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BEGIN, END = "<!-- results:begin (written by bench/run) -->", "<!-- results:end -->"
LABELS = {"grpc_stub": "bare grpc++ stub", "c_abi": "C ABI", "cpp": "C++ wrapper", "python": "Python",
          "node_binding": "Node binding", "go_binding": "Go binding", "rust_binding": "Rust binding",
          "c_abi_control": "C ABI again (A/A control)", "node_sdk": "Momento Node SDK", "go_sdk": "Momento Go SDK",
          "python_sdk": "Momento Python SDK", "echo": "bare gRPC echo server",
          "server_refresh": "refresh", "server_refresh_durable": "refresh, --sync-full",
          "bare": "bare interpreter start (whole process)", "json": "`import json`",
          "momento_auth": "`import momento_auth`", "momento_auth_usable": "`import momento_auth` + first parse",
          "momento_sdk": "`import momento` (Momento Python SDK)"}


def label(name: str) -> str:
    return LABELS.get(name, name)


def rows(b, figure: str, call: str | None = None, metric: str | None = None) -> list[dict]:
    return [s for s in b.summary if s["figure"] == figure and (call is None or s["call"] == call)
            and (metric is None or s["metric"] == metric)]


def errbar(r: dict) -> tuple[float, float]:
    """The 95% CI of the median as error bars."""
    return r["median"] - r["ci_lo"], r["ci_hi"] - r["median"]


def save(fig, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


def series(ax, pts: list[tuple[int, dict]], name: str) -> None:
    """One contender's medians against x, with their 95% CIs as error bars."""
    ax.errorbar([x for x, _ in pts], [r["median"] for _, r in pts], yerr=list(zip(*[errbar(r) for _, r in pts])),
                marker="o", capsize=3, label=label(name))


def bars(ax, rs: list[dict], title: str, unit: str) -> None:
    names = [label(r["contender"]) for r in rs]
    med = [r["median"] for r in rs]
    err = list(zip(*[errbar(r) for r in rs])) if rs else [[], []]
    ax.barh(names, med, xerr=err, color="#4c72b0", capsize=3)
    for i, r in enumerate(rs):
        if "ratio" in r:
            ax.text(r["median"], i, f"  x{r['ratio']:.2f}", va="center", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit)
    ax.invert_yaxis()


def plot_latency(b, out: Path) -> list[str]:
    files = []
    from run import CALLS

    for call in CALLS:
        data = sorted(((n, lat) for (n, c), lat in b.latencies.items() if c == call), key=lambda d: b.rank(d[0]))
        if not data:
            continue
        fig, ax = plt.subplots(figsize=(8, 0.55 * len(data) + 1.5))
        ax.violinplot([[v / 1e3 for v in lat] for _, lat in data], vert=False, showmedians=True,
                      quantiles=[[0.99]] * len(data))
        ax.set_yticks(range(1, len(data) + 1), [label(n) for n, _ in data])
        ax.set_xscale("log")
        ax.set_xlabel("latency per call, µs (log scale; bar = median, tick = p99)")
        ax.set_title(f"{call}: latency distribution, all rounds")
        files.append(save(fig, out, f"latency_{call}.png"))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, call in zip(axes, CALLS):
        bars(ax, rows(b, "calls", call, "p50"), f"{call}: p50 latency (ratio to the stub)", "µs")
    return [save(fig, out, "latency_p50.png")] + files


def plot_metric(b, out: Path, figure: str, metric: str, calls, title: str, unit: str, name: str) -> str | None:
    calls = [c for c in calls if rows(b, figure, c, metric)]
    if not calls:
        return None
    fig, axes = plt.subplots(1, len(calls), figsize=(4.7 * len(calls), 0.45 * 9 + 1), squeeze=False)
    for ax, call in zip(axes[0], calls):
        bars(ax, rows(b, figure, call, metric), f"{call}: {title}", unit)
    return save(fig, out, name)


def plot_scaling(b, out: Path) -> str | None:
    rs = rows(b, "scaling")
    if not rs:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in dict.fromkeys(r["contender"] for r in rs):
        series(ax, [(int(r["call"].split("_t")[1]), r) for r in rs if r["contender"] == name], name)
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 4, 8, 16], ["1", "2", "4", "8", "16"])
    ax.set_xlabel("threads sharing one client")
    ax.set_ylabel("refreshes per second")
    ax.set_title("refresh throughput vs threads (one client, one server)")
    ax.legend(fontsize=8)
    return save(fig, out, "scaling.png")


def plot_server(b, out: Path) -> str | None:
    rs = rows(b, "server")
    if not rs:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in dict.fromkeys(r["contender"] for r in rs):
        pts = sorted(((int(r["call"].split("_")[1]), r) for r in rs if r["contender"] == name), key=lambda p: p[0])
        if name == "echo":
            # One echo series per pairing: keep the median over them per point.
            by = {}
            for k, r in pts:
                by.setdefault(k, []).append(r["median"])
            ax.plot(list(by), [statistics.median(v) for v in by.values()], "k--", label=label(name))
            continue
        series(ax, pts, name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("calls in flight")
    ax.set_ylabel("requests per second")
    ax.set_title("momento-auth-server throughput vs concurrency")
    ax.legend(fontsize=8)
    return save(fig, out, "server.png")


def fmt_ratio(r: dict) -> str:
    if "ratio" not in r:
        return ""
    if r["ratio_lo"] == r["ratio_hi"]:  # pooled over the rounds (p99): no interval
        return f"x{r['ratio']:.3f}"
    return f"x{r['ratio']:.3f} ({r['ratio_lo']:.3f}–{r['ratio_hi']:.3f})"


def table(b, figure: str, calls, metric: str, unit: str, digits: int = 1) -> list[str]:
    people = list(dict.fromkeys(r["contender"] for r in rows(b, figure, metric=metric)))
    calls = [c for c in calls if rows(b, figure, c, metric)]
    lines = ["| contender | " + " | ".join(f"{c} {unit}, ratio (95% CI)" for c in calls) + " |",
             "|---|" + "---:|" * len(calls)]
    for p in people:
        cells = []
        for c in calls:
            r = next((x for x in rows(b, figure, c, metric) if x["contender"] == p), None)
            cells.append("—" if r is None else f"{r['median']:,.{digits}f} {fmt_ratio(r)}")
        lines.append(f"| {label(p)} | " + " | ".join(cells) + " |")
    return lines


def write(out: Path, doc: Path, b, meta: dict, people) -> None:
    from run import CALLS, PARSES

    out.mkdir(parents=True, exist_ok=True)
    imgs = plot_latency(b, out)
    for args in (("calls", "cpu_us", CALLS, "client CPU per call", "µs", "cpu_per_call.png"),
                 ("calls", "throughput", CALLS, "calls/s, one thread", "calls/s", "throughput.png"),
                 ("calls", "rss_kib", ["refresh"], "resident memory", "KiB", "rss.png"),
                 ("parse", "per_core_per_s", PARSES, "parses/s per core", "parses/s", "parse.png")):
        name = plot_metric(b, out, *args)
        if name:
            imgs.append(name)
    for f in (plot_scaling(b, out), plot_server(b, out)):
        if f:
            imgs.append(f)

    md = [BEGIN, "", f"Run: **{meta['started']}**, {meta['minutes']:.1f} minutes, command `{meta['command']}`: "
          f"{meta['rounds']} rounds of one batch per contender ({meta['batch']} sequential calls, or "
          f"{meta['parse_batch']} parses) from drivers started {meta['starts']} times per call (the rounds split "
          f"between them) and warmed up with {meta['warmup']} calls; scaling {meta['scale_rounds']} rounds of {meta['scale_calls']} calls per thread count; import "
          f"time {meta['import_rounds']} rounds; server throughput {meta['process_rounds']} rounds.", "",
          f"Machine: {meta['machine']}. Absolute figures move with the load of this shared machine; the ratios "
          "(each against its baseline in the same round) carry the conclusions: each is the median of the "
          "per-round ratios with its distribution-free 95% confidence interval in parentheses.", "",
          "Versions: " + ", ".join(f"{label(k)} {v}" for k, v in meta["versions"].items()) + ".", "",
          f"Toolchains: {meta.get('toolchains', '')}.", ""]
    for n in meta["notes"]:
        md.append(f"- {n}")
    for name, calls in meta["skipped"].items():
        for call, why in calls.items():
            md.append(f"- {label(name)}: no `{call}` ({why})")
    if b.goals:
        md += ["", "### Goals", "",
               "Each goal as the median over the rounds of that round's ratio (or difference) between the two "
               "contenders, with its 95% confidence interval in parentheses: met or missed when the whole "
               "interval is on one side of the target, not conclusive when it straddles it.", "",
               "| goal | measured (95% CI) | target | |", "|---|---:|---:|---|"]
        for g in b.goals:
            unit = "x" if g["kind"].startswith("ratio") else ""
            fmt = (lambda v: f"{unit}{v:.3f}") if unit else (lambda v: f"{v:,.1f}")
            cmp = {"ratio_max": "≤", "ratio_below": "<", "diff_max": "≤", "value_max": "≤", "value_min": "≥"}[g["kind"]]
            state = g["verdict"] if g["verdict"] != "missed" else "**missed**"
            md.append(f"| {g['goal']} | {fmt(g['median'])} ({fmt(g['ci_lo']).lstrip('x')}–{fmt(g['ci_hi']).lstrip('x')}) | "
                      f"{cmp} {unit}{g['target']:,.{0 if g['target'] >= 100 else 2}f} | {state} |")
    if b.controls:
        md += ["", "**A/A control:** the C ABI's driver started a second time and measured like any other "
               "contender; its ratio to the first shows how far the method alone moves a ratio between two "
               "identical contenders: " + "; ".join(
                   f"{c['call']} {'p50' if c['metric'] == 'p50' else 'wall time'} x{c['median']:.3f} "
                   f"({c['ci_lo']:.3f}–{c['ci_hi']:.3f})" for c in b.controls) + "."]
    md += ["", "### Refresh, generate and disposable-token latency (one client, sequential calls)", "",
           "p50 of all of a contender's calls pooled (µs); ratio: the median over the rounds of the ratio of "
           "that round's batch p50 to the bare grpc++ stub's, making the same RPC. p99 is pooled, and so is "
           "its ratio.", ""]
    md += table(b, "calls", CALLS, "p50", "p50 µs")
    md += ["", "p99:", ""] + table(b, "calls", CALLS, "p99", "p99 µs")
    def img(name: str) -> str:
        return f"![{name[:-4]}](benchmarks/{name})" if name in imgs else ""

    md += ["", img("latency_p50.png"), ""]
    md += [f"![{i}](benchmarks/{i})" for i in imgs if i.startswith("latency_") and i != "latency_p50.png"]
    md += ["", "Mean wall time per call (a batch's wall time over its calls; median over the rounds):", ""]
    md += table(b, "calls", CALLS, "wall_us", "µs")
    md += ["", "### Throughput (one thread, sequential calls)", ""] + table(b, "calls", CALLS, "throughput", "calls/s", 0)
    md += ["", img("throughput.png"), "",
           "### Client CPU per call", "", "CPU time of the whole client process (all threads) per call, over a batch.", ""]
    md += table(b, "calls", CALLS, "cpu_us", "µs") + ["", img("cpu_per_call.png"), ""]
    md += ["### Resident memory of a process holding one client", "",
           "VmRSS after each batch of refresh calls (KiB); the ratio is to the bare grpc++ stub process.", ""]
    md += table(b, "calls", ["refresh"], "rss_kib", "KiB", 0)
    stub = next((r for r in rows(b, "calls", "refresh", "rss_kib") if r["contender"] == "grpc_stub"), None)
    if stub:
        md.append("")
        for r in rows(b, "calls", "refresh", "rss_kib"):
            if r["contender"] in ("c_abi", "cpp"):
                md.append(f"- {label(r['contender'])}: {(r['median'] - stub['median']) / 1024:+.2f} MiB over the stub")
    md += ["", img("rss.png"), "", "### Credential parsing", "",
           "Parses per second per core (parses / CPU seconds of the process); ratio to our C ABI.", ""]
    md += table(b, "parse", PARSES, "per_core_per_s", "parses/s", 0)
    md += ["", "CPU per parse (ns):", ""] + table(b, "parse", PARSES, "cpu_ns_per_parse", "ns", 0)
    md += ["", "Wall time per parse (ns):", ""] + table(b, "parse", PARSES, "ns_per_parse", "ns", 0)
    md += ["", img("parse.png"), "", "### Scaling: threads sharing one client (refresh)", "",
           "Calls per second; ratio to the bare stub with the same number of threads on one channel.", ""]
    sc = rows(b, "scaling")
    if sc:
        ts = list(dict.fromkeys(r["call"] for r in sc))
        md += ["| contender | " + " | ".join(t.replace("refresh_t", "") + " threads" for t in ts) + " |",
               "|---|" + "---:|" * len(ts)]
        for p in dict.fromkeys(r["contender"] for r in sc):
            cells = []
            for t in ts:
                r = next((x for x in sc if x["contender"] == p and x["call"] == t), None)
                cells.append("—" if r is None else f"{r['median']:,.0f} {fmt_ratio(r)}")
            md.append(f"| {label(p)} | " + " | ".join(cells) + " |")
        md += ["", img("scaling.png"), ""]
    imp = rows(b, "import", metric="import_ms")
    if imp:
        cpu = {r["contender"]: r for r in rows(b, "import", metric="import_cpu_ms")}
        md += ["### Python import time", "",
               f"Package: {b.import_where}. Each import is timed inside a fresh interpreter, one per round in "
               "a shuffled order: wall time, with its ratio to a bare interpreter start timed from outside, and "
               "CPU time, with its ratio to `import json` in the same rounds (CPU time is less inflated by a busy machine).",
               "", "| import | wall ms (95% CI) | ratio to a bare start | CPU ms (95% CI) | ratio to `import json` |",
               "|---|---:|---:|---:|---:|"]
        for r in imp:
            c = cpu.get(r["contender"])
            md.append(f"| {label(r['contender'])} | {r['median']:.1f} ({r['ci_lo']:.1f}–{r['ci_hi']:.1f}) | "
                      + (f"x{r['ratio']:.2f}" if "ratio" in r else "") + " | "
                      + (f"{c['median']:.1f} ({c['ci_lo']:.1f}–{c['ci_hi']:.1f}) | " if c else "— | ")
                      + (f"x{c['ratio']:.2f}" if c and "ratio" in c else "") + " |")
        md.append("")
    wh = rows(b, "wheel")
    if wh:
        md += ["### Wheel size", "", f"- `{wh[0]['call']}`: {wh[0]['median'] / 2**20:.2f} MiB", ""]
    srv = rows(b, "server")
    if srv:
        md += ["### Server throughput vs concurrency", "",
               "`momento_bench_server` (bench/server): RefreshApiToken with real rotations, paired with a bare "
               "gRPC echo server phase in each round; ratio to that echo phase.", ""]
        md += table(b, "server", sorted({r["call"] for r in srv}, key=lambda c: int(c.split("_")[1])), "req_per_s",
                    "req/s", 0)
        md += ["", img("server.png"), ""]
    md += ["Raw data: [results.csv](benchmarks/results.csv) (every round), "
           "[summary.csv](benchmarks/summary.csv), [latency.csv](benchmarks/latency.csv), "
           "[meta.json](benchmarks/meta.json).", "", END]
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n## Results\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(head + "\n".join(md) + tail)
