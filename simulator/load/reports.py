"""Report files of a run: the JSON summary and JUnit XML (Locust writes its HTML and CSV).

JUnit holds one test case per threshold and one for reconciliation, so CI systems show each
gate natively. Files are written through ``outputs``: never half a report.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from simulator.outputs import atomic_output, write_text_atomically

SUMMARY_FILE = "summary.json"
JUNIT_FILE = "junit.xml"
HTML_FILE = "locust.html"
CSV_PREFIX = "locust"
LOG_FILE = "locust.log"
_LOCUST_SUFFIXES = (".html", ".csv", ".log")  # what Locust (and its log) leave in the scratch


def junit_xml(data: dict[str, Any]) -> str:
    cases: list[tuple[str, bool, str]] = [
        (f"threshold {t['expression']}", t["passed"], t["message"]) for t in data["thresholds"]
    ]
    recon = data.get("reconciliation")
    if recon is not None:
        cases.append(("reconciliation", recon["passed"], "\n".join(recon["problems"]) or "ok"))
    interrupted = bool(data["run"].get("interrupted"))
    seconds = str(data["run"].get("seconds", 0))
    suite = ET.Element(
        "testsuite", name="ctvsim load", tests=str(len(cases) + interrupted),
        failures=str(sum(not passed for _, passed, _ in cases)), errors=str(int(interrupted)),
        time=seconds,
    )
    if interrupted:  # a cut-short run proves nothing, whatever its gates said until then
        case = ET.SubElement(suite, "testcase", classname="ctvsim.load", name="run", time="0")
        ET.SubElement(case, "error", message="the run was interrupted before its end")
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


def publish_locust_files(scratch: Path, directory: Path) -> None:
    """Locust's HTML, CSV and log, written by Locust into the run's scratch directory, copied
    into the report directory whole (a full disk leaves no half file there)."""
    for source in sorted(scratch.iterdir()):
        if source.name.startswith(CSV_PREFIX) and source.suffix in _LOCUST_SUFFIXES:
            with atomic_output(directory / source.name, "--report-dir") as out, \
                    source.open("rb") as data:
                shutil.copyfileobj(data, out)


def write_reports(directory: Path, data: dict[str, Any]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    summary, junit = directory / SUMMARY_FILE, directory / JUNIT_FILE
    write_text_atomically(summary, json.dumps(data, indent=2, sort_keys=False) + "\n",
                          "--report-dir")
    write_text_atomically(junit, junit_xml(data), "--report-dir")
    return [summary, junit]
