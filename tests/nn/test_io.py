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
    assert data["format"] == "chainrule.state_dict" and data["version"] == 2
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
    with pytest.raises(ValueError, match=r"unexpected: 4 \(layers.0.neurons.4.w.0, "):
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
        (
            b'{"format": "chainrule.state_dict", "version": 1}',
            r"missing \['module', 'state_dict'\]",
        ),
        (
            b'{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            b'"state_dict": {"w": "1"}}',
            "must be a number",
        ),
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


# -- what load accepts: only files save writes, checked before anything is returned ------


def write(tmp_path, text, name="bad.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def checkpoint_text(tmp_path):
    path = tmp_path / "model.json"
    nn.save(model(), path)
    return path, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_is_a_value_error_not_a_recursion_error(tmp_path, depth):
    path = write(tmp_path, "[" * depth + "]" * depth)
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        nn.load(path)


def test_nesting_is_counted_outside_strings_only(tmp_path):
    path = tmp_path / "run.json"
    record = {"brackets": "[" * 500 + "{" * 500, "nested": [[[[1]]]]}
    nn.save(record, path)
    assert nn.load(path) == record


def test_save_refuses_what_load_would_refuse_as_too_deep(tmp_path):
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        nn.save({"deep": deep}, tmp_path / "deep.json")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("spelling", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999"])
def test_non_finite_numbers_are_refused_in_any_spelling(tmp_path, spelling):
    _, text = checkpoint_text(tmp_path)
    # Put the spelling in place of the first weight (the checksum no longer matters: the
    # number is refused while parsing).
    name = '"layers.0.neurons.0.w.0": '
    start = text.index(name) + len(name)
    end = text.index(",", start)
    path = write(tmp_path, text[:start] + spelling + text[end:])
    with pytest.raises(ValueError, match=r"not a finite number|out of range"):
        nn.load(path)
    plain = write(
        tmp_path,
        '{"format": "chainrule.dict", "version": 2, "sha256": "0", '
        f'"data": {{"x": [1, {spelling}]}}}}',
        name="plain.json",
    )
    with pytest.raises(ValueError, match=r"not a finite number|out of range"):
        nn.load(plain)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", 'no "format" field'),
        ('{"state_dict": {"w": 1.0}}', 'no "format" field'),
        ('{"steps": 3}', r"no \"format\" field.*json\.load"),
        ('{"format": "torch.state_dict", "version": 1, "state_dict": {}}', "has format"),
        ('{"format": ["chainrule.state_dict"], "version": 1}', "has format"),
        ('{"format": "chainrule.state_dict", "module": "MLP", "state_dict": {}}', "no version"),
        ('{"format": "chainrule.state_dict", "version": 3}', "version 3; this chainrule"),
        ('{"format": "chainrule.state_dict", "version": "1"}', "version '1'"),
        ('{"format": "chainrule.state_dict", "version": 1.0}', "version 1.0"),
        ('{"format": "chainrule.state_dict", "version": true}', "version True"),
        ('{"format": "chainrule.dict", "version": 1, "data": {}}', "version 1; this chainrule"),
        (
            '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            '"state_dict": {}, "extra": 1}',
            r"unexpected \['extra'\]",
        ),
        (
            # A version 1 file never had a checksum: a version 2 file with its version
            # changed is refused rather than read without checking.
            '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            '"sha256": "ab", "state_dict": {}}',
            r"unexpected \['sha256'\]",
        ),
        (
            '{"format": "chainrule.state_dict", "version": 2, "module": "MLP", "state_dict": {}}',
            r"missing \['sha256'\]",
        ),
        (
            '{"format": "chainrule.state_dict", "version": 1, "module": 3, "state_dict": {}}',
            "module must be a string",
        ),
        (
            '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            '"state_dict": [1.0]}',
            "without a state_dict",
        ),
        (
            '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            '"state_dict": {"w": true}}',
            "must be a number",
        ),
        (
            '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            '"state_dict": {"w": null}}',
            "must be a number",
        ),
        (
            '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
            '"state_dict": {"w": 1' + "0" * 400 + "}}",
            "must be a number",
        ),
        ('{"x": 1' + "0" * 5000 + "}", "digits"),
    ],
)
def test_files_that_are_not_checkpoints_this_version_reads_are_value_errors(
    tmp_path, text, message
):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as error:
        nn.load(path)
    assert str(path) in str(error.value)


def test_empty_dict_no_longer_loads_to_fail_later_with_a_key_error(tmp_path):
    path = write(tmp_path, "{}")
    with pytest.raises(ValueError):
        nn.load(path)["state_dict"]


