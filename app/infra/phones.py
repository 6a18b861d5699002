"""Phone numbers, kept in E.164 ("+15559876543") whatever way they were typed, so one number
is one string (OneTablet hands a courier's phone to the restaurant as stored). Parsed by
Google's libphonenumber rules (the `phonenumbers` package); a number without a leading + is
read in the PHONE_REGION setting's country (contract §4; default US)."""
from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

_WHY = {
    ValidationResult.INVALID_COUNTRY_CODE: "its country code is not one in use",
    ValidationResult.TOO_SHORT: "too few digits for a {where} number",
    ValidationResult.TOO_LONG: "too many digits for a {where} number",
    ValidationResult.INVALID_LENGTH: "not a length {where} numbers have",
}


class PhoneError(ValueError):
    """Not a phone number; the message says why, in words for the person who typed it."""


def normalise(text: str, region: str = "US") -> str:
    """`text` as E.164, or PhoneError. Refused: what no phone could be (letters, too few or
    too many digits for its country, an unknown country code, all one digit). A possible
    number is kept even if not yet allocated: fake-looking 555 numbers are real test lines."""
    text = (text or "").strip()
    if not text:
        raise PhoneError("Enter a phone number: the restaurant sees it with the order.")
    if len(text) > 64 or any(c.isalpha() for c in text):
        raise PhoneError("A phone number is digits, with spaces, ( ) - and an optional leading +.")
    digits = [c for c in text if c.isdigit()]
    if len(digits) > 1 and len(set(digits[-7:])) == 1:
        raise PhoneError("Not a real phone number: all its digits are the same.")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        why = ("its country code is not one in use" if error.error_type == NumberParseException.INVALID_COUNTRY_CODE
               else "give its digits")
        raise PhoneError(f"Not a phone number: {why} (e.g. +1 555 987 6543).") from None
    why = phonenumbers.is_possible_number_with_reason(number)
    if why == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise PhoneError("Add the area code: a number without it cannot be dialled from elsewhere.")
    if why != ValidationResult.IS_POSSIBLE:
        where = phonenumbers.region_code_for_country_code(number.country_code)
        reason = _WHY.get(why, "it cannot be dialled").format(where=where)
        raise PhoneError(f"Not a phone number: {reason} (e.g. +1 555 987 6543).")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
