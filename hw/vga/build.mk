DM_OBJS += hw/vga/vga.o hw/vga/stdvga.o
