# QEMU's own qtest programs against our qemu-dm (see docs/qtest.md).
# The script fetches and builds them itself on first run (cached).
TESTS += tests/qemu-qtest/qemu-libqtest.sh
