"""Seeded generator of the demo task: web-shop chat orders -> the fulfilment API's strict JSON.

One module feeds both the committed demo data (specs/demo/generate_data.py) and the unpaired text the tiny base model
is pre-trained on (ftspec.demo.model), so the two always share a vocabulary.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

ITEMS = {  # canonical name -> plural
    "t-shirt": "t-shirts", "hoodie": "hoodies", "mug": "mugs", "cap": "caps", "tote bag": "tote bags",
    "beanie": "beanies", "sweatshirt": "sweatshirts", "water bottle": "water bottles", "notebook": "notebooks",
    "poster": "posters", "scarf": "scarves", "backpack": "backpacks", "umbrella": "umbrellas",
    "phone case": "phone cases",
}
COLOURS = ("black", "white", "navy", "red", "green", "grey", "yellow", "pink", "purple", "orange", "blue", "brown")
QUANTITIES = range(1, 13)
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")

# What customers write for a canonical value; the payload always carries the canonical one.
COLOUR_SYNONYMS = {"grey": ["gray", "charcoal grey"], "navy": ["navy blue", "dark navy"], "red": ["scarlet", "crimson"],
                   "black": ["jet black"], "green": ["forest green"], "blue": ["royal blue", "sky blue"],
                   "purple": ["violet"], "white": ["off-white"]}
ITEM_SYNONYMS = {"t-shirt": ("tee", "tees"), "hoodie": ("hoody", "hoodys"), "cap": ("baseball cap", "baseball caps"),
                 "tote bag": ("tote", "totes"), "phone case": ("phone cover", "phone covers")}

BODIES = (
    "I'd like {n} {c} {items}.",
    "Can I get {n} {items} in {c}?",
    "Could you send me {n} {c} {items}?",
    "{d} x {c} {item}",
    "Order: {item}, {c}, qty {d}",
    "please add {n} {c} {items} to my basket",
    "I want to order {n} of the {c} {items}.",
    "need {n} {items} in {c}",
    "Do you have the {item} in {c}? I'll take {n}.",
    "Put me down for {n} {c} {items}.",
    "{c} {items}, {n} please",
    "I'm after {n} {items}, colour {c}.",
    "Looking to buy {n} {c} {items} for my team.",
    "Can you reserve {n} {items}? The {c} ones.",
    "We need {n} {c} {items} for the event next week.",
    "my order: {n} {c} {items}",
    "Hey, is it possible to get {n} {items} in the {c} colour?",
    "I'll have {n} {c} {items}, thanks.",
    "Quantity {d}, {item}, {c}.",
    "Please ship {n} {items} ({c}) to my usual address.",
)
OPENERS = ("", "", "Hi, ", "Hello! ", "Hey there, ", "Good morning. ", "Hi team, ", "Hiya. ")
CLOSERS = ("", "", " Thanks!", " Thank you.", " Cheers", " Many thanks in advance.", " :)")
CHATTER = (  # adversarial padding: talk that carries no part of the order
    "I bought from you last spring and loved the quality. ",
    "My sister recommended your shop, so here goes. ",
    "Sorry if this is the wrong place to ask, I couldn't find the order form. ",
    "Long time customer here, hope you're all well! ",
    "Quick one before my lunch break ends. ",
)
CHATTER_AFTER = (" Also, do you ship to Ireland?", " No rush at all, whenever it suits.",
                 " Please let me know if anything is out of stock.", " Your website is great by the way.")
DOMAIN_WORDS = {*NUMBER_WORDS, *COLOURS, *" ".join([*ITEMS, *ITEMS.values()]).split()}
POLITE = ("Hello, I hope you are having a lovely day. ", "Dear shop team, I hope this message finds you well. ",
          "Good afternoon and apologies for bothering you. ")
POLITE_AFTER = (" I would be ever so grateful, thank you kindly.",
                " Thank you so much for your help, it is appreciated.")


@dataclass(frozen=True)
class Order:
    item: str
    colour: str
    quantity: int

    def payload(self) -> str:
        """The one canonical serialisation (fixed key order, json.dumps spacing), so exact match is meaningful."""
        return json.dumps({"item": self.item, "colour": self.colour, "quantity": self.quantity})


@dataclass
class Row:
    prompt: str
    completion: str
    tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"prompt": self.prompt, "completion": self.completion, "tags": self.tags}


def all_orders() -> list[Order]:
    return [Order(i, c, q) for i in ITEMS for c in COLOURS for q in QUANTITIES]


def render(order: Order, rng: random.Random, word_rate: float = 0.2, synonym_rate: float = 0.1,
           noise_rate: float = 0.05) -> tuple[str, list]:
    """One customer message for `order` and the tags that describe how it is phrased."""
    text, tags, _ = phrase(order, rng, word_rate, synonym_rate, noise_rate)
    return text, tags


def phrase(order: Order, rng: random.Random, word_rate: float = 0.2, synonym_rate: float = 0.1,
           noise_rate: float = 0.05) -> tuple[str, list, tuple[str, str, str]]:
    """A message, its tags, and the words it used for the quantity, the colour and the item."""
    body = rng.choice(BODIES)
    tags: list[str] = []
    number = str(order.quantity)
    if "{n}" in body and rng.random() < word_rate:
        number = NUMBER_WORDS[order.quantity - 1]
        tags.append("number_word")
    colour, item, items = order.colour, order.item, ITEMS[order.item]
    if rng.random() < synonym_rate and order.colour in COLOUR_SYNONYMS:
        colour = rng.choice(COLOUR_SYNONYMS[order.colour])
        tags.append("synonym")
    if rng.random() < synonym_rate and order.item in ITEM_SYNONYMS:
        item, items = ITEM_SYNONYMS[order.item]
        tags.append("synonym")
    if order.quantity == 1 and "{n} {c}" in body and rng.random() < 0.5:
        number = "an" if colour[0] in "aeiou" else "a"
        tags = [tag for tag in tags if tag != "number_word"]
    body = body.format(n=number, d=order.quantity, c=colour, item=item, items=item if order.quantity == 1 else items)
    opener = rng.choice(OPENERS)
    if opener.endswith(", ") and not body.startswith("I"):
        body = body[0].lower() + body[1:]
    text = opener + body + rng.choice(CLOSERS)
    if rng.random() < noise_rate:  # a little of the adversarial noise in every split, so it can be learned
        text, applied = typo(text, rng, protect=f"{number} {colour} {item} {items}")
        tags += ["typo"] if applied else []
    if rng.random() < noise_rate:
        text = text.upper()
        tags.append("caps")
    return text, sorted(set(tags)), (number, colour, item if order.quantity == 1 else items)


def typo(text: str, rng: random.Random, protect: str = "") -> tuple[str, bool]:
    """Swap two neighbouring letters inside one or two longer filler words (never the words the order is made of)."""
    protected = set(protect.lower().split())
    words = text.split(" ")
    cores = [w.strip(".,!?:;()") for w in words]
    candidates = [k for k, core in enumerate(cores)
                  if len(core) > 4 and core.isalpha() and core.lower() not in protected]
    for k in rng.sample(candidates, min(2, len(candidates))):
        core = cores[k]
        j = rng.randrange(1, len(core) - 2)
        swapped = core[:j] + core[j + 1] + core[j] + core[j + 2:]
        if swapped.lower() not in DOMAIN_WORDS:  # "there" -> "three" would change the order, not misspell it
            words[k] = words[k].replace(core, swapped, 1)
    return " ".join(words), bool(candidates)


def adversarial_render(order: Order, rng: random.Random) -> tuple[str, list]:
    """A message with two kinds of noise on top: typos, chatter, polite padding, shouting, words and synonyms."""
    text, tags = render(order, rng, word_rate=0.6, synonym_rate=0.5, noise_rate=0.0)
    noises = rng.sample(["typo", "chatter", "polite"], 2) + (["caps"] if rng.random() < 0.25 else [])
    for noise in noises:
        if noise == "typo":
            text, _ = typo(text, rng, protect=" ".join([*NUMBER_WORDS, *_surfaces(order)]))
        elif noise == "chatter":
            text = rng.choice(CHATTER) + text + rng.choice(CHATTER_AFTER)
        elif noise == "polite":
            text = rng.choice(POLITE) + text + rng.choice(POLITE_AFTER)
        else:
            text = text.upper()
    tags = sorted(set(tags) | set(noises) | ({"long"} if len(text) > 120 else set()))
    return text, tags


def _surfaces(order: Order) -> list[str]:
    """Every word that may spell this order's colour or item."""
    words = [order.colour, *COLOUR_SYNONYMS.get(order.colour, []), order.item, ITEMS[order.item],
             *ITEM_SYNONYMS.get(order.item, ())]
    return " ".join(words).split()


