DM_OBJS += net/net.o net/user.o net/socket.o net/tap.o
