"""Draw the brand images in custom_components/nomos_energy/brand/ (run once, commit the PNGs).

The icon: a rounded square in Nomos orange with a white "N" whose diagonal is
a lightning bolt. The logo: the icon beside the words "Nomos Energy".
Usage: .venv/bin/python script/brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "nomos_energy" / "brand"
ORANGE = (228, 87, 46, 255)
INK = (29, 29, 27, 255)
WHITE = (255, 255, 255, 255)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def icon(size: int) -> Image.Image:
    """Draw the icon at `size` pixels (drawn 4x larger, then scaled down smoothly)."""
    scale = 4
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = big * 0.04
    draw.rounded_rectangle(
        (margin, margin, big - margin, big - margin), radius=big * 0.22, fill=ORANGE
    )
    unit = big / 100
    # Two uprights of the N and a bolt-shaped diagonal between them.
    draw.rectangle((24 * unit, 22 * unit, 36 * unit, 78 * unit), fill=WHITE)
    draw.rectangle((64 * unit, 22 * unit, 76 * unit, 78 * unit), fill=WHITE)
    # The diagonal runs top-left to bottom-right and zig-zags like a bolt.
    bolt = [(36, 22), (50, 22), (58, 47), (52, 47), (64, 78), (50, 78), (42, 53), (48, 53)]
    draw.polygon([(x * unit, y * unit) for x, y in bolt], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int) -> Image.Image:
    """Draw the logo: icon and name on a transparent background."""
    font = ImageFont.truetype(FONT, int(height * 0.42))
    text = "Nomos Energy"
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    gap = int(height * 0.18)
    width = height + gap + (right - left) + int(height * 0.1)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.alpha_composite(icon(height))
    draw = ImageDraw.Draw(image)
    draw.text((height + gap - left, (height - (bottom - top)) / 2 - top), text, font=font, fill=INK)
    return image


def main() -> None:
    """Write icon.png, icon@2x.png, logo.png and logo@2x.png."""
    BRAND.mkdir(exist_ok=True)
    icon(256).save(BRAND / "icon.png", optimize=True)
    icon(512).save(BRAND / "icon@2x.png", optimize=True)
    logo(128).save(BRAND / "logo.png", optimize=True)
    logo(256).save(BRAND / "logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
