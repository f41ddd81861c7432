FW_CFG_OBJS := hw/nvram/fw_cfg.o
DM_OBJS += $(FW_CFG_OBJS)
TEST_PROGS += tests/fw_cfg-unit
TESTS += tests/fw_cfg-unit
CLEAN_FILES += tests/fw_cfg-unit.o

# The unit test links fw_cfg alone against tests/fw_cfg-unit.c's stand-in
# dm services; the qtest tests drive it inside qemu-dm.
tests/fw_cfg-unit: tests/fw_cfg-unit.o $(FW_CFG_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
