COMMON_OBJS += common/hvctl-client.o common/unix-socket.o
