DM_OBJS += hw/timer/rtc.o
