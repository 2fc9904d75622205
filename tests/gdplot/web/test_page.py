"""``gdplot serve``'s page in a real browser (the ``page`` fixture: Playwright driving
chromium; skipped without them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve_helpers import png, write_run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(root / "lr-0.1", {
        "loss.png": png((200, 40, 40), (320, 240)),
        "fit_epoch0002.png": png((40, 160, 40), (320, 240)),
    }, epoch=2, lr=0.1)
    write_run(root / "lr-0.5", {
        "loss.png": png((40, 40, 200), (320, 240)),
        "boundary_epoch0002.png": png((160, 40, 160), (320, 240)),
    }, epoch=2, lr=0.5, batch_size=16, model="logistic", state="running")
    return root


def loaded_image(page, url_part: str):
    """Wait until an <img> whose src holds ``url_part`` has loaded; return its locator."""
    selector = f'img[src*="{url_part}"]'
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector,
    )
    return page.locator(selector)


def test_page_loads_and_shows_every_run(serve, runs, page):
    server = serve(runs)
    page.goto(server.url)
    loaded_image(page, "/files/lr-0.1/loss.png")
    loaded_image(page, "/files/lr-0.1/fit_epoch0002.png")
    loaded_image(page, "/files/lr-0.5/boundary_epoch0002.png")
    assert page.locator(".run-name").all_inner_texts() == ["lr-0.1", "lr-0.5"]
    statuses = page.locator(".run-status").all_inner_texts()
    assert "epoch 2 of 10" in statuses[0] and "lr 0.1" in statuses[0]
    assert "FINISHED" in statuses[0].upper()
    assert "logistic" in statuses[1] and "batch 16" in statuses[1]
    # The overlay: one curve per run; the legend gives lr and batch size.
    assert page.locator("#overlay polyline").count() == 2
    legend = page.locator("#legend").inner_text()
    assert "lr 0.1, full batch" in legend and "lr 0.5, batch 16" in legend
    # Plot kinds aligned: a row per kind, a cell per run in each row.
    assert page.locator(".row-label").all_inner_texts() == ["LOSS", "FIT", "DECISION BOUNDARY"]
    assert page.locator("#connection").inner_text() == "live"
    assert page.problems == []


def test_new_frame_swaps_in_without_reloading(serve, runs, page):
    server = serve(runs)
    page.goto(server.url)
    old = loaded_image(page, "/files/lr-0.1/fit_epoch0002.png")
    page.evaluate("window.__marker = 'same document'")
    # Every change of the image's src must find the new image already loaded (no flicker).
    page.evaluate("""s => {
        window.__swaps = [];
        const img = document.querySelector(s);
        new MutationObserver(() => window.__swaps.push([img.src, img.complete && img.naturalWidth > 0]))
            .observe(img, {attributes: true, attributeFilter: ["src"]});
    }""", 'img[src*="/files/lr-0.1/fit_epoch0002.png"]')
    handle = old.element_handle()
    for epoch in (4, 6):
        write_run(runs / "lr-0.1", {
            "loss.png": png((200, 40, 40), (320, 240)),
            f"fit_epoch{epoch:04d}.png": png((epoch * 30, 90, 40), (320, 240)),
        }, epoch=epoch)
        page.wait_for_function(
            "([img, part]) => img.src.includes(part) && img.complete && img.naturalWidth > 0",
            arg=[handle, f"/files/lr-0.1/fit_epoch{epoch:04d}.png"],
        )
    assert page.evaluate("window.__marker") == "same document"
    swaps = page.evaluate("window.__swaps")
    assert [loaded for _, loaded in swaps] == [True] * len(swaps) and len(swaps) >= 1
    assert "epoch 6 of 10" in page.locator(".run-status").first.inner_text()
    assert page.problems == []


def test_a_run_started_later_appears(serve, runs, page):
    server = serve(runs)
    page.goto(server.url)
    loaded_image(page, "/files/lr-0.5/loss.png")
    page.evaluate("window.__marker = 'same document'")
    write_run(runs / "lr-1.0", {"loss.png": png((10, 10, 10), (320, 240))}, lr=1.0)
    loaded_image(page, "/files/lr-1.0/loss.png")
    assert page.locator(".run-name").all_inner_texts() == ["lr-0.1", "lr-0.5", "lr-1.0"]
    assert page.locator("#overlay polyline").count() == 3
    assert page.evaluate("window.__marker") == "same document"
    assert page.problems == []
