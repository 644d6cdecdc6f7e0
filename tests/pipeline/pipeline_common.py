"""What the pipeline checks (compressed_check.py, debuginfod_check.py, batch_check.py) share."""


def verdict(problems, ok_line):
    """Prints the problems after FAIL (what CTest's FAIL_REGULAR_EXPRESSION catches) or ok_line;
    returns the exit code."""
    if problems:
        print("FAIL\n  " + "\n  ".join(problems))
        return 1
    print(ok_line)
    return 0
