"""Demo data for the catalog: products derived from the Online Retail dataset, sorted into a category tree.

The local runtime calls, once the e-commerce table exists and with ``TABLE_NAME`` set::

    from gears.seed import seed_catalog
    report = seed_catalog()          # -> SeedReport(products_written=..., products_present=..., seconds=...)

``seed_catalog(table_name=None, products=None, categories=None) -> SeedReport``

- ``table_name``: the e-commerce table; ``None`` reads ``TABLE_NAME`` from the environment.
- ``products``: domain :class:`ecommerce.catalog.domain.Product` objects; ``None`` derives them from
  ``data/online-retail/online-retail-sample.csv`` with :func:`catalog_from_csv`.
- ``categories``: domain :class:`ecommerce.catalog.domain.Category` objects; ``None`` is :data:`CATEGORIES`.

It writes through the service's repository (``ecommerce.catalog.store``: the same item mapping and sparse gsi keys as
the API), in BatchWriteItem calls of 25, and it is idempotent: product ids derive from the SKU, products already in
the table are left as they are (a BatchGetItem per 100 tells which), and categories are written only where missing
or different. Running it twice writes nothing the second time; it never overwrites an administrator's edits.

:func:`catalog_from_csv` turns the dataset's transaction lines into one product per stock code: the SKU is the
StockCode (upper-cased, so ``85123a`` and ``85123A`` are one product), the title the most frequent description,
title-cased; the price the most frequent unit price in pence (GBP); ``createdAt`` the first day it sold; status
active. Lines without a description or with a price that is not positive are skipped, and so are the codes that
are not merchandise (postage, fees, manual adjustments). :func:`read_catalog_csv` also returns those counts.
"""

from __future__ import annotations

import csv
import logging
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

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = ROOT / "data" / "online-retail" / "online-retail-sample.csv"

# The seed writes through the service's own code: the layer and the service are on sys.path in Lambda and under
# pytest; in the local runtime's own process they are added here.
for _path in (ROOT / "shared", ROOT / "functions" / "ecommerce"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

from ecommerce.catalog.domain import (  # noqa: E402
    CatalogRuleError,
    Category,
    CategoryTree,
    Money,
    Product,
    ProductDetails,
    ProductStatus,
    normalise_sku,
)

log = logging.getLogger("gears.seed")

CURRENCY = "GBP"
SEED_CORRELATION_ID = "seed"
# Stock codes that are services or book-keeping, not things on a shelf.
NOT_MERCHANDISE = frozenset({"POST", "DOT", "C2", "M", "D", "S", "CRUK", "AMAZONFEE", "BANK CHARGES", "B", "ADJUST"})

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


_COMPILED: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = tuple((c, _phrases(k)) for c, k in RULES)
_WORD = re.compile(r"[A-Z0-9]+")


def categorise(description: str) -> str:
    """The category id for a product description, by the first rule of :data:`RULES` with a matching keyword."""
    words = _WORD.findall(description.upper())
    for category, phrases in _COMPILED:
        for phrase in phrases:
            n = len(phrase)
            if any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)):
                return category
    return FALLBACK_CATEGORY


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


# -- the dataset -----------------------------------------------------------------------------------------------------
@dataclass
class CatalogCsv:
    """Products derived from the dataset, with what was left out and why."""

    products: list[Product]
    rows: int = 0
    skipped_no_description: int = 0
    skipped_price: int = 0
    skipped_not_merchandise: int = 0
    skipped_bad_sku: int = 0
    stock_codes: int = 0
    by_category: dict[str, int] = field(default_factory=dict)


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


def read_catalog_csv(path: Path | str = DEFAULT_CSV) -> CatalogCsv:
    """One active product per stock code of the Online Retail CSV, and the counts of what was skipped."""
    report = CatalogCsv(products=[])
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
    epoch = datetime(2010, 12, 1, tzinfo=UTC)
    for sku in sorted(titles):
        # Most frequent wins; ties go to the alphabetically first description and the lowest price.
        description = min(titles[sku].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        pence = min(prices[sku].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        category = categorise(description)
        details = ProductDetails(
            title=clean_title(description)[:200],
            price=Money(pence, CURRENCY),
            category=category,
            description="",
            status=ProductStatus.ACTIVE,
        )
        report.products.append(Product.new(sku, details, first.get(sku, epoch)))
        report.by_category[category] = report.by_category.get(category, 0) + 1
    return report


def catalog_from_csv(path: Path | str = DEFAULT_CSV) -> list[Product]:
    """The products of :func:`read_catalog_csv`, logging what was skipped."""
    report = read_catalog_csv(path)
    log.info(
        "catalog from %s: %d rows, %d stock codes -> %d products; skipped %d rows without description, %d with a "
        "price that is not positive, %d not merchandise, %d bad SKU",
        path,
        report.rows,
        report.stock_codes,
        len(report.products),
        report.skipped_no_description,
        report.skipped_price,
        report.skipped_not_merchandise,
        report.skipped_bad_sku,
    )
    return report.products


# -- seeding ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedReport:
    table_name: str
    categories_written: int
    products_written: int
    products_present: int
    seconds: float


def seed_catalog(
    table_name: str | None = None,
    products: Sequence[Product] | None = None,
    categories: Sequence[Category] | None = None,
) -> SeedReport:
    """Write the demo catalog into the e-commerce table, leaving whatever is already there alone (see the module
    docstring). Raises ``ValueError`` if a product names a category that is not in ``categories``."""
    from ecommerce.catalog.store import DynamoCategorySource, DynamoProductRepository

    started = time.perf_counter()
    table = table_name or os.environ.get("TABLE_NAME")
    if not table:
        raise ValueError("seed_catalog needs a table name (or TABLE_NAME in the environment)")
    tree_categories = list(CATEGORIES if categories is None else categories)
    tree = CategoryTree(tree_categories)
    catalog = catalog_from_csv() if products is None else list(products)
    unknown = sorted({p.details.category for p in catalog if p.details.category not in tree})
    if unknown:
        raise ValueError(f"products name categories that are not in the tree: {unknown}")

    category_source = DynamoCategorySource(table)
    stored = set(category_source.all())
    categories_written = category_source.put_many(c for c in tree_categories if c not in stored)

    repo = DynamoProductRepository(table)
    unique = list({p.product_id: p for p in catalog}.values())  # one write per key: BatchWriteItem refuses repeats
    present = repo.existing_ids(p.product_id for p in unique)
    written = repo.put_many((p for p in unique if p.product_id not in present), correlation_id=SEED_CORRELATION_ID)
    report = SeedReport(table, categories_written, written, len(present), round(time.perf_counter() - started, 3))
    log.info(
        "seeded %s: %d categories, %d products written, %d already present (%.1fs)",
        table,
        categories_written,
        written,
        len(present),
        report.seconds,
    )
    return report
