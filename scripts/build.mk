# `make run`: build everything, then boot the test guest on the serial console.
run: all
	scripts/run-guest.sh $(RUN_ARGS)

.PHONY: run
