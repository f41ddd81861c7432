# Benchmarks for `make bench`; each prints its figures beside QEMU's.
BENCHES += tests/bench/io-roundtrip.sh tests/bench/soft-mips.sh tests/bench/seabios-boot.sh tests/bench/boot-time.sh tests/bench/usb-idle.sh
BENCHES += tests/bench/disk-bench.sh
BENCHES += tests/bench/net-throughput.sh
