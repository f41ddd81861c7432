/* Just enough of the configure-generated config-host.h for QEMU's qtest
 * client code (libqtest, libqmp, libqos, qobject); nothing of QEMU itself
 * is compiled. */
#define CONFIG_POSIX 1
#define CONFIG_LINUX 1
#define CONFIG_IOVEC 1
#define HOST_X86_64 1
#define QEMU_VERSION "7.2.0"
#define QEMU_VERSION_MAJOR 7
#define QEMU_VERSION_MINOR 2
#define QEMU_VERSION_MICRO 0
#define CONFIG_HOST_DSOSUF ".so"
#define CONFIG_BDRV_RW_WHITELIST ""
#define CONFIG_BDRV_RO_WHITELIST ""
#define CONFIG_SMBIOS_ENTRY_POINT_TYPE_64 1
#define CONFIG_KVM_TARGETS "i386-softmmu", "x86_64-softmmu"
#define CONFIG_PREFIX "/usr"
#define CONFIG_BINDIR "bin"
