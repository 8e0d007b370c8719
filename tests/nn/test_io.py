"""Checkpoints: round trips, validation on load, and atomic writes that survive failures."""

import json
import math
import os
import random

import pytest

import nn
import nn.io


def model(seed=0, sizes=(4, 1)):
    return nn.MLP(2, list(sizes), rng=random.Random(seed))


def test_module_round_trip_restores_every_value(tmp_path):
    path = tmp_path / "model.json"
    source = model(seed=1)
    nn.save(source, path)
    data = nn.load(path)
    assert data["format"] == "chainrule.state_dict" and data["version"] == 1
    assert data["module"] == "MLP"
    target = model(seed=2)
    target.load_state_dict(data["state_dict"])
    assert target.state_dict() == source.state_dict()  # floats survive JSON exactly
    assert target([0.3, -0.2]).data == source([0.3, -0.2]).data


def test_plain_dict_round_trip(tmp_path):
    path = str(tmp_path / "run.json")
    record = {"steps": 3, "losses": [0.5, 0.25], "name": "moons"}
    nn.save(record, path)
    assert nn.load(path) == record


def test_checkpoint_of_another_architecture_leaves_the_model_unchanged(tmp_path):
    path = tmp_path / "other.json"
    nn.save(model(sizes=(5, 1)), path)
    target = model(seed=3)
    before = target.state_dict()
    with pytest.raises(ValueError, match="unexpected: layers.0.neurons.4.w.0"):
        target.load_state_dict(nn.load(path)["state_dict"])
    assert target.state_dict() == before


def test_save_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "model.json"
    nn.save({"old": 1}, path)
    nn.save({"new": 2}, path)
    assert nn.load(path) == {"new": 2}


@pytest.mark.parametrize("cut", [1, 10, 100, -2])
def test_truncated_file_raises_value_error_naming_it(tmp_path, cut):
    path = tmp_path / "model.json"
    nn.save(model(), path)
    text = path.read_text()
    path.write_text(text[:cut])
    with pytest.raises(ValueError, match=r"model\.json is not valid JSON.*truncated"):
        nn.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON"),
        (b"[1, 2, 3]", "holds a JSON list, expected an object"),
        (b'{"x": NaN}', "not valid JSON"),
        (b"\xff\xfe\x00", "not a UTF-8 text file"),
        (b'{"format": "chainrule.state_dict", "version": 1}', "without a state_dict"),
        (b'{"format": "chainrule.state_dict", "state_dict": {"w": "1"}}', "must be a number"),
    ],
)
def test_invalid_content_raises_value_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        nn.load(path)
    assert str(path) in str(error.value)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nothing.json")


def leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name != "model.json")


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_mid_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path, monkeypatch, failing
):
    path = tmp_path / "model.json"
    old = model(seed=1)
    nn.save(old, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(nn.io.os, failing, fail)
    with pytest.raises(OSError, match="disk full"):
        nn.save(model(seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    nn.load(path)


def test_interrupt_mid_write_also_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    nn.save({"old": True}, path)

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.io.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        nn.save({"new": True}, path)
    monkeypatch.undo()
    assert nn.load(path) == {"old": True}
    assert leftovers(tmp_path) == []


def test_unsavable_objects_fail_before_touching_the_disk(tmp_path):
    path = tmp_path / "model.json"
    nn.save({"old": True}, path)
    broken = model()
    broken.parameters()[0].data = math.nan
    with pytest.raises(ValueError, match="non-finite"):
        nn.save(broken, path)
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        nn.save({"f": print}, path)
    with pytest.raises(TypeError, match="Module or a dict"):
        nn.save([1, 2], path)
    assert nn.load(path) == {"old": True}
    assert leftovers(tmp_path) == []


def test_checkpoint_is_json_text_not_pickle(tmp_path):
    path = tmp_path / "model.json"
    nn.save(model(), path)
    assert json.loads(path.read_text(encoding="utf-8"))["module"] == "MLP"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_checkpoint_gets_ordinary_file_permissions(tmp_path):
    path = tmp_path / "model.json"
    nn.save({"a": 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
