"""The hub exchange's files without a hub: archive checks, atomic placing, timestamps, the
one-sentence refusals and the default address (tests/test_hub_exchange.py runs a real hub)."""

from __future__ import annotations

import datetime as dt
import io
import os
import tarfile
from pathlib import Path

import pytest
from nbgrader.utils import parse_utc

from autograd_lab_course.exchange.client import ExchangeClient, default_url
from autograd_lab_course.exchange.store import (
    ArchiveError,
    Store,
    check_name,
    pack,
    submission_id,
    timestamp,
    unpack,
)

MIB = 2**20


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../escape.txt", "/etc/passwd",
                                  "./../x", "a\\..\\x"])
def test_names_outside_the_folder_are_refused_and_nothing_is_written(
        tmp_path: Path, name: str) -> None:
    archive = tar_of((member("ok.txt"), b"fine"), (member(name), b"bad"))
    with pytest.raises(ArchiveError, match="outside its folder"):
        unpack(archive, tmp_path / "out", MIB)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


@pytest.mark.parametrize("kind,link", [(tarfile.SYMTYPE, "/etc/passwd"),
                                       (tarfile.LNKTYPE, "ok.txt"),
                                       (tarfile.CHRTYPE, ""), (tarfile.FIFOTYPE, "")])
def test_links_and_devices_are_refused(tmp_path: Path, kind: bytes, link: str) -> None:
    archive = tar_of((member("ok.txt"), b"fine"), (member("odd", kind, link), None))
    with pytest.raises(ArchiveError, match="link or a device"):
        unpack(archive, tmp_path / "out", MIB)
    assert not (tmp_path / "out").exists()


def test_oversize_counts_unpacked_bytes(tmp_path: Path) -> None:
    zeros = b"\0" * (MIB + 1)  # compresses to a few kB
    archive = tar_of((member("big.bin"), zeros))
    assert len(archive) < 10_000
    with pytest.raises(ArchiveError, match="larger than 1 MiB"):
        unpack(archive, tmp_path / "out", MIB)
    unpack(archive, tmp_path / "fits", 2 * MIB)
    assert (tmp_path / "fits" / "big.bin").read_bytes() == zeros


def test_not_an_archive_is_one_sentence(tmp_path: Path) -> None:
    for junk in (b"", b"not a tar", tar_of((member("a.txt"), b"x" * 5000))[:60]):
        with pytest.raises(ArchiveError, match=r"^the upload is not a gzip'd tar archive\.$"):
            unpack(junk, tmp_path / "out", MIB)
        assert not (tmp_path / "out").exists()


def test_pack_then_unpack_is_byte_identical_and_leaves_links_out(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.ipynb").write_bytes(os.urandom(3000))
    (src / "sub" / "b.txt").write_bytes(b"\x00\xffbytes")
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    (src / "link").symlink_to("/etc/passwd")
    unpack(pack(src, (".ipynb_checkpoints",)), tmp_path / "out", MIB)
    out = tmp_path / "out"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "a.ipynb", "sub", "sub/b.txt"]
    assert (out / "a.ipynb").read_bytes() == (src / "a.ipynb").read_bytes()
    assert (out / "sub" / "b.txt").read_bytes() == b"\x00\xffbytes"


def test_timestamp_is_nbgraders_format_in_utc() -> None:
    when = dt.datetime(2026, 12, 7, 12, 30, 1, 123456,
                       tzinfo=dt.timezone(dt.timedelta(hours=2)))
    stamp = timestamp(when)
    assert stamp == "2026-12-07 10:30:01.123456 UTC"
    assert parse_utc(stamp) == dt.datetime(2026, 12, 7, 10, 30, 1, 123456)
    assert submission_id(stamp) == "2026-12-07T10-30-01.123456Z"
    check_name("submission", submission_id(stamp))


