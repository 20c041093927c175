"""Training checkpoints (models/checkpoint.py) in CPython: resuming takes bit for bit the step that
never stopping takes, for both digits models and both text models; and a saved state is read
like an upload — damaged, foreign or hand-edited bytes give a CheckpointError, never a traceback."""
import asyncio
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app import digits_session, text_session
from app.digits_session import DigitsSession
from app.text_session import TextSession
from models import blocks, checkpoint
from models.charlstm import CharLSTM
from models.charrnn import CharRNN
from models.checkpoint import CheckpointError
from tests.support.data import build_embedded
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parent.parent
TEXT = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 40)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with FaultServer(build_embedded(tmp_path_factory.mktemp("checkpoint") / "mnist")) as server:
        yield server


def digits(server, kind):
    url = server.url + "manifest.json"
    reports = []
    return DigitsSession(blocks.read_manifest(url), url, http_get, lambda k, p: reports.append((k, p)), kind=kind), reports


async def train_then_pause(session, steps):
    session.start()
    while session.iteration < steps and session.state == "running":
        await asyncio.sleep(0.005)
    await session.pause()


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("kind", ["mnist-mlp", "mnist-cnn"])
def test_a_resumed_digits_session_takes_the_same_next_step_bit_for_bit(server, kind):
    original, reports = digits(server, kind)
    original.set_lr(3e-3)
    resumed, resumed_reports = digits(server, kind)

    async def run():
        await train_then_pause(original, 5)
        saved = [p for k, p in reports if k == "checkpoint"][-1]     # the one Pause sent
        await resumed.restore(saved)
        assert resumed.state == "paused" and resumed.iteration == original.iteration
        assert resumed.lr == original.lr == 3e-3
        assert resumed.loss_points == original.loss_points and resumed.acc_points == original.acc_points
        assert (resumed.confusion == original.confusion).all()
        # the same next batch through both: never stopped, and stopped then resumed
        x, y = original.test_set[0][:32], original.test_set[1][:32]
        loss_a, loss_b = original.model.train_step(x, y), resumed.model.train_step(x, y)
        assert loss_a == loss_b
        assert same_bits(original.model.flat, resumed.model.flat)
        assert same_bits(original.model.opt.u["flat"], resumed.model.opt.u["flat"])
        assert same_bits(original.model.opt.w["flat"], resumed.model.opt.w["flat"])
        assert original.model.opt.t == resumed.model.opt.t == original.iteration + 1
        # and it trains on from there, counting on from the saved step
        resumed.start()
        while resumed.iteration < original.iteration + 2:
            await asyncio.sleep(0.005)
        await resumed.pause()
        for session in (original, resumed):
            await session.stop()
            await session.cache.aclose()
    asyncio.run(run())
    kinds = [k for k, _ in resumed_reports]
    assert kinds[-3:] == ["weights", "status", "checkpoint"], "a resumed session reports like any other"
    restored_at = kinds.index("model", 1)      # the first is the fresh model the session began with
    restore_reports = kinds[restored_at:restored_at + 3]
    assert restore_reports == ["model", "status", "weights"], "the restored status comes before its weights"


@pytest.mark.parametrize("kind", [CharRNN, CharLSTM])
def test_a_resumed_text_session_takes_the_same_next_step_bit_for_bit(kind):
    reports = []
    original = TextSession(kind("".join(sorted(set(TEXT))), hidden=16), TEXT, lambda k, p: reports.append((k, p)))
    for _ in range(7):
        asyncio.run(original.step())
    resumed = TextSession.from_checkpoint(original.checkpoint(), lambda k, p: None)
    assert resumed.state == "paused" and resumed.iteration == 7 and resumed.loss_points == original.loss_points
    for _ in range(3):      # the windows go on from the same place, with the same carried state
        assert original.trainer.step() == resumed.trainer.step()
    for name, p in original.model.params.items():
        assert same_bits(p, resumed.model.params[name]), name
        assert same_bits(original.trainer.opt.u[name], resumed.trainer.opt.u[name])
        assert same_bits(original.trainer.opt.w[name], resumed.trainer.opt.w[name])
    state_a, state_b = (s if isinstance(s, tuple) else (s,) for s in (original.trainer.state, resumed.trainer.state))
    assert all(same_bits(a, b) for a, b in zip(state_a, state_b))


def test_a_text_checkpoint_carries_its_own_training_text():
    corpus = "ß∂ƒ©˙∆˚¬…æ" * 200 + "\n"
    session = TextSession(CharRNN(text_session.vocabulary(corpus), hidden=8), corpus, lambda k, p: None)
    saved = text_session.read_checkpoint(session.checkpoint())
    assert saved.corpus == corpus and saved.model.vocab == session.model.vocab


# -- refusals ----------------------------------------------------------------------------------
def small_digits_checkpoint():
    from models.mlp import MLP
    model = MLP(hidden=3)
    model.train_step(np.zeros((2, 784), np.float32), [1, 2])
    progress = {"iteration": 1, "samples": 2, "loss": 2.3, "test_acc": 0.5, "lr": 1e-3, "batch_size": 2,
                "cache_size": 6, "seed": 0, "test_digits": 10}
    series = {"loss_points": np.array([[1, 2.3]]), "acc_points": np.array([[1, 0.5]]),
              "confusion": np.eye(10, dtype=np.int64)}
    return checkpoint.encode("digits", model, model.opt, progress, series)


def small_text_checkpoint(kind=CharLSTM):
    session = TextSession(kind("".join(sorted(set(TEXT))), hidden=4), TEXT[:800], lambda k, p: None)
    asyncio.run(session.step())
    return session.checkpoint()