@pytest.mark.parametrize(
    "text",
    [
        '{"format": "chainrule.state_dict", "format": "chainrule.state_dict", "version": 1, '
        '"module": "MLP", "state_dict": {}}',
        '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
        '"state_dict": {"w": 1.0, "w": 2.0}}',
        '{"format": "chainrule.state_dict", "version": 1, "module": "MLP", '
        '"state_dict": {"w": 1.0, "\\u0077": 2.0}}',
    ],
)
def test_duplicate_keys_are_refused(tmp_path, text):
    with pytest.raises(ValueError, match="appears twice"):
        nn.load(write(tmp_path, text))


# -- the checksum -----------------------------------------------------------------------


def test_every_new_file_carries_a_checksum_of_its_canonical_content(tmp_path):
    import hashlib

    path, text = checkpoint_text(tmp_path)
    data = json.loads(text)
    recorded = data.pop("sha256")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    assert recorded == hashlib.sha256(canonical.encode()).hexdigest()
    assert "sha256" not in nn.load(path)
    nn.save({"a": 1}, path)
    assert json.loads(path.read_text())["format"] == "chainrule.dict"
    assert "sha256" in json.loads(path.read_text())


def test_a_changed_digit_fails_the_checksum(tmp_path):
    path, text = checkpoint_text(tmp_path)
    name = '"layers.0.neurons.0.w.0": '
    at = text.index(name) + len(name) + 3  # a digit of the first weight
    digit = text[at]
    assert digit.isdigit()
    write(tmp_path, text[:at] + str((int(digit) + 1) % 10) + text[at + 1 :], "model.json")
    with pytest.raises(ValueError, match="fails its checksum"):
        nn.load(path)


def test_a_changed_plain_dict_fails_the_checksum(tmp_path):
    path = tmp_path / "run.json"
    nn.save({"steps": 30}, path)
    path.write_text(path.read_text().replace("30", "31"))
    with pytest.raises(ValueError, match="fails its checksum"):
        nn.load(path)


def test_reindented_file_keeps_its_checksum_and_numbers(tmp_path):
    path, text = checkpoint_text(tmp_path)
    before = nn.load(path)
    write(tmp_path, json.dumps(json.loads(text), indent=4), "model.json")
    assert nn.load(path) == before


def test_version_1_checkpoints_without_checksum_still_load(tmp_path):
    source = model(seed=4)
    legacy = {
        "format": "chainrule.state_dict",
        "version": 1,
        "module": "MLP",
        "state_dict": source.state_dict(),
    }
    path = write(tmp_path, json.dumps(legacy, indent=1) + "\n", "old.json")
    data = nn.load(path)
    assert data == legacy
    target = model(seed=5)
    target.load_state_dict(data["state_dict"])
    assert target.state_dict() == source.state_dict()


def test_plain_dict_that_looks_like_a_checkpoint_round_trips(tmp_path):
    path, _ = checkpoint_text(tmp_path)
    loaded = nn.load(path)
    copy = tmp_path / "copy.json"
    nn.save(loaded, copy)
    assert nn.load(copy) == loaded


def test_plain_dict_keys_and_tuples_round_trip_as_json_reads_them(tmp_path):
    path = tmp_path / "run.json"
    nn.save({1: (1, 2), "b": {"c": [True, None, "é"]}}, path)
    assert nn.load(path) == {"1": [1, 2], "b": {"c": [True, None, "é"]}}


# -- size limit -------------------------------------------------------------------------


def test_files_over_max_bytes_are_refused_with_the_limit_named(tmp_path):
    path, text = checkpoint_text(tmp_path)
    size = len(text.encode())
    with pytest.raises(ValueError, match=rf"{size:,} bytes.*max_bytes={size - 1:,}"):
        nn.load(path, max_bytes=size - 1)
    assert nn.load(path, max_bytes=size)["module"] == "MLP"
    assert nn.io.MAX_BYTES == 100_000_000


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "10"])
def test_max_bytes_must_be_a_positive_int(tmp_path, limit):
    path, _ = checkpoint_text(tmp_path)
    with pytest.raises(ValueError, match="max_bytes must be a positive int"):
        nn.load(path, max_bytes=limit)


# -- saves that leave nothing behind ----------------------------------------------------


def dead_pid():
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid no longer names a process
    return child.pid


