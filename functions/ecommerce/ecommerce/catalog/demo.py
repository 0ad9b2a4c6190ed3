"""The catalog's demo data: the products of the Online Retail sample, sorted into a category tree, and the function
that loads them (``CatalogDemoDataFunction`` in ``template.yaml``).

Two halves:

- **Deriving** (run from a clone, when the dataset or these rules change): :func:`read_catalog_csv` turns the
  dataset's transaction lines (``data/online-retail/online-retail-sample.csv``) into one :class:`DemoProduct` per
  stock code: the SKU is the StockCode (upper-cased, so ``85123a`` and ``85123A`` are one product), the description
  the most frequent one, the price the most frequent unit price in pence (GBP), and the first day it sold. Lines
  without a description or with a price that is not positive are skipped, and so are the codes that are not
  merchandise (postage, fees, manual adjustments). ``python -m ecommerce.catalog.demo CSV`` (``make demo-data``)
  writes them to ``demo_products.csv``, next to this file, which ships in the function's bundle;
  ``tests/unit/ecommerce/test_demo.py`` fails when that file is not what the dataset gives.
- **Loading** (the function, on every start of the local shop, and on AWS when the stack's ``DemoData`` parameter
  is ``true``): :func:`load_catalog` makes each line a product (a title-cased title, a category from the keyword
  rules :data:`RULES`, status active) and writes the products and the category tree :data:`CATEGORIES` through the
  catalog's repository (the same item mapping and sparse listing keys as the API), in BatchWriteItem calls of 25.
  It is idempotent: product ids derive from the SKU, products already in the table are left as they are (a
  BatchGetItem per 100 tells which), and categories are written only where missing or different. Running it twice
  writes nothing the second time; it never overwrites an administrator's edits.

:func:`handler` answers a plain invocation with the summary, and CloudFormation's custom-resource request
(``Custom::DemoData``) through its ``ResponseURL``.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import IO, Any

from ecommerce.catalog.domain import (
    CatalogRuleError,
    Category,
    CategoryTree,
    Money,
    Product,
    ProductDetails,
    ProductStatus,
    normalise_sku,
    product_id_for_sku,
)
from gears_shared.custom_resource import custom_resource_handler
from gears_shared.observability import logger

DEMO_PRODUCTS = Path(__file__).with_name("demo_products.csv")
CURRENCY = "GBP"
LOAD_CORRELATION_ID = "demo-data"
# Stock codes that are services or book-keeping, not things on a shelf.
NOT_MERCHANDISE = frozenset({"POST", "DOT", "C2", "M", "D", "S", "CRUK", "AMAZONFEE", "BANK CHARGES", "B", "ADJUST"})
# A product whose first sale the dataset does not date: the dataset's first day.
FIRST_DAY = datetime(2010, 12, 1, tzinfo=UTC)

# -- the category tree -----------------------------------------------------------------------------------------------
CATEGORIES: tuple[Category, ...] = (
    Category("home-kitchen", "Home & Kitchen", None, 10),
    Category("mugs-cups", "Mugs & Cups", "home-kitchen", 11),
    Category("tableware", "Tableware", "home-kitchen", 12),
    Category("kitchenware", "Baking & Kitchenware", "home-kitchen", 13),
    Category("storage", "Storage & Organisation", "home-kitchen", 14),
    Category("home-decor", "Home Decor", None, 20),
    Category("wall-decor", "Signs, Frames & Clocks", "home-decor", 21),
    Category("textiles", "Cushions, Towels & Textiles", "home-decor", 22),
    Category("decorations", "Decorations", None, 30),
    Category("christmas", "Christmas", "decorations", 31),
    Category("easter", "Easter", "decorations", 32),
    Category("party", "Party & Celebration", "decorations", 33),
    Category("hanging-decorations", "Hanging Decorations", "decorations", 34),
    Category("lighting", "Lighting", None, 40),
    Category("candles", "Candles & Holders", "lighting", 41),
    Category("lights", "Lights & Lanterns", "lighting", 42),
    Category("bags", "Bags, Purses & Travel", None, 50),
    Category("stationery", "Stationery", None, 60),
    Category("cards", "Cards", "stationery", 61),
    Category("gift-wrap", "Gift Wrap & Ribbons", "stationery", 62),
    Category("paper-goods", "Notebooks, Pens & Desk", "stationery", 63),
    Category("toys", "Toys & Games", None, 70),
    Category("garden", "Garden & Outdoor", None, 80),
    Category("jewellery", "Jewellery & Accessories", None, 90),
    Category("other", "Other", None, 100),
)
FALLBACK_CATEGORY = "other"

# First match wins, so the order matters: a season beats an object ("CHRISTMAS MUG" is Christmas), a specific
# object beats a pattern name ("DOLLY GIRL LUNCH BAG" is a bag), "PLAYING CARDS" is a game and not a card.
# A keyword is a word of the description; one with spaces is a phrase of consecutive words.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "christmas",
        (
            "CHRISTMAS",
            "XMAS",
            "ADVENT",
            "SANTA",
            "REINDEER",
            "SNOWFLAKE",
            "SNOWMAN",
            "BAUBLE",
            "BAUBLES",
            "NATIVITY",
            "NOEL",
            "FATHER CHRISTMAS",
        ),
    ),
    ("easter", ("EASTER", "CHICK", "CHICKS")),
    (
        "jewellery",
        (
            "NECKLACE",
            "NECKLACES",
            "BRACELET",
            "EARRINGS",
            "BROOCH",
            "PENDANT",
            "CHOKER",
            "JEWELLERY",
            "BANGLE",
            "HAIRCLIP",
            "HAIRCLIPS",
            "HAIR CLIP",
            "HAIR CLIPS",
            "HAIR BAND",
            "HAIR GRIP",
            "HAIR COMB",
            "KEY RING",
            "KEYRING",
            "CHARM",
            "CHARMS",
            "DIAMANTE",
            "BEADS",
            "BEADED",
            "BADGE",
            "BADGES",
        ),
    ),
    (
        "toys",
        (
            "TOY",
            "TOYS",
            "JIGSAW",
            "DOLL",
            "GAME",
            "GAMES",
            "PUZZLE",
            "DOMINOES",
            "SKITTLES",
            "TEDDY",
            "SPINNING TOP",
            "SKIPPING ROPE",
            "PLAYING CARDS",
            "CRAYONS",
            "KITE",
            "SOLDIER",
            "SOLDIERS",
            "PLAYHOUSE",
            "MARBLES",
            "YOYO",
            "BUBBLES",
            "KNITTING NANCY",
            "SNAKES AND LADDERS",
            "NINJA",
            "PUPPET",
            "RATTLE",
            "DRAWING SLATE",
            "FELTCRAFT",
            "KIT",
        ),
    ),
    (
        "candles",
        (
            "CANDLE",
            "CANDLES",
            "T LIGHT",
            "T LIGHTS",
            "TEA LIGHT",
            "TEA LIGHTS",
            "TEALIGHT",
            "TEALIGHTS",
            "VOTIVE",
            "INCENSE",
            "OIL BURNER",
            "CANDLEHOLDER",
            "CANDLESTICK",
            "WAX",
        ),
    ),
    ("lights", ("LIGHTS", "LIGHT", "LAMP", "LANTERN", "LANTERNS", "LAMPSHADE", "NIGHTLIGHT", "TORCH", "LED")),
    ("cards", ("CARD", "CARDS", "GREETING")),
    ("mugs-cups", ("MUG", "MUGS", "CUP", "CUPS", "BEAKER", "BEAKERS", "SAUCER", "SAUCERS", "TEACUP", "TEACUPS")),
    (
        "bags",
        (
            "BAG",
            "BAGS",
            "PURSE",
            "PURSES",
            "HANDBAG",
            "WALLET",
            "TOTE",
            "WASHBAG",
            "SHOPPER",
            "RUCKSACK",
            "BACKPACK",
            "SATCHEL",
            "PASSPORT",
            "LUGGAGE",
            "UMBRELLA",
            "TRAVEL",
        ),
    ),
    ("gift-wrap", ("WRAP", "RIBBON", "RIBBONS", "GIFT TAG", "GIFT TAGS", "TAPE", "TISSUE PAPER", "WRAPPING")),
    (
        "paper-goods",
        (
            "NOTEBOOK",
            "NOTEBOOKS",
            "PEN",
            "PENS",
            "PENCIL",
            "PENCILS",
            "STICKER",
            "STICKERS",
            "SKETCHBOOK",
            "CALENDAR",
            "DIARY",
            "ERASER",
            "ERASERS",
            "JOURNAL",
            "ENVELOPE",
            "ENVELOPES",
            "NOTEPAD",
            "NOTE BOOK",
            "NOTELETS",
            "STATIONERY",
            "BOOKMARK",
            "BOOKMARKS",
            "RUBBER",
            "RUBBERS",
            "CHALK",
            "PAPER CHAIN",
            "MEMO",
            "SCISSOR",
            "SCISSORS",
            "HOLE PUNCH",
            "RULER",
            "WRITING SET",
            "TAPES",
            "CRAYON",
            "PAINT",
            "PAINTS",
            "STAMP",
            "STAMPS",
        ),
    ),
    (
        "garden",
        (
            "GARDEN",
            "PLANT",
            "PLANTER",
            "PLANTERS",
            "WATERING",
            "BIRDHOUSE",
            "BIRD FEEDER",
            "FEEDER",
            "PICNIC",
            "PARASOL",
            "HERB",
            "SEED",
            "SEEDS",
            "TROWEL",
            "WINDMILL",
            "FLOWER POT",
            "GNOME",
            "HEN HOUSE",
            "BIRD TABLE",
        ),
    ),
    (
        "party",
        (
            "PARTY",
            "BUNTING",
            "BIRTHDAY",
            "BALLOON",
            "BALLOONS",
            "CONFETTI",
            "CAKE CANDLES",
            "STRAWS",
            "PARTY BAGS",
            "WEDDING",
        ),
    ),
    (
        "wall-decor",
        (
            "SIGN",
            "PLAQUE",
            "FRAME",
            "FRAMES",
            "MIRROR",
            "CLOCK",
            "WALL ART",
            "PICTURE",
            "PHOTO",
            "POSTER",
            "WALL TIDY",
            "CHALKBOARD",
            "BLACKBOARD",
            "MAGNET",
            "MAGNETS",
            "NUMBER TILE",
            "LETTERS",
        ),
    ),
    (
        "textiles",
        (
            "CUSHION",
            "CUSHIONS",
            "SQUARECUSHION",
            "DOORMAT",
            "THROW",
            "BLANKET",
            "HOT WATER BOTTLE",
            "QUILT",
            "RUG",
            "CURTAIN",
            "PILLOW",
            "TOWEL",
            "FLANNEL",
            "SPONGE",
            "DOORSTOP",
            "BATH",
            "WARMER",
        ),
    ),
    (
        "tableware",
        (
            "PLATE",
            "PLATES",
            "BOWL",
            "BOWLS",
            "NAPKIN",
            "NAPKINS",
            "CUTLERY",
            "PLACEMAT",
            "PLACEMATS",
            "COASTER",
            "COASTERS",
            "JUG",
            "DISH",
            "TRAY",
            "CAKESTAND",
            "CAKE STAND",
            "DOILY",
            "DOILIES",
            "TEAPOT",
            "TEA SET",
            "TUMBLER",
            "TUMBLERS",
            "GLASSES",
            "CHOPSTICKS",
            "EGG CUP",
            "TEA COSY",
            "SALT",
            "PEPPER",
            "CRUET",
            "TABLE CLOTH",
            "TABLECLOTH",
            "COFFEE SET",
            "CHALICE",
            "GLASS",
            "WASHING UP GLOVES",
            "STRAW",
            "CAKE PLATE",
        ),
    ),
    (
        "kitchenware",
        (
            "BAKING",
            "CAKE CASES",
            "MOULD",
            "MOULDS",
            "APRON",
            "JAR",
            "JARS",
            "COOKIE",
            "MEASURING",
            "FRYING PAN",
            "TEA TOWEL",
            "TEA TOWELS",
            "OVEN GLOVE",
            "KITCHEN",
            "LUNCH BOX",
            "SCALES",
            "TIMER",
            "BREAD BIN",
            "SPOON",
            "SPOONS",
            "CUTTER",
            "CUTTERS",
            "BOTTLE",
            "CAKE TIN",
            "JAM",
            "PANTRY",
            "RECIPE",
            "ICING",
            "CAKE",
            "CAKES",
            "SPATULA",
            "WHISK",
            "FOOD",
        ),
    ),
    (
        "storage",
        (
            "STORAGE",
            "DRAWER",
            "DRAWERS",
            "CABINET",
            "BASKET",
            "BASKETS",
            "HOOK",
            "HOOKS",
            "RACK",
            "SHELF",
            "ORGANISER",
            "TIDY",
            "BIN",
            "BOX",
            "BOXES",
            "TIN",
            "TINS",
            "HANGER",
            "HANGERS",
            "CRATE",
            "TRUNK",
            "CHEST",
            "HOLDER",
            "CASE",
            "POT",
            "POTS",
            "BUCKET",
            "PEG",
            "PEGS",
            "KEY",
        ),
    ),
    (
        "hanging-decorations",
        (
            "DECORATION",
            "DECORATIONS",
            "HANGING",
            "ORNAMENT",
            "ORNAMENTS",
            "WREATH",
            "GARLAND",
            "MOBILE",
            "WIND CHIME",
            "CHIME",
            "HEART",
            "HEARTS",
            "STAR",
            "BELL",
            "BELLS",
            "BUTTERFLY",
            "FEATHER",
        ),
    ),
)


def _phrases(keywords: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(k.split()) for k in keywords)


# Each phrase under its first word, with the rank of its rule: a description is looked up word by word, not rule by
# rule, so that sorting the 3,131 demo products takes milliseconds, not seconds.
_BY_FIRST_WORD: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
for _rank, (_category, _keywords) in enumerate(RULES):
    for _phrase in _phrases(_keywords):
        _BY_FIRST_WORD[_phrase[0]].append((_rank, _phrase))
_WORD = re.compile(r"[A-Z0-9]+")


def categorise(description: str) -> str:
    """The category id for a product description, by the first rule of :data:`RULES` with a matching keyword."""
    words = _WORD.findall(description.upper())
    first = len(RULES)
    for i, word in enumerate(words):
        for rank, phrase in _BY_FIRST_WORD.get(word, ()):
            if rank < first and tuple(words[i : i + len(phrase)]) == phrase:
                first = rank
    return RULES[first][0] if first < len(RULES) else FALLBACK_CATEGORY


# -- titles ----------------------------------------------------------------------------------------------------------
_SMALL_WORDS = frozenset({"OF", "AND", "IN", "WITH", "THE", "A", "AN", "FOR", "TO", "ON", "OR", "AT", "BY"})
_UPPER_WORDS = frozenset({"LED", "UK", "USA", "DVD", "CD", "XL", "PC", "PCS", "S/2", "S/3", "S/4", "S/6", "S/12"})
_LETTERS = re.compile(r"[A-Za-z]+")


def clean_title(description: str) -> str:
    """A dataset description ("SET OF 3 CAKE TINS PANTRY DESIGN ") as a title ("Set of 3 Cake Tins Pantry Design")."""
    words = description.split()
    out: list[str] = []
    for i, word in enumerate(words):
        upper = word.upper()
        if upper in _UPPER_WORDS:
            out.append(upper)
        elif i > 0 and upper in _SMALL_WORDS:
            out.append(upper.lower())
        else:
            out.append(_LETTERS.sub(partial(_case, word=word), word))
    return " ".join(out)


def _case(match: re.Match[str], word: str) -> str:
    start, text = match.start(), match.group()
    before = word[start - 1] if start else ""
    if before.isdigit() and len(text) <= 2:
        return text.upper()  # 3D, 12PC
    if before == "'":
        return text.lower()  # Child's
    return text[:1].upper() + text[1:].lower()


# -- the demo products -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoProduct:
    """One line of ``demo_products.csv``: a stock code of the dataset, as sold."""

    sku: str
    description: str  # the most frequent description, whitespace tidied, in the dataset's capitals
    pence: int  # the most frequent unit price
    first_sold: datetime

    @property
    def product_id(self) -> str:
        return product_id_for_sku(self.sku)

    def product(self) -> Product:
        """The catalog's product: titled, priced in GBP, categorised by :data:`RULES`, active."""
        details = ProductDetails(
            title=clean_title(self.description)[:200],
            price=Money(self.pence, CURRENCY),
            category=categorise(self.description),
            description="",
            status=ProductStatus.ACTIVE,
        )
        return Product.new(self.sku, details, self.first_sold)


