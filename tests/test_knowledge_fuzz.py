"""Fuzz knowledge.load(): whatever the bytes, only KnowledgeError escapes (>= 1,000 inputs)."""
import io

from hypothesis import HealthCheck, given, settings, strategies as st

from models import knowledge as K
from models.charlstm import CharLSTM
from models.charrnn import CharRNN
from models.cnn import CNN
from models.mlp import MLP
from models.ttt_player import TicTacToeLSTM

VALID = [K.to_bytes(m) for m in (TicTacToeLSTM(hidden=4), MLP(hidden=2), CharRNN("xy\n", hidden=3),
                                  CNN(conv1=2, conv2=3), CharLSTM("xy\n", hidden=3))]
SETTINGS = settings(max_examples=600, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
seen = {"ok": 0, "refused": 0}


def load_or_refuse(data):
    try:
        K.load(data)
        seen["ok"] += 1
    except K.KnowledgeError as e:
        assert str(e), "a KnowledgeError must say why"
        seen["refused"] += 1


@SETTINGS
@given(st.one_of(st.binary(max_size=2000), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_random_bytes(data):
    load_or_refuse(data)
    load_or_refuse(io.BytesIO(data))


@st.composite
def mutated(draw):
    """A valid file with a few bytes flipped, a slice cut out, or junk spliced in."""
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "set", "cut", "insert", "truncate"]))
        i = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif how == "set":
            data[i] = draw(st.integers(0, 255))
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
@given(mutated())
def test_mutated_valid_files(data):
    load_or_refuse(data)


def test_fuzzing_ran_enough_inputs_and_valid_files_still_load():
    if seen["ok"] + seen["refused"] < 1000:     # run on its own (-k): run the fuzzers here
        test_random_bytes()
        test_mutated_valid_files()
    assert seen["ok"] + seen["refused"] >= 1000, seen
    for data in VALID:
        assert K.load(data) is not None
