"""Parses OpenMetrics text (our `/metrics`) from stdin with the Prometheus project's own
Python parser, and prints every sample as one JSON object per line:
{"family": ..., "type": ..., "name": ..., "labels": {...}, "value": ...}.

A text the parser refuses makes it raise, and this script exit non-zero with its error.
"""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            print(
                json.dumps(
                    {
                        "family": family.name,
                        "type": family.type,
                        "name": sample.name,
                        "labels": sample.labels,
                        "value": sample.value,
                    },
                    sort_keys=True,
                )
            )


if __name__ == "__main__":
    main()