def test_temporary_file_is_named_after_the_target_and_the_process(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    seen = []
    real_fsync = os.fsync

    def look(fd):
        seen.append(sorted(os.listdir(tmp_path)))
        real_fsync(fd)

    monkeypatch.setattr(nn.io.os, "fsync", look)
    nn.save(model(), path)
    assert seen[0] == [f".model.json.tmp-{os.getpid()}"]
    assert os.listdir(tmp_path) == ["model.json"]


@pytest.mark.parametrize("then", ["save", "load"])
def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path, then):
    path = tmp_path / "model.json"
    nn.save(model(), path)
    stale = tmp_path / f".model.json.tmp-{dead_pid()}"
    stale.write_text('{"half": ')
    mine = tmp_path / f".model.json.tmp-{os.getpid()}"  # left by a dead holder of my pid
    mine.write_text("")
    other_target = tmp_path / f".other.json.tmp-{dead_pid()}"
    other_target.write_text("")
    not_ours = tmp_path / ".model.json.tmp-12x"
    not_ours.write_text("")
    if then == "save":
        nn.save(model(), path)
    else:
        nn.load(path)
    assert sorted(os.listdir(tmp_path)) == sorted(
        [".model.json.tmp-12x", other_target.name, "model.json"]
    )


def test_a_live_process_temporary_file_is_never_removed(tmp_path):
    path = tmp_path / "model.json"
    live = tmp_path / f".model.json.tmp-{os.getppid()}"
    live.write_text("being written")
    nn.save(model(), path)
    nn.load(path)
    assert live.read_text() == "being written"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_saving_over_a_file_keeps_its_permission_bits(tmp_path, mode):
    path = tmp_path / "model.json"
    nn.save(model(), path)
    os.chmod(path, mode)
    nn.save(model(seed=2), path)
    assert path.stat().st_mode & 0o777 == mode
    assert nn.load(path)["state_dict"] == model(seed=2).state_dict()


@pytest.mark.parametrize("target", ["", ".", "folder", "folder/", "folder" + os.sep])
@pytest.mark.parametrize("operation", ["save", "load"])
def test_an_empty_or_folder_path_is_a_value_error_before_anything_is_written(
    tmp_path, monkeypatch, target, operation
):
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="path is empty|is a folder"):
        if operation == "save":
            nn.save(model(), target)
        else:
            nn.load(target)
    assert sorted(os.listdir(tmp_path)) == ["folder"]
    assert os.listdir(tmp_path / "folder") == []


def test_the_file_is_fsynced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to tell a folder descriptor from a file's")
    monkeypatch.setattr(nn.io.os, "fsync", fsync)
    monkeypatch.setattr(nn.io.os, "replace", replace)
    nn.save(model(), path)
    assert events == ["fsync file", "replace", "fsync folder"]


# -- module-specific validation ---------------------------------------------------------


@pytest.mark.parametrize("variance", [-1e-3, -math.inf, math.nan])
def test_batchnorm_refuses_a_negative_or_non_finite_running_variance(variance):
    bn = nn.BatchNorm1d(2)
    before = bn.state_dict()
    state = dict(before, **{"running_var.1": variance, "running_mean.0": 5.0, "gamma.0": 3.0})
    with pytest.raises(ValueError, match="running_var.1"):
        bn.load_state_dict(state)
    assert bn.state_dict() == before
    bn.eval()
    bn([[0.5, -0.5]])  # still usable


def test_batchnorm_inside_a_model_is_checked_under_its_full_name():
    class Net(nn.Module):
        def __init__(self):
            self.body = [nn.BatchNorm1d(1), nn.BatchNorm1d(2)]

    net = Net()
    before = net.state_dict()
    state = dict(before, **{"body.1.running_var.0": -1.0})
    with pytest.raises(ValueError, match=r"body\.1\.running_var\.0 is a variance"):
        net.load_state_dict(state)
    assert net.state_dict() == before
    net.load_state_dict(dict(before, **{"body.1.running_var.0": 0.0}))
    assert net.state_dict()["body.1.running_var.0"] == 0.0


def test_a_module_check_runs_before_anything_changes():
    calls = []

    class Picky(nn.Module):
        def __init__(self):
            self.w = nn.Neuron(1, "relu", rng=random.Random(0)).w

        def _check_state(self, state, prefix):
            calls.append(prefix)
            if state[prefix + "w.0"] > 1:
                raise ValueError("too big")

    class Outer(nn.Module):
        def __init__(self):
            self.first = nn.Neuron(1, "relu", rng=random.Random(1))
            self.inner = Picky()

    outer = Outer()
    before = outer.state_dict()
    with pytest.raises(ValueError, match="too big"):
        outer.load_state_dict(dict(before, **{"inner.w.0": 2.0, "first.w.0": 0.25}))
    assert outer.state_dict() == before
    assert calls == ["inner."]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_a_save_holds_the_lock_can_still_save(tmp_path):
    import signal

    path = tmp_path / "model.json"
    with nn.io._lock:  # as if another thread were saving at the moment of the fork
        pid = os.fork()
        if pid == 0:
            try:
                signal.alarm(5)  # a deadlocked child dies of SIGALRM
                nn.save({"child": True}, path)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), "the child hung on the inherited lock"
    assert nn.load(path) == {"child": True}
