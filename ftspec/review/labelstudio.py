"""Label Studio projects: the labeling config XML for rubric ratings and for blind pairwise preference, checked
with label-studio-sdk's own parser (LabelInterface) when it is installed (`pip install ftspec[review]`)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ftspec.errors import UsageError
from ftspec.review.scales import FAIL, PASS, SIDES, is_pass_fail, top

RATING, PAIRWISE = "rating", "pairwise"
PREFERENCE = "preference"  # the pairwise config's control name


def rating_config(rubric) -> str:
    lines = ["<View>", '  <Header value="Prompt"/>', '  <Text name="prompt" value="$prompt"/>',
             '  <Header value="Output"/>', '  <Text name="output" value="$output"/>']
    for c in rubric:
        lines.append(f"  <Header value={quoteattr(c.description or c.name)}/>")
        if is_pass_fail(c.scale):
            lines.append(f'  <Choices name="{c.name}" toName="output" choice="single" required="true">'
                         f'<Choice value="{PASS}"/><Choice value="{FAIL}"/></Choices>')
        else:
            lines.append(f'  <Rating name="{c.name}" toName="output" maxRating="{top(c.scale)}" required="true"/>')
    return "\n".join([*lines, "</View>"]) + "\n"


def pairwise_config() -> str:
    choices = "".join(f'<Choice value="{side}"/>' for side in SIDES)
    return "\n".join(["<View>", '  <Header value="Prompt"/>', '  <Text name="prompt" value="$prompt"/>',
                      '  <Header value="Left"/>', '  <Text name="left" value="$left"/>',
                      '  <Header value="Right"/>', '  <Text name="right" value="$right"/>',
                      '  <Header value="Which answer is better?"/>',
                      f'  <Choices name="{PREFERENCE}" toName="prompt" choice="single" required="true">{choices}'
                      "</Choices>", "</View>"]) + "\n"


def interface(config: str):
    """label-studio-sdk's parser of a labeling config; UsageError when it refuses the config."""
    try:
        from label_studio_sdk.label_interface import LabelInterface
    except ImportError:
        return None
    try:
        parsed = LabelInterface(config)
        parsed.validate()
    except Exception as exc:  # the SDK raises its own exception types for an invalid config
        raise UsageError(f"Label Studio refuses the labeling config: {exc}", "report this as a bug") from None
    return parsed


def check_tasks(config: str, tasks: list[dict]) -> int:
    """Every task against the config (its $variables present): how many the SDK checked (0 without the SDK)."""
    parsed = interface(config)
    if parsed is None:
        return 0
    for index, task in enumerate(tasks):
        if not parsed.validate_task(task):
            raise UsageError(f"task {index} does not fit the labeling config", "report this as a bug")
    return len(tasks)
