"""Checkpoints under fire: kill -9 in the middle of saves, and damaged bytes on load.

* A child process saves states A and B of a model in a loop and is killed with SIGKILL at
  a random moment, at least 30 times: the checkpoint always loads and equals A or B, each
  killed writer's temporary file is gone after the next save (the next child's or ours),
  and none is left at the end.
* 500 seeded random corruptions (bytes replaced, bits flipped, bytes inserted or deleted,
  the file truncated) each raise ValueError or load exactly the original content. The
  checksum covers the parsed content, so the only changes that load are whitespace
  between tokens and other spellings of the same numbers.
"""

import json
import os
import random
import shutil
import signal
import time

import pytest

import nn


def model(seed, sizes=(32, 32, 1)):
    return nn.MLP(2, list(sizes), rng=random.Random(seed))


def leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name != "model.json")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")
def test_kill_9_during_save_leaves_the_old_or_the_new_state_and_nothing_after_the_next_save(
    tmp_path,
):
    folder = tmp_path / "run"
    folder.mkdir()
    path = folder / "model.json"
    a, b = model(seed=1), model(seed=2)  # about 60 kB each, a few ms a save
    states = [a.state_dict(), b.state_dict()]
    started = time.perf_counter()
    nn.save(a, path)
    save_time = time.perf_counter() - started
    rng = random.Random(20261201)
    killed_mid_write = kills = 0
    killed: set = set()
    # 30 kills, and more if needed until at least 3 landed during a write (most land while
    # the text is encoded, before the temporary file exists) and the last one did, so
    # that the final save has a stale file to remove.
    while (kills < 30 or killed_mid_write < 3 or not leftovers(folder)) and kills < 300:
        kills += 1
        pid = os.fork()
        if pid == 0:  # the child: save A, B, A, ... until killed
            try:
                for i in range(10**9):
                    nn.save((a, b)[i % 2], path)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 3 * save_time))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)  # reaped, so the pid is dead for the stale-file check
        # A child's first save removes the files of the dead children before it (unless
        # it was killed before that): what is left belongs to killed children only.
        killed.add(f".model.json.tmp-{pid}")
        left = leftovers(folder)
        assert set(left) <= killed
        killed_mid_write += f".model.json.tmp-{pid}" in left
        # Check a copy, so that loading does not tidy the folder before the next save.
        copy = tmp_path / "copy.json"
        shutil.copyfile(path, copy)
        assert nn.load(copy)["state_dict"] in states
    assert killed_mid_write >= 3, "kills did not land during writes: the test tested little"
    assert leftovers(folder)
    nn.save(b, path)
    assert leftovers(folder) == []
    assert nn.load(path)["state_dict"] == states[1]


def corrupt(data: bytes, rng: random.Random) -> bytes:
    """``data`` with 1-4 bytes replaced, bits flipped, inserted or deleted, or truncated."""
    kind = rng.choice(["replace", "flip", "insert", "delete", "truncate"])
    out = bytearray(data)
    if kind == "truncate":
        return bytes(out[: rng.randrange(len(out))])
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out))
        if kind == "replace":
            out[at] = rng.randrange(256)
        elif kind == "flip":
            out[at] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            out.insert(at, rng.randrange(256))
        else:
            del out[at]
    return bytes(out)


def canonical(text) -> str:
    """The content of JSON ``text`` (bytes or str) with every float spelled one way."""
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_500_random_corruptions_raise_value_error_or_load_the_very_same_content(tmp_path):
    path = tmp_path / "model.json"
    nn.save(model(seed=3, sizes=(8, 1)), path)
    original = path.read_bytes()
    expected = nn.load(path)
    rng = random.Random(17)
    refused = same = 0
    for _ in range(500):
        damaged = corrupt(original, rng)
        if damaged == original:
            continue
        path.write_bytes(damaged)
        try:
            loaded = nn.load(path)
        except ValueError:
            refused += 1
            continue
        # Loaded: it must be the original content, number for number (-0.0 included),
        # and plain json must agree that only the spelling changed.
        assert json.dumps(loaded, sort_keys=True) == json.dumps(expected, sort_keys=True)
        assert canonical(damaged) == canonical(original)
        same += 1
    assert refused + same >= 490
    assert same < 50  # whitespace and equivalent spellings only: rare
