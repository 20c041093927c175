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


def test_the_restored_notice_says_the_step_and_how_long_ago_in_words():
    from app.wording import restored_line
    assert restored_line(4210, 130) == "Restored your training from step 4,210, saved 2 minutes ago."
    assert restored_line(1, 2) == "Restored your training from step 1, saved just now."
    assert restored_line(0, 42) == "Restored your training from step 0, saved 42 seconds ago."
    assert restored_line(7, 3600) == "Restored your training from step 7, saved 1 hour ago."
    assert restored_line(7, 3 * 86400) == "Restored your training from step 7, saved 3 days ago."
    assert restored_line(7, -50) == "Restored your training from step 7, saved just now.", "a clock set back"
