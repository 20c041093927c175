"""Settings in the address, in CPython: split, check and write `#view?name=value&…`."""
import pytest

from app.hash_settings import Choice, Number, format_hash, read_settings, split_hash, view_name, write_settings

KINDS = {"model": Choice({"mlp": "mnist-mlp", "cnn": "mnist-cnn"}), "lr": Number(1e-4, 0.316, digits=3),
         "batch": Number(1, 256, whole=True)}


@pytest.mark.parametrize("hash_text, view", [("", ""), ("#", ""), ("#digits", "digits"),
                                             ("#digits?model=cnn", "digits"), ("#text?", "text"), ("#?t=1", "")])
def test_only_the_part_before_the_question_mark_names_the_view(hash_text, view):
    assert view_name(hash_text) == view == split_hash(hash_text)[0]


def test_a_link_sets_what_is_valid_and_names_each_value_it_ignores():
    view, raw = split_hash("#digits?model=cnn&lr=0.002&batch=64")
    assert (view, read_settings(raw, KINDS)) == ("digits", ({"model": "mnist-cnn", "lr": 0.002, "batch": 64}, []))
    values, ignored = read_settings(split_hash("#digits?model=rnn&lr=abc&batch=6.5&lr2=1&batch=300")[1], KINDS)
    assert values == {}
    assert ignored == ["model='rnn': it is not one of mlp, cnn",
                       "lr='abc': it is not a number from 0.0001 to 0.316",
                       "batch='300': it is not a whole number from 1 to 256",    # the last of two wins
                       "“lr2” is not a setting here (they are model, lr, batch)"]
    for text in ("nan", "inf", "-1", "", "1e9"):
        assert read_settings({"lr": text}, KINDS)[0] == {}


def test_written_settings_read_back_the_same_and_keep_their_order():
    values = {"batch": 64.0, "lr": 0.0019952623, "model": "mnist-cnn"}
    written = write_settings(values, KINDS)
    assert format_hash("digits", written) == "#digits?model=cnn&lr=0.002&batch=64"
    assert read_settings(split_hash(format_hash("digits", written))[1], KINDS)[0] == {
        "model": "mnist-cnn", "lr": 0.002, "batch": 64}
    assert format_hash("text", {}) == "#text"
    assert split_hash(format_hash("x", {"a b": "c&d=e"}))[1] == {"a b": "c&d=e"}    # escaped both ways