# The file's columns. productId is the catalog's id for the SKU: other services' demo data link to it with no need
# of the catalog's code (inventory's opening stock is derived from this file).
COLUMNS = ("sku", "productId", "pence", "firstSold", "description")
ATTRIBUTION = (
    "# The demo catalog: one line per product, derived by ecommerce.catalog.demo (make demo-data) from the Online\n"
    "# Retail dataset, Daqing Chen, Sai Liang Sain, Kun Guo (2012), UCI Machine Learning Repository dataset 352,\n"
    "# https://archive.ics.uci.edu/dataset/352/online+retail, CC BY 4.0. See data/online-retail/README.md.\n"
)


def write_demo_products(lines: Iterable[DemoProduct], out: IO[str]) -> None:
    out.write(ATTRIBUTION)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow(
            [line.sku, line.product_id, line.pence, line.first_sold.strftime("%Y-%m-%dT%H:%M:%S"), line.description]
        )


def read_demo_products(path: Path | str = DEMO_PRODUCTS) -> list[DemoProduct]:
    """The lines of a demo products file (``demo_products.csv`` unless told)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return [
            DemoProduct(
                row["sku"],
                row["description"],
                int(row["pence"]),
                datetime.fromisoformat(row["firstSold"]).replace(tzinfo=UTC),
            )
            for row in rows
        ]


def demo_catalog(path: Path | str = DEMO_PRODUCTS) -> list[Product]:
    """The demo catalog's products, from the shipped file."""
    return [line.product() for line in read_demo_products(path)]


