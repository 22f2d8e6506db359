"""Report files of a run: the JSON summary and JUnit XML (Locust writes its HTML and CSV).

JUnit holds one test case per threshold and one for reconciliation, so CI systems show each
gate natively. Files are written through ``outputs``: never half a report.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from simulator.outputs import write_text_atomically

SUMMARY_FILE = "summary.json"
JUNIT_FILE = "junit.xml"
HTML_FILE = "locust.html"
CSV_PREFIX = "locust"


def junit_xml(data: dict[str, Any]) -> str:
    cases: list[tuple[str, bool, str]] = [
        (f"threshold {t['expression']}", t["passed"], t["message"]) for t in data["thresholds"]
    ]
    recon = data.get("reconciliation")
    if recon is not None:
        cases.append(("reconciliation", recon["passed"], "\n".join(recon["problems"]) or "ok"))
    seconds = str(data["run"].get("seconds", 0))
    suite = ET.Element(
        "testsuite", name="ctvsim load", tests=str(len(cases)),
        failures=str(sum(not passed for _, passed, _ in cases)), errors="0", time=seconds,
    )
    for name, passed, message in cases:
        case = ET.SubElement(suite, "testcase", classname="ctvsim.load", name=name, time="0")
        if passed:
            ET.SubElement(case, "system-out").text = message
        else:
            ET.SubElement(case, "failure", message=message.splitlines()[0] if message else "")
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(directory: Path, data: dict[str, Any]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    summary, junit = directory / SUMMARY_FILE, directory / JUNIT_FILE
    write_text_atomically(summary, json.dumps(data, indent=2, sort_keys=False) + "\n",
                          "--report-dir")
    write_text_atomically(junit, junit_xml(data), "--report-dir")
    return [summary, junit]
