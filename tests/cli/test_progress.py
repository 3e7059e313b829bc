import io

from siteguard.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_and_ends_the_line():
    out = Tty()
    p = Progress(4, "detect", stream=out)
    for _ in range(4):
        p()
    p.close()
    text = out.getvalue()
    assert "detect [" in text and "4/4" in text and text.endswith("\n")


def test_no_bar_when_stderr_is_not_a_terminal_or_the_run_is_tiny():
    out = io.StringIO()
    p = Progress(100, "detect", stream=out)
    p(50)
    p.close()
    assert out.getvalue() == ""
    tty = Tty()
    Progress(1, "x", stream=tty)(1)
    assert tty.getvalue() == ""
