"""HMAC signatures: the vector AppsFlyer publishes, and that verify rejects any change."""

from __future__ import annotations

from simulator.signing import sign, verify

DEV_KEY = "w8sZzy8EaPaxFKfaoTqUi6"
BODY = (
    b'{"timestamp":1604503583337,"ip":"127.0.0.1","user_agent":"Roku/DVP-9.21 (AE9.21E04090A)",'
    b'"device_os_version":"9.3.0","device_model":"3920X","device_ids":[{"type":"rida","value":'
    b'"fa73d67d-f55c-5af3-883a-726253dc7d0e"}],"limit_ad_tracking":false}'
)
SIGNATURE = "715b133d5a327b77beb898688a3ad438da0f78071cd3df70e8ec5ecf60751972"


def test_published_vector() -> None:
    assert sign(BODY, DEV_KEY) == SIGNATURE
    assert verify(BODY, DEV_KEY, SIGNATURE)


def test_verify_rejects_any_one_byte_change_of_the_body() -> None:
    for index in range(len(BODY)):
        changed = bytearray(BODY)
        changed[index] ^= 0x01
        assert not verify(bytes(changed), DEV_KEY, SIGNATURE), index


def test_verify_rejects_a_changed_signature_or_key() -> None:
    flipped = SIGNATURE[:-1] + ("3" if SIGNATURE[-1] != "3" else "4")
    assert not verify(BODY, DEV_KEY, flipped)
    assert not verify(BODY, DEV_KEY, SIGNATURE[:-1])
    assert not verify(BODY, DEV_KEY[:-1] + "7", SIGNATURE)
    assert not verify(BODY + b" ", DEV_KEY, SIGNATURE)  # re-serialising changes the bytes


def test_verify_accepts_uppercase_hex() -> None:
    assert verify(BODY, DEV_KEY, SIGNATURE.upper())
