DM_OBJS += ui/console.o ui/ui.o
ifeq ($(CONFIG_VNC),yes)
DM_OBJS += ui/vnc.o ui/keymap.o
endif
ifeq ($(CONFIG_SDL),yes)
DM_OBJS += ui/sdl.o
endif
ifeq ($(CONFIG_SDL),yes)
TESTS += tests/ui/sdl-test.sh
endif
