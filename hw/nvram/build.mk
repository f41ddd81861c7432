# fw_cfg joins DM_OBJS once the dm core (dm/) lands; until then its unit
# test links it against tests/fw_cfg-unit.c's stand-in dm services.
FW_CFG_OBJS := hw/nvram/fw_cfg.o
TEST_PROGS += tests/fw_cfg-unit
TESTS += tests/fw_cfg-unit
CLEAN_FILES += tests/fw_cfg-unit.o

tests/fw_cfg-unit: tests/fw_cfg-unit.o $(FW_CFG_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
