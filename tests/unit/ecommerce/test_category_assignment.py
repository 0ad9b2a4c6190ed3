"""The demo catalog's keyword taxonomy: deterministic, first rule wins, every category it names is in the tree."""

from __future__ import annotations

import pytest

from ecommerce.catalog.demo import CATEGORIES, FALLBACK_CATEGORY, RULES, categorise
from ecommerce.catalog.domain import CategoryTree


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("WHITE HANGING HEART T-LIGHT HOLDER", "candles"),
        ("CHRISTMAS MUG", "christmas"),
        ("SET OF 6 RETROSPOT MUGS", "mugs-cups"),
        ("JUMBO BAG RED RETROSPOT", "bags"),
        ("LUNCH BAG DOLLY GIRL DESIGN", "bags"),
        ("PACK OF 52 PLAYING CARDS", "toys"),
        ("BIRTHDAY CARD, RETRO SPOT", "cards"),
        ("CHILDS GARDEN RAKE BLUE", "garden"),
        ("DIAMANTE NECKLACE PURPLE", "jewellery"),
        ("COOK WITH WINE METAL SIGN", "wall-decor"),
        ("EASTER TIN CHICKS IN GARDEN", "easter"),
        ("REGENCY CAKESTAND 3 TIER", "tableware"),
        ("FAIRY CAKE CASES", "kitchenware"),
        ("INFLATABLE POLITICAL GLOBE", FALLBACK_CATEGORY),
    ],
)
def test_examples(description: str, category: str) -> None:
    assert categorise(description) == category


def test_phrases_match_whole_consecutive_words() -> None:
    assert categorise("TEA LIGHT") == "candles"
    assert categorise("LIGHT TEA") == "lights"
    assert categorise("PENCILLED") == FALLBACK_CATEGORY  # no partial words


def test_every_rule_names_a_category_of_the_tree() -> None:
    tree = CategoryTree(CATEGORIES)
    assert all(category in tree for category, _ in RULES)
    assert FALLBACK_CATEGORY in tree


def test_it_does_not_depend_on_case_or_spacing() -> None:
    assert categorise("  set of 3 cake tins pantry design ") == categorise("SET OF 3 CAKE TINS PANTRY DESIGN")
