"""nbval settings: outputs that legitimately vary (py3Dmol/widget HTML with time-based ids, JavaScript,
warnings on stderr) are never compared."""


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("text/html", "application/javascript", "application/vnd.jupyter.widget-view+json",
                                   "stderr")