def shingles(text: str, k: int = 4) -> set[str]:
    text = " ".join(text.lower().split())
    return {text[i:i + k] for i in range(max(1, len(text) - k + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def make_splits(seed: int = 13, n_train: int = 400, n_eval: int = 100, n_adversarial: int = 40,
                max_similarity: float = 0.8) -> dict[str, list[Row]]:
    """Train, eval and adversarial rows: disjoint orders, and no held-out prompt close to a train prompt."""
    rng = random.Random(seed)
    orders = all_orders()
    rng.shuffle(orders)
    train_orders = orders[:n_train]
    held_out = iter(orders[n_train:])
    train = []
    for order in train_orders:
        text, tags = render(order, rng)
        train.append(Row(text, order.payload(), tags + (["long"] if len(text) > 120 else [])))
    train_shingles = [shingles(row.prompt) for row in train]

    def held_out_rows(count: int, make) -> list[Row]:
        rows: list[Row] = []
        while len(rows) < count:
            order = next(held_out)
            text, tags = make(order, rng)
            grams = shingles(text)
            if max(jaccard(grams, other) for other in train_shingles) < max_similarity:
                rows.append(Row(text, order.payload(), tags))
        return rows

    def eval_render(order: Order, rng: random.Random) -> tuple[str, list]:
        text, tags = render(order, rng)
        return text, tags + (["long"] if len(text) > 120 else [])

    return {"train": train, "eval": held_out_rows(n_eval, eval_render),
            "adversarial": held_out_rows(n_adversarial, adversarial_render)}


CONFIRMATIONS = ("Order confirmed: {n} {c} {items}.", "We have packed {n} {items} in {c}.",
                 "Your {c} {items} (x{d}) are on the way.", "Dispatched {d} x {c} {item}.")


def confirmation(order: Order, rng: random.Random) -> str:
    """The shop's reply once an order is in: the payload's values back in words (the reverse of the task)."""
    number = rng.choice([str(order.quantity), NUMBER_WORDS[order.quantity - 1]])
    items = order.item if order.quantity == 1 else ITEMS[order.item]
    return rng.choice(CONFIRMATIONS).format(n=number, d=order.quantity, c=order.colour, item=order.item, items=items)


PRETRAINING_MIX = {"message": 0.35, "payload": 0.35, "confirmation": 0.15, "echo": 0.15}


def pretraining_texts(count: int, seed: int = 7, mix: dict[str, float] | None = None) -> list[str]:
    """Domain text for the base model, never a message next to its payload (the task stays unseen).

    Messages alone and payloads alone teach the words and the JSON syntax. A payload followed by the shop's
    confirmation, and a message quoted back, teach the general skill of finding a value in context and copying it,
    which any real pre-trained model has; without it LoRA on a 1M-parameter model stalls at one constant answer.
    """
    rng = random.Random(seed)
    orders = all_orders()
    mix = mix or PRETRAINING_MIX
    kinds, weights = list(mix), list(mix.values())
    texts = []
    for _ in range(count):
        order, kind = rng.choice(orders), rng.choices(kinds, weights)[0]
        if kind == "message":
            texts.append(render(order, rng)[0])
        elif kind == "payload":
            texts.append(order.payload())
        elif kind == "confirmation":
            texts.append(order.payload() + "\n" + confirmation(order, rng))
        else:
            text = render(order, rng)[0]
            texts.append(f"Customer wrote: {text}\nQuote: {text}")
    return texts
