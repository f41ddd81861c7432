COMMON_OBJS += common/hvctl-client.o
