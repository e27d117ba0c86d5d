from fixloop.memory.signature import (
    enclosing_function,
    normalize_message,
    normalize_test,
    signature_of,
)

SOURCE = """import math

class Cart:
    def total(self, items):
        s = 0
        for item in items:
            s += item.price
        return s
"""


def test_numbers_paths_quotes_and_addresses_are_abstracted() -> None:
    message = "could not open '/home/ann/data.csv' (12 rows) at 0x7f3a9c, took 1.5e3 ms"
    assert (
        normalize_message(message) == "could not open <str> (<num> rows) at <addr>, took <num> ms"
    )
    assert normalize_message("see src/app/models.py for details") == "see <path> for details"


def test_same_failure_elsewhere_has_the_same_signature() -> None:
    one = signature_of("tests/a/test_cart.py::test_total[1-2]", "AssertionError: assert 3 == 4")
    two = signature_of("other/test_cart.py::test_total[x]", "AssertionError: assert 10 == 12")
    assert one == two
    assert one.exception == "AssertionError"
    assert one.message == "assert <num> == <num>"
    assert one.test == "test_cart.py::test_total[<param>]"
    assert one.kind_id("python") == two.kind_id("python") != one.kind_id("javascript")


def test_exception_type_is_split_from_the_message() -> None:
    assert signature_of("t", "assert x").exception == "AssertionError"
    qualified = signature_of("t", "shop.errors.PricingError: negative total -3")
    assert (qualified.exception, qualified.message) == ("PricingError", "negative total <num>")
    assert signature_of("t", "E   KeyError: 'sku'").exception == "KeyError"
    assert signature_of("t", "something odd happened").exception == ""


def test_frames_become_function_names_without_line_numbers() -> None:
    signature = signature_of(
        "tests/test_cart.py::test_total",
        "TypeError: unsupported operand",
        (("tests/test_cart.py", 3), ("shop/cart.py", 7)),
        {"shop/cart.py": SOURCE},
    )
    assert signature.frames == ("test_cart.py", "cart.py:total")


def test_enclosing_function_by_indentation() -> None:
    assert enclosing_function(SOURCE, 7) == "total"
    assert enclosing_function(SOURCE, 1) is None
    js = "export function price(a) {\n  return a * 2;\n}\n"
    assert enclosing_function(js, 2) == "price"


def test_test_ids_keep_the_file_name_and_class() -> None:
    assert normalize_test("a/b/test_x.py::TestY::test_z") == "test_x.py::TestY::test_z"


def test_camel_case_names_before_a_colon_are_exceptions() -> None:
    assert signature_of("t", "StopIteration: done").exception == "StopIteration"
    assert signature_of("t", "Failed: DID NOT RAISE").exception == "Failed"
    assert signature_of("t", "Note: not an exception").exception == ""
