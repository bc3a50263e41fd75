import logging
import threading
import time

import pytest

from mnist_app.web.auth import AdminAuth


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("MNIST_ADMIN_PASSWORD", "correct horse")
    auth = AdminAuth(first_delay_s=0)
    assert auth.check("correct horse")
    assert not auth.check("correct hors") and not auth.check("correct horse ") and not auth.check("")
    assert auth.announce() is None


def test_argument_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("MNIST_ADMIN_PASSWORD", "from env")
    auth = AdminAuth("from arg", first_delay_s=0)
    assert auth.check("from arg") and not auth.check("from env")


def test_unset_password_is_generated_and_announced_once(monkeypatch):
    monkeypatch.delenv("MNIST_ADMIN_PASSWORD", raising=False)
    auth = AdminAuth(first_delay_s=0)
    line = auth.announce()
    assert "MNIST_ADMIN_PASSWORD" in line
    password = line.rsplit(" ", 1)[1]
    assert len(password) >= 16 and auth.check(password)
    assert auth.announce() is None
    assert AdminAuth(first_delay_s=0).announce().rsplit(" ", 1)[1] != password


@pytest.mark.parametrize("given", [None, 123, b"secret", ["secret"], {"password": "secret"}])
def test_anything_but_the_right_string_is_refused(given):
    auth = AdminAuth("secret", first_delay_s=0)
    assert not auth.check(given)
    with pytest.raises(PermissionError, match="Wrong admin password"):
        auth.require(given)
    auth.require("secret")


def test_failures_are_slowed_down_more_and_more_up_to_a_cap():
    auth = AdminAuth("secret", first_delay_s=0.02, max_delay_s=0.16)
    delays = []
    start = time.perf_counter()
    for _ in range(5):
        auth.check("guess")
        delays.append(auth.failure_delay_s())
    assert time.perf_counter() - start >= 0.02 + 0.04 + 0.08 + 0.16 * 2
    assert delays == pytest.approx([0.02, 0.04, 0.08, 0.16, 0.16])
    start = time.perf_counter()
    assert auth.check("secret")
    assert time.perf_counter() - start < 0.1  # the right password is never made to wait the 0.16 s


def test_parallel_guesses_wait_one_after_another():
    auth = AdminAuth("secret", first_delay_s=0.05, max_delay_s=0.05)
    threads = [threading.Thread(target=auth.check, args=("guess",)) for _ in range(6)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.perf_counter() - start >= 6 * 0.05


def test_failures_are_forgotten_after_a_quiet_while():
    auth = AdminAuth("secret", first_delay_s=0.01, max_delay_s=1.0, forget_after_s=0.0)
    for _ in range(4):
        auth.check("guess")
    assert auth.failure_delay_s() == pytest.approx(0.01)


def test_the_password_never_shows_in_logs_or_repr(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    auth = AdminAuth("hunter2-secret", first_delay_s=0)
    auth.check("hunter2-secret")
    auth.check("wrong")
    with pytest.raises(PermissionError) as error:
        auth.require("hunter2-secre")
    captured = capsys.readouterr()
    for text in (caplog.text, captured.out, captured.err, repr(auth), str(error.value)):
        assert "hunter2" not in text