# -- deriving them from the dataset ----------------------------------------------------------------------------------
@dataclass
class CatalogCsv:
    """The demo products derived from the dataset, with what was left out and why."""

    lines: list[DemoProduct]
    rows: int = 0
    skipped_no_description: int = 0
    skipped_price: int = 0
    skipped_not_merchandise: int = 0
    skipped_bad_sku: int = 0
    stock_codes: int = 0
    by_category: dict[str, int] = field(default_factory=dict)

    @property
    def products(self) -> list[Product]:
        return [line.product() for line in self.lines]


def _pence(text: str) -> int | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    pence = int((value * 100).to_integral_value())
    return pence if value > 0 and pence > 0 else None


def _first_sold(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    except ValueError:
        return None


def read_catalog_csv(path: Path | str) -> CatalogCsv:
    """One demo product per stock code of an Online Retail CSV, and the counts of what was skipped."""
    report = CatalogCsv(lines=[])
    titles: dict[str, Counter[str]] = defaultdict(Counter)
    prices: dict[str, Counter[int]] = defaultdict(Counter)
    first: dict[str, datetime] = {}
    codes: set[str] = set()
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            report.rows += 1
            code = (row.get("StockCode") or "").strip()
            codes.add(code)
            description = " ".join((row.get("Description") or "").split())
            if not description:
                report.skipped_no_description += 1
                continue
            pence = _pence(row.get("UnitPrice") or "")
            if pence is None:
                report.skipped_price += 1
                continue
            if code.upper() in NOT_MERCHANDISE:
                report.skipped_not_merchandise += 1
                continue
            try:
                sku = normalise_sku(code)
            except CatalogRuleError:
                report.skipped_bad_sku += 1
                continue
            titles[sku][description] += 1
            prices[sku][pence] += 1
            sold = _first_sold(row.get("InvoiceDate") or "")
            if sold is not None and (sku not in first or sold < first[sku]):
                first[sku] = sold
    report.stock_codes = len(codes)
    for sku in sorted(titles):
        # Most frequent wins; ties go to the alphabetically first description and the lowest price.
        description = min(titles[sku].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        pence = min(prices[sku].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        report.lines.append(DemoProduct(sku, description, pence, first.get(sku, FIRST_DAY)))
        category = categorise(description)
        report.by_category[category] = report.by_category.get(category, 0) + 1
    return report


def catalog_from_csv(path: Path | str) -> list[Product]:
    """The products of :func:`read_catalog_csv`."""
    return read_catalog_csv(path).products


# -- loading ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogLoad:
    table_name: str
    categories_written: int
    products_written: int
    products_present: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The function's answer (and the custom resource's ``Data``)."""
        return {
            "summary": f"{self.products_written} products and {self.categories_written} categories written, "
            f"{self.products_present} already there",
            "productsWritten": self.products_written,
            "productsPresent": self.products_present,
            "categoriesWritten": self.categories_written,
            "seconds": self.seconds,
        }


def load_catalog(
    table_name: str | None = None,
    products: Sequence[Product] | None = None,
    categories: Sequence[Category] | None = None,
) -> CatalogLoad:
    """Write the demo catalog (or ``products`` and ``categories``) into the e-commerce table (``TABLE_NAME`` unless
    told), leaving whatever is already there alone (see the module docstring). Raises ``ValueError`` if a product
    names a category that is not in ``categories``."""
    from ecommerce.catalog.store import DynamoCategorySource, DynamoProductRepository

    started = time.perf_counter()
    table = table_name or os.environ.get("TABLE_NAME")
    if not table:
        raise ValueError("load_catalog needs a table name (or TABLE_NAME in the environment)")
    tree_categories = list(CATEGORIES if categories is None else categories)
    tree = CategoryTree(tree_categories)
    catalog = demo_catalog() if products is None else list(products)
    unknown = sorted({p.details.category for p in catalog if p.details.category not in tree})
    if unknown:
        raise ValueError(f"products name categories that are not in the tree: {unknown}")

    category_source = DynamoCategorySource(table)
    stored = set(category_source.all())
    categories_written = category_source.put_many(c for c in tree_categories if c not in stored)

    repo = DynamoProductRepository(table)
    unique = list({p.product_id: p for p in catalog}.values())  # one write per key: BatchWriteItem refuses repeats
    present = repo.existing_ids(p.product_id for p in unique)
    written = repo.put_many((p for p in unique if p.product_id not in present), correlation_id=LOAD_CORRELATION_ID)
    report = CatalogLoad(table, categories_written, written, len(present), round(time.perf_counter() - started, 3))
    logger.info("demo catalog loaded", extra=report.summary())
    return report


# ``CatalogDemoDataFunction``: load the demo catalog; answer its summary (and CloudFormation, when it asks).
handler = custom_resource_handler(lambda: load_catalog().summary())


def main(argv: list[str] | None = None) -> int:
    """``python -m ecommerce.catalog.demo CSV``: derive ``demo_products.csv`` from the dataset."""
    parser = argparse.ArgumentParser(prog="python -m ecommerce.catalog.demo", description=main.__doc__)
    parser.add_argument("csv", help="the Online Retail CSV (data/online-retail/online-retail-sample.csv)")
    parser.add_argument("--out", default=str(DEMO_PRODUCTS), help="where to write (default: the shipped file)")
    args = parser.parse_args(argv)
    report = read_catalog_csv(args.csv)
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        write_demo_products(report.lines, out)
    print(
        f"{args.out}: {len(report.lines)} products from {report.rows} rows ({report.stock_codes} stock codes); "
        f"skipped {report.skipped_no_description} rows without description, {report.skipped_price} with a price "
        f"that is not positive, {report.skipped_not_merchandise} not merchandise, {report.skipped_bad_sku} bad SKU",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
