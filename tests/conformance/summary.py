"""Prints the closing line "conformance: N passed, M failed" from pytest's JUnit XML report."""
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    report, rc = sys.argv[1], int(sys.argv[2])
    passed = failed = skipped = 0
    try:
        root = ET.parse(report).getroot()
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    except (OSError, ET.ParseError) as e:
        print(f"conformance: no pytest report ({e})", file=sys.stderr)
    # A run that failed outside any test (collection error, crash) or ran nothing counts as a failure.
    if failed == 0 and (rc != 0 or passed == 0):
        failed = 1
    # No test is expected to be skipped: a skip would hide a check, so it counts as failed.
    failed += skipped
    print(f"conformance: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
