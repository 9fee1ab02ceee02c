"""The tray with a price file it cannot use: live figures at built-in prices, the problem named
in the menu (real pystray menu, PYSTRAY_BACKEND=dummy)."""

from __future__ import annotations

import os
from pathlib import Path

from burntray.app import AppContext
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai.writer import hexai_update
from burntray.ui.controller import TrayController
from burntray.ui.tray import build_menu, pystray_module


def test_tray_shows_figures_and_names_the_bad_price_file(hexai_dir: Path, tmp_path: Path) -> None:
    assert os.environ["PYSTRAY_BACKEND"] == "dummy"
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    missing = tmp_path / "nowhere" / "prices.json"
    ctx0 = AppContext.load(strict=False)
    ctx0.paths.config_file.parent.mkdir(parents=True)
    ctx0.paths.config_file.write_text(f'source = "hexai"\n[pricing]\nlitellm_file = "{missing}"\n')
    ctx = AppContext.load(strict=False)
    assert not ctx.config_error  # config.toml itself is fine: its settings are saved as usual
    monitor = Monitor(ctx.settings, ctx.build_source, history=ctx.history())
    controller = TrayController(ctx, monitor)
    try:
        monitor.tick()
        snapshot = monitor.slot.get()[1]
        assert snapshot is not None
        assert snapshot.status.state == "ok"
        assert snapshot.totals.reqs == 1 and snapshot.totals.cost_usd > 0  # built-in price
        view = controller.view(snapshot)
        assert view.icon.state == "normal"
        menu = build_menu(view, controller, pystray_module("dummy"))
        texts = [str(item.text) for item in menu.items]
        assert "price file not used: built-in prices in use" in texts
        problem = f"pricing.litellm_file: {missing}: does not exist"
        # the entry's submenu holds the problem whole, wrapped to the menu's width
        entry = next(i for i in menu.items if str(i.text).startswith("price file not used"))
        whole = "".join(str(line.text) for line in entry.submenu.items).replace(" ", "")
        assert problem.replace(" ", "") in whole
    finally:
        monitor.stop()
        ctx.close()
