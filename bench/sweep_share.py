"""The hourly sweep's share of Connect's quota, the window of a lost association and the chain of a 400-instance
first sweep, computed from the enforcer's rules (`selection.py`, `continuation.py`) and the calls per instance the
moto runs measure: a sweep at Connect's real rate would wait for 23 minutes."""

from __future__ import annotations

import math
from typing import Any

SIZES = (10, 100, 250, 400, 1000)
LISTING_PAGE = 10  # ListInstances returns at most 10 instances a page
TIMEOUT = 120.0  # the function's timeout in template.yaml


def run() -> dict[str, Any]:
    import boto3

    from connect_lockdown import continuation, selection
    from connect_lockdown.inventory import s3_capable_types

    model = boto3.session.Session(region_name="us-east-1").client("connect").meta.service_model
    types = len(s3_capable_types(model.shape_for("InstanceStorageResourceType").enum))
    rate, hour = selection.CONNECT_RATE_PER_SECOND, 3600
    rows = []
    for size in SIZES:
        per_sweep = min(size, max(selection.instances_per_sweep(types), math.ceil(size / selection.MAX_UNREAD_HOURS)))
        calls = per_sweep * types
        rows.append(
            {
                "instances": size,
                "read_per_sweep": per_sweep,
                "storage_calls_per_hour": calls,
                "share_of_quota": calls / (rate * hour),
                "share_if_all_read": size * types / (rate * hour),
                "listing_calls": math.ceil(size / LISTING_PAGE),
                "window_hours": selection.rereads_every_hours(size, types),
            }
        )
    # A first sweep reads every instance (none is indexed yet), at the rate limit: each part reads for the
    # timeout less the reserve, then hands over; the last part decides the buckets.
    first = 400
    per_part = int((TIMEOUT - continuation.SWEEP_RESERVE_SECONDS) * rate // types)
    parts = math.ceil(first / per_part) + 1
    return {
        "resource_types_read": types,
        "rate": rate,
        "share": selection.QUOTA_SHARE,
        "max_unread_hours": selection.MAX_UNREAD_HOURS,
        "rows": rows,
        "chain": {
            "instances": first,
            "instances_per_part": per_part,
            "parts": parts,
            "max_sweep_parts": continuation.MAX_SWEEP_PARTS,
            "finishes": parts <= continuation.MAX_SWEEP_PARTS,
            "listing_calls_before": sum(math.ceil((first - n * per_part) / LISTING_PAGE) for n in range(parts - 1)),
            "listing_calls_now": math.ceil(first / LISTING_PAGE),
            "minutes": first * types / rate / 60,
        },
    }


def block(results: dict[str, Any]) -> str:
    section = results["sweep_share"]
    lines = [
        f"Computed (not measured on moto) from {section['resource_types_read']} ListInstanceStorageConfigs per "
        f"instance, Connect's {section['rate']:g} requests/s per API, a share of {section['share']:.0%} and "
        f"the {section['max_unread_hours']}-hour guarantee.",
        "",
        "| instances | re-read per hourly sweep | ListInstanceStorageConfigs per hour | share of that API's quota "
        "| share if every instance were re-read | lost-association window (worst case) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in section["rows"]:
        lines.append(
            f"| {row['instances']} | {row['read_per_sweep']} | {row['storage_calls_per_hour']} "
            f"| {row['share_of_quota']:.1%} | {row['share_if_all_read']:.1%} | {row['window_hours']} h |"
        )
    chain = section["chain"]
    lines += [
        "",
        f"A first sweep of {chain['instances']} instances (nothing indexed yet, so every instance is read, about "
        f"{chain['minutes']:.0f} minutes at the rate limit) reads about {chain['instances_per_part']} instances "
        f"per invocation and takes {chain['parts']} chained invocations, under the chain's cap of "
        f"{chain['max_sweep_parts']} ({'finishes' if chain['finishes'] else 'STOPS AT THE CAP'}); the loop is "
        f"declared to Lambda (`RecursiveLoop: Allow`). It lists the instances once: {chain['listing_calls_now']} "
        f"ListInstances pages, where listing again in every part took {chain['listing_calls_before']}.",
    ]
    return "\n".join(lines)
