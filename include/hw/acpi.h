/*
 * ACPI for the i440FX PC: the PIIX4 PM function and the tables that
 * describe the machine.
 */
#ifndef HW_ACPI_H
#define HW_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_BASE  0x600     /* where firmware puts PMBA */
#define ACPI_GPE0_BLK 0xafe0
#define ACPI_S5_TYPE  0         /* SLP_TYP of \_S5 in our DSDT */
#define ACPI_SCI_IRQ  9

int piix4_pm_init(void);
/* Program PMBA as firmware would (direct kernel boot has none). */
void piix4_pm_enable(void);

/* Build the tables and hand them to firmware through fw_cfg
 * (etc/acpi/tables, etc/acpi/rsdp, etc/table-loader). */
int acpi_tables_fw_cfg(unsigned nr_cpus);
/* Or lay them out in guest RAM at gpa (for direct kernel boot); returns
 * the RSDP's address, 0 on failure.  *size gets the bytes used. */
uint64_t acpi_tables_install(unsigned nr_cpus, uint64_t gpa, uint64_t *size);

#endif
