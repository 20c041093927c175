"""The page's status lines and messages read as clean sentences, whatever the values in them."""
import re

import pytest

from app.digits_session import DigitsSession
from app.training_loop import TrainingLoop
from app.wording import predictor_line, sentence


def assert_clean(text):
    """Sentences that end once: no '..', no ') (', no double spaces, a stop at the end."""
    assert not re.search(r"[.!?:;,]\s*[.!?:;,]|\)\s*\(|\s\s", text), text
    assert text[-1] in ".!?", text


@pytest.mark.parametrize("args, expected", [
    (("the model in training", 0.947, 3922),
     "Predicting with the model in training at step 3,922 (held-out accuracy 94.7%)."),
    (("the model in training", None, 12), "Predicting with the model in training at step 12."),
    (("the shipped knowledge", 0.982), "Predicting with the shipped knowledge (held-out accuracy 98.2%)."),
    (("your file mine.npz", None), "Predicting with your file mine.npz."),
])
def test_the_predictor_line_is_one_sentence(args, expected):
    assert predictor_line(*args) == expected
    assert_clean(expected)


@pytest.mark.parametrize("error", [
    RuntimeError("the worker ran out of memory"),
    FloatingPointError("the loss became nan at step 5; the learning rate 0.3 is too high."),
    KeyError("images"),
])
def test_training_failures_say_what_happened_and_what_to_do_in_sentences(error):
    digits = DigitsSession.failure_message(DigitsSession.__new__(DigitsSession), error)
    what, advice = digits.split(" Press Reset")
    assert what.startswith("Training stopped: ") and what[-1] in ".!?", f"a run-on sentence: {digits}"
    assert_clean(digits)
    text = TrainingLoop(report=None).failure_message(error)
    assert text.startswith("Training stopped: ")
    assert_clean(text)


@pytest.mark.parametrize("words, expected", [
    ("could not download knowledge/x.npz: the server answered HTTP 404",
     "could not download knowledge/x.npz: the server answered HTTP 404."),
    ("could not download x.npz: NetworkError when attempting to fetch resource.",   # Firefox's own stop
     "could not download x.npz: NetworkError when attempting to fetch resource."),
    ("Loading your text failed: a.txt has 12 characters; give it at least 5,000 ",
     "Loading your text failed: a.txt has 12 characters; give it at least 5,000."),
    ("You win!", "You win!"),
])
def test_a_message_ends_in_exactly_one_stop(words, expected):
    assert sentence(words) == expected
