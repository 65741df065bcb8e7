"""Multiple choice: which way of turning gradients off fits a situation.

Options: ``a`` = ``requires_grad_(False)`` (a leaf stops requiring grad, for good),
``b`` = ``detach()`` (a new tensor sharing storage, outside the graph),
``c`` = ``with torch.no_grad():`` (nothing computed inside the block is recorded).
The claims in the explanations are checked against torch in tests/test_exercises.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_lab.verdict import Verdict, cannot_check, not_attempted, unanswered, wrong

OPTIONS: dict[str, str] = {
    "a": "requires_grad_(False)",
    "b": "detach()",
    "c": "torch.no_grad()",
}


@dataclass(frozen=True)
class Situation:
    """A described situation, its right option and why each other option does not fit."""

    text: str
    answer: str
    why: dict[str, str]
    mistakes: dict[str, str]


SITUATIONS: dict[int, Situation] = {
    1: Situation(
        "After each epoch you compute the validation loss over a whole block of code with "
        "many operations; no graph should be built in that block, and the parameters must "
        "still be trainable in the next epoch.",
        "c",
        {
            "a": "requires_grad_(False) switches the parameters off for good; you would have "
            "to switch every one back on before the next epoch",
            "b": "detach() covers one tensor at a time; every operation on the parameters in "
            "the block would still be recorded unless you detach each of them",
            "c": "with torch.no_grad(): nothing inside the block is recorded, and the "
            "parameters keep requires_grad=True",
        },
        {},
    ),
    2: Situation(
        "Each epoch you append the model's predictions (a non-leaf tensor with a grad_fn) to "
        "a list, to plot them all at the end. The stored tensors must not keep each epoch's "
        "graph alive in memory, and training must go on exactly as before.",
        "b",
        {
            "a": "requires_grad_(False) only works on leaves: on a non-leaf such as the "
            "predictions it raises RuntimeError",
            "b": "history.append(predictions.detach()): a tensor without a grad_fn that shares "
            "storage, while the predictions used by the loss are untouched",
            "c": "torch.no_grad() does not change a tensor that already exists: predictions "
            "appended inside the block still carry their grad_fn and keep the graph alive",
        },
        {"a": "non_leaf_grad"},
    ),
    3: Situation(
        "You fine-tune a pretrained model but want its first layer's weight (a leaf) frozen "
        "for the whole run: backward() should never fill its .grad.",
        "a",
        {
            "a": "weight.requires_grad_(False): the leaf stops requiring grad, so backward() "
            "leaves its .grad as None in every epoch",
            "b": "detach() makes a new tensor; the layer keeps using the original weight, which "
            "still gets a .grad",
            "c": "torch.no_grad() would have to wrap the forward pass, and then nothing in the "
            "model would get a gradient",
        },
        {},
    ),
    # 4 and 5 reuse options, so the five cannot be solved by elimination (each option fits
    # at least one situation, two fit two).
    4: Situation(
        "After backward() you update each weight by hand, w -= lr * w.grad. The update "
        "itself must not be recorded, and w must still be trained in the next step.",
        "c",
        {
            "a": "requires_grad_(False) would stop w from being trained at all; you would "
            "have to switch it back on before the next step",
            "b": "w.detach() -= ... changes a new tensor's value, not a recording setting; "
            "the update belongs inside a block where nothing is recorded",
            "c": "with torch.no_grad(): w -= lr * w.grad is not recorded, and w keeps "
            "requires_grad=True for the next step",
        },
        {},
    ),
    5: Situation(
        "Your loss pulls the model's prediction towards a target that the same model "
        "computes from the next input. The gradient must flow through the prediction only, "
        "never through the target.",
        "b",
        {
            "a": "requires_grad_(False) only works on leaves, and the target is a non-leaf "
            "result of the model (it raises RuntimeError)",
            "b": "loss = (prediction - target.detach()) ** 2: the target is a constant to "
            "autograd, while the prediction keeps its graph",
            "c": "torch.no_grad() around the whole loss would record nothing, not even the "
            "prediction; it would have to wrap only the target's forward pass",
        },
        {"a": "non_leaf_grad"},
    ),
}

_ALIASES = {
    "requires_grad_(false)": "a",
    "requires_grad_": "a",
    "requires_grad(false)": "a",
    "requires_grad=false": "a",
    "detach()": "b",
    "detach": "b",
    "torch.no_grad()": "c",
    "no_grad()": "c",
    "no_grad": "c",
    "withtorch.no_grad():": "c",
    "withtorch.no_grad()": "c",
}


def normalise_choice(answer: object) -> str | None:
    """'a'/'b'/'c' for a letter or an option's name (case and spaces ignored), else None."""
    if not isinstance(answer, str):
        return None
    text = "".join(answer.split()).lower().strip("'\".")
    if text in OPTIONS:
        return text
    return _ALIASES.get(text) or _ALIASES.get(text.removeprefix("x."))


def check_no_grad_choice(situation: int, answer: object) -> Verdict:
    """Check the option chosen for situation 1 to 5. Never raises."""
    try:
        item = SITUATIONS.get(situation)  # type: ignore[call-overload]
        if item is None:
            return Verdict(False, None, f"Cannot check: there is no situation {situation!r}")
        name = f"choice_{situation}"
        if unanswered(answer):
            return not_attempted(name)
        letter = normalise_choice(answer)
        if letter is None:
            return wrong(f"{name} should be one of 'a', 'b' or 'c', not {answer!r}")
        if letter == item.answer:
            return Verdict(True, None, f"Correct: {OPTIONS[letter]} -- {item.why[letter]}")
        return wrong(item.why[letter], item.mistakes.get(letter))
    except Exception as exc:  # noqa: BLE001 - a check must never show a traceback
        return cannot_check(exc)
