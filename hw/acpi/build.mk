DM_OBJS += hw/acpi/piix4-pm.o hw/acpi/tables.o hw/acpi/dsdt.o
CLEAN_FILES += hw/acpi/dsdt.hex hw/acpi/dsdt.aml

# The DSDT: ASL in the repository, AML compiled by iasl (acpica-tools).
hw/acpi/dsdt.hex: hw/acpi/dsdt.asl
	iasl -p hw/acpi/dsdt -tc $< >/dev/null

hw/acpi/dsdt.o: hw/acpi/dsdt.hex
