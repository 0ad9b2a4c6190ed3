"""``make bench``'s report: the targets the shop is held to, and plots to look at rather than read.

The targets are issue 10's table, and issue 11's CRM and notification rows (the RFM recompute and a campaign's
fan-out, in-process on moto: see :mod:`gears.bench_campaign`); each row is met or not by this run's figures
(medians and ratios of one run on one machine, so rows compare like with like). The plots are PNGs beside ``latest.md``:

- ``latency.png``: the distribution of each route's latency through the local gateway (box plot, log scale);
- ``cold-start.png``: each function's init beside ``import boto3`` and ``import boto3`` + one client;
- ``saga.png``: checkout-to-PAID latency (p50, p95) and orders per second against concurrent customers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(measure, target, measured, met) for each row of the table; met is ``None`` where this run cannot tell."""
    saga = r.get("saga") or {}
    t = r.get("throughput_get_products") or {}
    cold = r.get("cold_start") or {}
    worst: tuple[str | None, dict[str, Any]] = max(
        cold.items(), key=lambda kv: kv[1].get("ratio_to_boto3_client", 0), default=(None, {})
    )
    worst_ratio = worst[1].get("ratio_to_boto3_client", float("nan"))
    rows: list[tuple[str, str, str, bool | None]] = [
        ("shop ready, demo data in", "≤ 10 s", f"{r['startup_s']:.1f} s", r["startup_s"] <= 10),
        ("start-up events all handled", "≤ 20 s after ready", f"{r['settle_s']:.1f} s", r["settle_s"] <= 20),
    ]
    if saga:
        p95 = saga["checkout_to_settled_p95_s"]
        rows += [
            (
                f"checkout to PAID, {saga['customers']} customers x {saga['orders'] // max(saga['customers'], 1)}"
                " orders",
                "p95 ≤ 1 s",
                f"p50 {saga['checkout_to_settled_p50_s']:.2f} s, p95 {p95:.2f} s",
                p95 <= 1.0,
            ),
            ("saga throughput", "≥ 5 orders/s", f"{saga['orders_per_s']:.2f} orders/s", saga["orders_per_s"] >= 5),
        ]
    if t:
        rows.append(
            (
                f"GET /products with {t['clients']} clients",
                "≥ 150 req/s, p50 ≤ 10 ms",
                f"{t['rps']:.0f} req/s, p50 {t.get('p50_ms', float('nan')):.1f} ms",
                t["rps"] >= 150 and t.get("p50_ms", 1e9) <= 10,
            )
        )
    if cold:
        rows.append(
            (
                "cold start (init) of every function",
                "≤ 1.5 x (import boto3 + one client)",
                f"worst {worst_ratio:.2f} x ({worst[0]}); baseline {r.get('boto3_and_client_ms', float('nan')):.0f} ms",
                worst_ratio <= 1.5,
            )
        )
    rows += _campaign_targets(r.get("campaign") or {})
    return rows


def _campaign_targets(c: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """Issue 11's rows: the RFM recompute and the campaign fan-out at ``make bench``'s size (in-process, moto)."""
    if not c:
        return []
    s, f = c["segments"], c["fanout"]
    first, steady, out, launch = s["first"], s["steady"], f["fanout"], f["launch"]
    return [
        (
            f"RFM recompute, {s['customers']:,} customers (moto, in-process)",
            "no Scan; within the function's Timeout",
            f"{first['seconds']:.1f} s with every score written ({first['customers_per_s']:,.0f} customers/s), "
            f"{steady['seconds']:.1f} s unchanged; Timeout {s['timeout_s']:.0f} s",
            not (first["scan"] or steady["scan"]) and first["seconds"] <= s["timeout_s"],
        ),
        (
            f"campaign fan-out, {f['members']:,} members (moto, in-process)",
            "no Scan; every member one outcome; each invocation within the Timeout",
            f"{out['messages_per_s']:,.0f} messages/s ({out['sent_per_s']:,.0f} sent/s); launcher "
            f"{launch['batches_per_s']:,.1f} batches/s; slowest invocation {out['invocation_max_ms'] / 1000:.1f} s "
            f"of {out['timeout_s']:.0f} s",
            not (out["scan"] or launch["scan"])
            and bool(f["ok"])
            and out["invocation_max_ms"] <= out["timeout_s"] * 1000,
        ),
    ]


def targets_markdown(r: dict[str, Any]) -> list[str]:
    lines = ["| measure | target | this run | met |", "|---|---|---|---|"]
    for measure, target, measured, met in targets(r):
        mark = "n/a" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {measure} | {target} | {measured} | {mark} |")
    return lines


def plots(r: dict[str, Any], out: Path) -> dict[str, str]:
    """Write the PNGs into ``out``; their file names by figure. Nothing if matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    figures: dict[str, str] = {}

    warm = {route: row["samples_ms"] for route, row in (r.get("warm_latency") or {}).items() if row.get("samples_ms")}
    if warm:
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(warm) + 1.5))
        ax.boxplot(list(warm.values()), vert=False, showfliers=True, whis=(1, 99))
        ax.set_yticks(range(1, len(warm) + 1), list(warm))
        ax.set_xscale("log")
        ax.set_xlabel("ms through the local gateway (box: p25-p75, whiskers: p1-p99)")
        ax.set_title("Warm latency per route")
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=110)
        plt.close(fig)
        figures["latency"] = "latency.png"

    cold = r.get("cold_start") or {}
    if cold:
        names = list(cold)
        fig, ax = plt.subplots(figsize=(9, 0.3 * len(names) + 1.5))
        ax.barh(names, [cold[n]["init_ms_median"] for n in names], color="#4c72b0")
        ax.axvline(r["bare_boto3_import_ms"], color="#dd8452", linestyle="--", label="import boto3")
        if r.get("boto3_and_client_ms"):
            base = r["boto3_and_client_ms"]
            ax.axvline(base, color="#55a868", linestyle="--", label="import boto3 + one client")
            ax.axvline(1.5 * base, color="#c44e52", linestyle=":", label="target: 1.5 x that")
        ax.invert_yaxis()
        ax.set_xlabel("init ms (median)")
        ax.set_title("Cold start per function")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(out / "cold-start.png", dpi=110)
        plt.close(fig)
        figures["cold_start"] = "cold-start.png"

    sweep = r.get("saga_sweep") or []
    if sweep:
        xs = [row["customers"] for row in sweep]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(xs, [row["checkout_to_settled_p50_s"] for row in sweep], marker="o", label="p50")
        ax.plot(xs, [row["checkout_to_settled_p95_s"] for row in sweep], marker="o", label="p95")
        ax.axhline(1.0, color="#c44e52", linestyle=":", label="target p95")
        ax.set_xlabel("concurrent customers")
        ax.set_ylabel("checkout to PAID, s")
        ax2 = ax.twinx()
        ax2.plot(xs, [row["orders_per_s"] for row in sweep], color="#8172b2", marker="s", label="orders/s")
        ax2.set_ylabel("orders/s")
        lines = ax.get_legend_handles_labels()
        more = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
        ax.set_title("The order saga against concurrency")
        fig.tight_layout()
        fig.savefig(out / "saga.png", dpi=110)
        plt.close(fig)
        figures["saga"] = "saga.png"
    return figures
