# The block layer: images (block.c), the raw format (raw.c), the host file
# underneath (file.c), and the drives the command line defines (drive.c).
DM_OBJS += block/block.o block/raw.o block/file.o block/drive.o