def rewritten(data, change_meta=None, replace=None, drop=None):
    """The checkpoint with its meta edited, a member replaced or dropped (a hand-edited save)."""
    members = dict(np.load(io.BytesIO(data), allow_pickle=False))
    meta = json.loads(str(members["meta"]))
    if change_meta:
        change_meta(meta)
    members["meta"] = np.array(json.dumps(meta))
    members.update(replace or {})
    for name in drop or ():
        del members[name]
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def refused(data, reader=digits_session.read_checkpoint):
    with pytest.raises(CheckpointError) as caught:
        reader(data)
    assert str(caught.value)
    return str(caught.value)


def test_valid_checkpoints_read_back():
    assert digits_session.read_checkpoint(small_digits_checkpoint()).progress["iteration"] == 1
    assert text_session.read_checkpoint(small_text_checkpoint()).progress["iteration"] == 1


def test_foreign_and_edited_checkpoints_are_refused_with_a_reason():
    good = small_digits_checkpoint()
    assert "not a Falken training checkpoint" in refused(rewritten(good, lambda m: m.update(format="other")))
    assert "version 2" in refused(rewritten(good, lambda m: m.update(version=2)))
    assert "text" in refused(good, text_session.read_checkpoint), "a digits save is not a text save"
    assert "iteration" in refused(rewritten(good, lambda m: m["progress"].update(iteration=-4)))
    assert "lr" in refused(rewritten(good, lambda m: m["progress"].update(lr="fast")))
    assert "t" in refused(rewritten(good, lambda m: m["optimizer"].update(t=1.5)))
    for beta in (0, 1, 1e-4):       # Adam divides by a power of each; 0 and 1 break its step too
        assert "beta1" in refused(rewritten(good, lambda m: m["optimizer"].update(beta1=beta)))
        assert "beta2" in refused(rewritten(good, lambda m: m["optimizer"].update(beta2=beta)))
    assert "hyper" in refused(rewritten(good, lambda m: m["model"]["hyper"].update(hidden=10**9)))
    assert "kind" in refused(rewritten(good, lambda m: m["model"].update(kind="tictactoe-lstm")))
    assert refused(rewritten(good, drop=["adam.w.flat"]))
    assert "NaN" in refused(rewritten(good, replace={"model.W1": np.full((784, 3), np.nan, np.float32)}))
    assert "shape" in refused(rewritten(good, replace={"adam.u.flat": np.zeros(5, np.float32)}))
    assert "negative" in refused(rewritten(good, replace={"adam.w.flat": -np.ones(784 * 3 + 3 + 30 + 10, np.float32)}))
    assert "unexpected" in refused(rewritten(good, replace={"payload": np.zeros(3, np.float32)}))
    assert "does not keep" in refused(rewritten(good, lambda m: m["extra"].update(evil=["float32", [1]]),
                                                replace={"extra.evil": np.zeros(1, np.float32)}))
    assert "type" in refused(rewritten(good, lambda m: m["extra"].update(confusion=["float64", [10, 10]]),
                                       replace={"extra.confusion": np.eye(10)}))
    assert "pickled" in refused(rewritten(good, replace={"extra.confusion": np.array([{"a": 1}] * 100, object).reshape(10, 10)}))


def test_edited_text_checkpoints_are_refused():
    good = small_text_checkpoint()
    reader = text_session.read_checkpoint
    assert "UTF-8" in refused(rewritten(good, lambda m: m["extra"].update(corpus=["uint8", [1]]),
                                        replace={"extra.corpus": np.array([0xff], np.uint8)}), reader)
    strange = np.frombuffer("zzz€".encode() * 300, np.uint8)
    assert "does not know" in refused(rewritten(good, lambda m: m["extra"].update(corpus=["uint8", [strange.size]]),
                                                replace={"extra.corpus": strange}), reader)
    wrong_state = rewritten(good, lambda m: m["extra"].update({"state.1": ["float32", [4, 3]]}),
                            replace={"extra.state.1": np.zeros((4, 3), np.float32)})
    with pytest.raises(CheckpointError, match="recurrent state"):
        TextSession.from_checkpoint(wrong_state, lambda k, p: None)
    assert "empty" in refused(b"", reader)
    assert "zip" in refused(b"garbage, not a checkpoint", reader)


VALID = [small_digits_checkpoint(), small_text_checkpoint(CharRNN)]
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def damaged(draw):
    """A valid checkpoint with bytes flipped, cut out, spliced in, or its tail lost."""
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        i = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif how == "cut":
            del data[i:i + draw(st.integers(1, 64))]
        elif how == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[i:]
        if not data:
            break
    return bytes(data)


@SETTINGS
@given(st.one_of(damaged(), st.binary(max_size=500), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_damaged_bytes_give_a_checkpoint_error_or_a_valid_checkpoint(data):
    for reader in (digits_session.read_checkpoint, text_session.read_checkpoint):
        try:
            reader(data)
        except CheckpointError as error:
            assert str(error)


def test_a_checkpoint_is_a_zip_of_npy_members_numpy_opens_without_pickle():
    with zipfile.ZipFile(io.BytesIO(VALID[0])) as archive:
        names = sorted(archive.namelist())
    assert names == ["adam.u.flat.npy", "adam.w.flat.npy", "extra.acc_points.npy", "extra.confusion.npy",
                     "extra.loss_points.npy", "meta.npy", "model.W1.npy", "model.W2.npy", "model.b1.npy", "model.b2.npy"]
    meta = json.loads(str(np.load(io.BytesIO(VALID[0]), allow_pickle=False)["meta"]))
    assert (meta["format"], meta["version"], meta["session"]) == ("falken-checkpoint", 1, "digits")
