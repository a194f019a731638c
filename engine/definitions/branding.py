"""A campaign's look (its ``branding`` section), shared by e-mails and the play pages.

The schema already checks colors and URLs; this module checks them again
because they end up inside CSS and HTML attributes, where only exactly a hex
color or an http(s) URL may go.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PRIMARY = "#4F46E5"
DEFAULT_ACCENT = "#F97316"

_COLOR = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")
_URL = re.compile(r"^https?://[^\x00-\x20\x7f\"'<>\\]+$")


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str | None
    primary: str
    accent: str

    @property
    def on_primary(self) -> str:
        """Text color readable on the primary color."""
        return text_color_on(self.primary)


def color(value, default: str) -> str:
    return value if isinstance(value, str) and _COLOR.match(value) else default


def safe_url(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= 2048 and _URL.match(value) else None


def text_color_on(background: str) -> str:
    """Near-black or white, whichever reads better on ``background`` (a hex color)."""
    digits = background[1:]
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits[:3])
    r, g, b = (int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111827" if luminance > 0.6 else "#FFFFFF"


def brand_of(definition: dict) -> Brand:
    """The brand of a (normalized) campaign definition; defaults where it says nothing."""
    branding = definition.get("branding") or {}
    return Brand(
        name=str(definition.get("name") or "Questkit"),
        logo_url=safe_url(branding.get("logo_url")),
        primary=color(branding.get("primary_color"), DEFAULT_PRIMARY),
        accent=color(branding.get("accent_color"), DEFAULT_ACCENT),
    )