@pytest.mark.parametrize("bad", ["", ".hidden", "a/b", "a+b", "..", "x" * 101, "a b"])
def test_names_with_separators_are_refused(bad: str) -> None:
    with pytest.raises(ArchiveError, match="is not a valid student name"):
        check_name("student", bad)


def test_a_submission_is_stored_under_the_given_name_at_the_service_clock(
        tmp_path: Path) -> None:
    store = Store(tmp_path / "root", MIB)
    files = tmp_path / "files"
    files.mkdir()
    (files / "ps1.ipynb").write_text("{}")
    (files / "timestamp.txt").write_text("1999-01-01 00:00:00.000000 UTC")  # client's: ignored
    when = dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.timezone.utc)
    first = store.submit("c", "student1", "ps1", store.unpack_new(pack(files)), when)
    second = store.submit("c", "student1", "ps1", store.unpack_new(pack(files)), when)
    assert first.timestamp == "2026-12-07 11:00:00.000000 UTC"
    assert second.timestamp == "2026-12-07 11:00:00.000001 UTC"  # same instant: never lost
    assert [s.id for s in store.submissions("c", "student1", "ps1")] == [first.id, second.id]
    assert store.submissions("c", "student2") == []
    folder = store.submitted("c", "student1", "ps1") / first.id
    assert (folder / "timestamp.txt").read_text() == first.timestamp
    assert first.notebooks == ("ps1",) and not first.has_feedback
    assert oct(os.stat(store.root).st_mode & 0o777) == "0o700"
    assert list(store.tmp.iterdir()) == []


def test_place_is_a_rename_and_replaces_only_when_asked(tmp_path: Path) -> None:
    store = Store(tmp_path / "root", MIB)
    old = tmp_path / "old"
    old.mkdir()
    (old / "a.txt").write_text("old")
    assert store.release("c", "ps1", pack(old), replace=False)
    new = tmp_path / "new"
    new.mkdir()
    (new / "a.txt").write_text("new")
    assert not store.release("c", "ps1", pack(new), replace=False)
    assert (store.released("c", "ps1") / "a.txt").read_text() == "old"
    inode_before = os.stat(store.released("c", "ps1")).st_ino
    assert store.release("c", "ps1", pack(new), replace=True)
    assert (store.released("c", "ps1") / "a.txt").read_text() == "new"
    assert os.stat(store.released("c", "ps1")).st_ino != inode_before  # a new folder renamed
    assert list(store.tmp.iterdir()) == []  # no temporary folder left behind
    assert store.unrelease("c", "ps1") and not store.released("c", "ps1").exists()
    assert not store.unrelease("c", "ps1")


def test_a_failed_unpack_leaves_the_released_folder_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "root", MIB)
    good = tmp_path / "good"
    good.mkdir()
    (good / "a.txt").write_text("kept")
    store.release("c", "ps1", pack(good), replace=False)
    with pytest.raises(ArchiveError):
        store.release("c", "ps1", tar_of((member("../x"), b"x")), replace=True)
    assert (store.released("c", "ps1") / "a.txt").read_text() == "kept"
    assert list(store.tmp.iterdir()) == []


def test_refusals_are_one_sentence() -> None:
    assert ExchangeClient.refusal("submission", "it is larger than 50 MiB unpacked.", 413) == (
        "the exchange refused the submission: it is larger than 50 MiB unpacked; remove "
        "large files and submit again.")
    assert ExchangeClient.refusal("collect", "only an instructor may collect submissions.",
                                  403) == ("the exchange refused the collect: only an "
                                           "instructor may collect submissions.")


def test_default_url_from_the_environment() -> None:
    assert default_url({"AUTOGRAD_LAB_EXCHANGE_URL": "http://x:8000/services/e"}) == (
        "http://x:8000/services/e/")
    assert default_url({"JUPYTERHUB_API_URL": "http://proxy-public/hub/api"}) == (
        "http://proxy-public/services/autograd-lab-exchange/")
