"""The status line stamped from cached glyphs looks as matplotlib would draw it."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from gdplot.plots.glyphs import TextStamp


def _figure_with_text(line: str, **style) -> tuple[Figure, object]:
    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    text = fig.text(0.5, 0.5, line, ha="center", va="baseline", size=12, **style)
    return fig, text


def _matplotlib_and_stamped(line: str, **style) -> tuple[np.ndarray, np.ndarray]:
    """The figure's pixels with ``line`` drawn by matplotlib, and by a stamp instead."""
    fig, text = _figure_with_text(line, **style)
    fig.canvas.draw()
    drawn = np.array(fig.canvas.buffer_rgba())
    text.set_visible(False)
    fig.canvas.draw()
    stamped = np.array(fig.canvas.buffer_rgba())
    centre, baseline = text.get_transform().transform(text.get_position())
    TextStamp(text, fig.dpi).draw(stamped, line, centre, stamped.shape[0] - round(baseline))
    return drawn, stamped


def _ink_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    ink = pixels[..., :3].min(axis=2) < 200
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def test_a_glyph_is_matplotlibs_own_pixels():
    font, dpi = FontProperties(size=12), 100.0
    fig, text = _figure_with_text("5")
    text.set_fontproperties(font)
    stamp = TextStamp(text, dpi)
    # matplotlib draws "5" at a whole-pixel pen position; the stamp puts the same glyph there.
    renderer = RendererAgg(60, 60, dpi)
    renderer.draw_text(renderer.new_gc(), 20, 40, "5", font, 0)
    expected = np.asarray(renderer.buffer_rgba())[..., 3]
    canvas = np.zeros((60, 60, 4), np.uint8)
    stamp.draw(canvas, "5", 20 + stamp.width("5") / 2, 40)
    np.testing.assert_array_equal(canvas[..., 3], expected)
    assert expected.sum() > 0


@pytest.mark.parametrize("line", ["epoch 137, loss 0.2345", "epoch 5, loss 1.23e+04", "loss nan"])
def test_a_stamped_line_sits_where_matplotlib_draws_it(line):
    drawn, stamped = _matplotlib_and_stamped(line)
    # Glyphs start at whole pixels, without kerning: a pixel or two from matplotlib's places.
    assert np.allclose(_ink_box(stamped), _ink_box(drawn), atol=2)
    # The same glyphs: the same amount of ink (antialiasing spreads it a little differently).
    ink_drawn = (255 - drawn[..., 0].astype(int)).sum()
    ink_stamped = (255 - stamped[..., 0].astype(int)).sum()
    assert abs(ink_stamped - ink_drawn) <= 0.03 * ink_drawn
    assert (stamped[..., 3] == 255).all()  # an opaque figure stays opaque


def test_a_stamp_keeps_the_texts_colour_and_alpha():
    drawn, stamped = _matplotlib_and_stamped("epoch 12", color="tab:red", alpha=0.5)
    darkest = stamped[..., :3].reshape(-1, 3)[stamped[..., :3].sum(axis=2).argmin()]
    darkest_drawn = drawn[..., :3].reshape(-1, 3)[drawn[..., :3].sum(axis=2).argmin()]
    np.testing.assert_allclose(darkest, darkest_drawn, atol=6)


def test_a_stamp_over_a_transparent_buffer_paints_straight_alpha():
    fig, text = _figure_with_text("0")
    canvas = np.zeros((40, 40, 4), np.uint8)
    TextStamp(text, fig.dpi).draw(canvas, "0", 20, 30)
    inked = canvas[..., 3] > 0
    assert inked.any()
    assert (canvas[inked][:, :3] == 0).all()  # black, however faint, over nothing


def test_a_line_past_the_buffers_edges_is_cut_off():
    fig, text = _figure_with_text("x")
    stamp = TextStamp(text, fig.dpi)
    canvas = np.full((20, 30, 4), 255, np.uint8)
    for centre, baseline in [(-5, 10), (35, 10), (15, 2), (15, 40), (-100, -100)]:
        stamp.draw(canvas, "epoch 1000, loss 0.5", centre, baseline)
    assert canvas.shape == (20, 30, 4)


def test_only_plain_upright_text_is_stamped():
    fig, text = _figure_with_text("epoch 1")
    assert TextStamp.can_stamp(text)
    text.set_rotation(90)
    assert not TextStamp.can_stamp(text)
    text.set_rotation(0)
    text.set_usetex(True)
    assert not TextStamp.can_stamp(text)
