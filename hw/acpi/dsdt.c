/* The DSDT's AML, compiled from dsdt.asl by iasl at build time. */
#include "hw/acpi/dsdt.hex"

const unsigned int dsdt_aml_size = sizeof(dsdt_aml_code);
