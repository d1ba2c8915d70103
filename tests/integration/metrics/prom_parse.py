"""Reads Prometheus text exposition (0.0.4) on stdin with the reference
parser of prometheus_client and prints it as JSON:
{"<family>": {"type": "...", "help": "...", "samples": [{"name", "labels", "value"}]}}.
Exits 1 with the parser's error when the text does not parse, or when a
family holds a sample of another family, or a histogram's buckets are not
cumulative or lack le="+Inf" equal to _count."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def check_histogram(fam):
    series = {}
    for s in fam.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(key, {"buckets": [], "count": None})
        if s.name.endswith("_bucket"):
            series[key]["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            series[key]["count"] = s.value
    for key, h in series.items():
        b = sorted(h["buckets"])
        if not b or not math.isinf(b[-1][0]):
            raise ValueError(f"{fam.name}{dict(key)}: no le=\"+Inf\" bucket")
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            raise ValueError(f"{fam.name}{dict(key)}: buckets are not cumulative")
        if h["count"] != b[-1][1]:
            raise ValueError(f"{fam.name}{dict(key)}: _count {h['count']} != +Inf bucket {b[-1][1]}")


def main():
    text = sys.stdin.read()
    out = {}
    try:
        for fam in text_string_to_metric_families(text):
            # The parser strips _total from counter family names; keep the
            # exposed name so callers ask for what Prometheus stores.
            name = fam.name + "_total" if fam.type == "counter" and not fam.name.endswith("_total") and any(
                s.name == fam.name + "_total" for s in fam.samples) else fam.name
            if name in out:
                raise ValueError(f"family {name} appears twice")
            if fam.type == "histogram":
                check_histogram(fam)
            out[name] = {"type": fam.type, "help": fam.documentation,
                         "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in fam.samples]}
    except Exception as e:  # noqa: BLE001 - any parser error is the answer
        print(f"prometheus text does not parse: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout)


main()
