"""Map the repository's top-level folders under one import namespace, `microgpt_tui`.

`engine/` installs as `microgpt_tui.engine`, `tui/` as `microgpt_tui.tui`, and so on, for both
wheels and `pip install -e .`; nothing generic like `engine` lands in site-packages.
"""

from setuptools import find_packages, setup

TOP_LEVEL = ("engine", "kernels", "tui", "assets")

packages = []
package_dir = {}
for top in TOP_LEVEL:
    package_dir[f"microgpt_tui.{top}"] = top
    packages.append(f"microgpt_tui.{top}")
    packages += [f"microgpt_tui.{top}.{sub}" for sub in find_packages(top)]

setup(packages=packages, package_dir=package_dir)
