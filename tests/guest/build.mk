# Whole guests on the software CPU.  Memtest86+ through direct boot:
# two boots of about half a minute each.
TESTS += tests/guest/memtest-test.sh
