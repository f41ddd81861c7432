/*
 * The DSDT of the i440FX PC: the PCI root bridge with its interrupt
 * routing (slot s, pin p -> link (s + p) mod 4 -> PIIX3 PIRQ registers),
 * the ISA devices a PC has, and the S5 sleep type that powers off.
 * Compiled at build time with iasl (acpica-tools).
 */
DefinitionBlock ("dsdt.aml", "DSDT", 1, "HVMDM ", "HVMDSDT ", 1)
{
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, 0x00)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
            })
            Name (_PRT, Package ()
            {
                Package () { 0x0001FFFF, 0, LNKB, 0 },
                Package () { 0x0001FFFF, 1, LNKC, 0 },
                Package () { 0x0001FFFF, 2, LNKD, 0 },
                Package () { 0x0001FFFF, 3, LNKA, 0 },
                Package () { 0x0002FFFF, 0, LNKC, 0 },
                Package () { 0x0002FFFF, 1, LNKD, 0 },
                Package () { 0x0002FFFF, 2, LNKA, 0 },
                Package () { 0x0002FFFF, 3, LNKB, 0 },
                Package () { 0x0003FFFF, 0, LNKD, 0 },
                Package () { 0x0003FFFF, 1, LNKA, 0 },
                Package () { 0x0003FFFF, 2, LNKB, 0 },
                Package () { 0x0003FFFF, 3, LNKC, 0 },
                Package () { 0x0004FFFF, 0, LNKA, 0 },
                Package () { 0x0004FFFF, 1, LNKB, 0 },
                Package () { 0x0004FFFF, 2, LNKC, 0 },
                Package () { 0x0004FFFF, 3, LNKD, 0 },
                Package () { 0x0005FFFF, 0, LNKB, 0 },
                Package () { 0x0005FFFF, 1, LNKC, 0 },
                Package () { 0x0005FFFF, 2, LNKD, 0 },
                Package () { 0x0005FFFF, 3, LNKA, 0 },
                Package () { 0x0006FFFF, 0, LNKC, 0 },
                Package () { 0x0006FFFF, 1, LNKD, 0 },
                Package () { 0x0006FFFF, 2, LNKA, 0 },
                Package () { 0x0006FFFF, 3, LNKB, 0 },
                Package () { 0x0007FFFF, 0, LNKD, 0 },
                Package () { 0x0007FFFF, 1, LNKA, 0 },
                Package () { 0x0007FFFF, 2, LNKB, 0 },
                Package () { 0x0007FFFF, 3, LNKC, 0 },
                Package () { 0x0008FFFF, 0, LNKA, 0 },
                Package () { 0x0008FFFF, 1, LNKB, 0 },
                Package () { 0x0008FFFF, 2, LNKC, 0 },
                Package () { 0x0008FFFF, 3, LNKD, 0 },
                Package () { 0x0009FFFF, 0, LNKB, 0 },
                Package () { 0x0009FFFF, 1, LNKC, 0 },
                Package () { 0x0009FFFF, 2, LNKD, 0 },
                Package () { 0x0009FFFF, 3, LNKA, 0 },
                Package () { 0x000aFFFF, 0, LNKC, 0 },
                Package () { 0x000aFFFF, 1, LNKD, 0 },
                Package () { 0x000aFFFF, 2, LNKA, 0 },
                Package () { 0x000aFFFF, 3, LNKB, 0 },
                Package () { 0x000bFFFF, 0, LNKD, 0 },
                Package () { 0x000bFFFF, 1, LNKA, 0 },
                Package () { 0x000bFFFF, 2, LNKB, 0 },
                Package () { 0x000bFFFF, 3, LNKC, 0 },
                Package () { 0x000cFFFF, 0, LNKA, 0 },
                Package () { 0x000cFFFF, 1, LNKB, 0 },
                Package () { 0x000cFFFF, 2, LNKC, 0 },
                Package () { 0x000cFFFF, 3, LNKD, 0 },
                Package () { 0x000dFFFF, 0, LNKB, 0 },
                Package () { 0x000dFFFF, 1, LNKC, 0 },
                Package () { 0x000dFFFF, 2, LNKD, 0 },
                Package () { 0x000dFFFF, 3, LNKA, 0 },
                Package () { 0x000eFFFF, 0, LNKC, 0 },
                Package () { 0x000eFFFF, 1, LNKD, 0 },
                Package () { 0x000eFFFF, 2, LNKA, 0 },
                Package () { 0x000eFFFF, 3, LNKB, 0 },
                Package () { 0x000fFFFF, 0, LNKD, 0 },
                Package () { 0x000fFFFF, 1, LNKA, 0 },
                Package () { 0x000fFFFF, 2, LNKB, 0 },
                Package () { 0x000fFFFF, 3, LNKC, 0 },
                Package () { 0x0010FFFF, 0, LNKA, 0 },
                Package () { 0x0010FFFF, 1, LNKB, 0 },
                Package () { 0x0010FFFF, 2, LNKC, 0 },
                Package () { 0x0010FFFF, 3, LNKD, 0 },
                Package () { 0x0011FFFF, 0, LNKB, 0 },
                Package () { 0x0011FFFF, 1, LNKC, 0 },
                Package () { 0x0011FFFF, 2, LNKD, 0 },
                Package () { 0x0011FFFF, 3, LNKA, 0 },
                Package () { 0x0012FFFF, 0, LNKC, 0 },
                Package () { 0x0012FFFF, 1, LNKD, 0 },
                Package () { 0x0012FFFF, 2, LNKA, 0 },
                Package () { 0x0012FFFF, 3, LNKB, 0 },
                Package () { 0x0013FFFF, 0, LNKD, 0 },
                Package () { 0x0013FFFF, 1, LNKA, 0 },
                Package () { 0x0013FFFF, 2, LNKB, 0 },
                Package () { 0x0013FFFF, 3, LNKC, 0 },
                Package () { 0x0014FFFF, 0, LNKA, 0 },
                Package () { 0x0014FFFF, 1, LNKB, 0 },
                Package () { 0x0014FFFF, 2, LNKC, 0 },
                Package () { 0x0014FFFF, 3, LNKD, 0 },
                Package () { 0x0015FFFF, 0, LNKB, 0 },
                Package () { 0x0015FFFF, 1, LNKC, 0 },
                Package () { 0x0015FFFF, 2, LNKD, 0 },
                Package () { 0x0015FFFF, 3, LNKA, 0 },
                Package () { 0x0016FFFF, 0, LNKC, 0 },
                Package () { 0x0016FFFF, 1, LNKD, 0 },
                Package () { 0x0016FFFF, 2, LNKA, 0 },
                Package () { 0x0016FFFF, 3, LNKB, 0 },
                Package () { 0x0017FFFF, 0, LNKD, 0 },
                Package () { 0x0017FFFF, 1, LNKA, 0 },
                Package () { 0x0017FFFF, 2, LNKB, 0 },
                Package () { 0x0017FFFF, 3, LNKC, 0 },
                Package () { 0x0018FFFF, 0, LNKA, 0 },
                Package () { 0x0018FFFF, 1, LNKB, 0 },
                Package () { 0x0018FFFF, 2, LNKC, 0 },
                Package () { 0x0018FFFF, 3, LNKD, 0 },
                Package () { 0x0019FFFF, 0, LNKB, 0 },
                Package () { 0x0019FFFF, 1, LNKC, 0 },
                Package () { 0x0019FFFF, 2, LNKD, 0 },
                Package () { 0x0019FFFF, 3, LNKA, 0 },
                Package () { 0x001aFFFF, 0, LNKC, 0 },
                Package () { 0x001aFFFF, 1, LNKD, 0 },
                Package () { 0x001aFFFF, 2, LNKA, 0 },
                Package () { 0x001aFFFF, 3, LNKB, 0 },
                Package () { 0x001bFFFF, 0, LNKD, 0 },
                Package () { 0x001bFFFF, 1, LNKA, 0 },
                Package () { 0x001bFFFF, 2, LNKB, 0 },
                Package () { 0x001bFFFF, 3, LNKC, 0 },
                Package () { 0x001cFFFF, 0, LNKA, 0 },
                Package () { 0x001cFFFF, 1, LNKB, 0 },
                Package () { 0x001cFFFF, 2, LNKC, 0 },
                Package () { 0x001cFFFF, 3, LNKD, 0 },
                Package () { 0x001dFFFF, 0, LNKB, 0 },
                Package () { 0x001dFFFF, 1, LNKC, 0 },
                Package () { 0x001dFFFF, 2, LNKD, 0 },
                Package () { 0x001dFFFF, 3, LNKA, 0 },
                Package () { 0x001eFFFF, 0, LNKC, 0 },
                Package () { 0x001eFFFF, 1, LNKD, 0 },
                Package () { 0x001eFFFF, 2, LNKA, 0 },
                Package () { 0x001eFFFF, 3, LNKB, 0 },
                Package () { 0x001fFFFF, 0, LNKD, 0 },
                Package () { 0x001fFFFF, 1, LNKA, 0 },
                Package () { 0x001fFFFF, 2, LNKB, 0 },
                Package () { 0x001fFFFF, 3, LNKC, 0 }
            })
            Device (ISA)
            {
                Name (_ADR, 0x00010000)
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA, 8,
                    PRQB, 8,
                    PRQC, 8,
                    PRQD, 8
                }
                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x10, 0x02)
                        IRQNoFlags () { 8 }
                    })
                }
                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () { 1 }
                    })
                }
                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () { 12 }
                    })
                }
                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x01)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                        IRQNoFlags () { 4 }
                    })
                }
            }
        }
        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 1)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 5, 10, 11 }
            })
            Method (_STA, 0, NotSerialized)
            {
                If (And (\_SB.PCI0.ISA.PRQA, 0x80)) { Return (0x09) }
                Return (0x0B)
            }
            Method (_DIS, 0, NotSerialized)
            {
                Or (\_SB.PCI0.ISA.PRQA, 0x80, \_SB.PCI0.ISA.PRQA)
            }
            Method (_CRS, 0, Serialized)
            {
                Name (RT, ResourceTemplate ()
                {
                    Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 0 }
                })
                CreateDWordField (RT, 0x05, IRQV)
                If (LNot (And (\_SB.PCI0.ISA.PRQA, 0x80)))
                {
                    Store (And (\_SB.PCI0.ISA.PRQA, 0x0F), IRQV)
                }
                Return (RT)
            }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQV)
                Store (IRQV, \_SB.PCI0.ISA.PRQA)
            }
        }
        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 2)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 5, 10, 11 }
            })
            Method (_STA, 0, NotSerialized)
            {
                If (And (\_SB.PCI0.ISA.PRQB, 0x80)) { Return (0x09) }
                Return (0x0B)
            }
            Method (_DIS, 0, NotSerialized)
            {
                Or (\_SB.PCI0.ISA.PRQB, 0x80, \_SB.PCI0.ISA.PRQB)
            }
            Method (_CRS, 0, Serialized)
            {
                Name (RT, ResourceTemplate ()
                {
                    Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 0 }
                })
                CreateDWordField (RT, 0x05, IRQV)
                If (LNot (And (\_SB.PCI0.ISA.PRQB, 0x80)))
                {
                    Store (And (\_SB.PCI0.ISA.PRQB, 0x0F), IRQV)
                }
                Return (RT)
            }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQV)
                Store (IRQV, \_SB.PCI0.ISA.PRQB)
            }
        }
        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 3)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 5, 10, 11 }
            })
            Method (_STA, 0, NotSerialized)
            {
                If (And (\_SB.PCI0.ISA.PRQC, 0x80)) { Return (0x09) }
                Return (0x0B)
            }
            Method (_DIS, 0, NotSerialized)
            {
                Or (\_SB.PCI0.ISA.PRQC, 0x80, \_SB.PCI0.ISA.PRQC)
            }
            Method (_CRS, 0, Serialized)
            {
                Name (RT, ResourceTemplate ()
                {
                    Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 0 }
                })
                CreateDWordField (RT, 0x05, IRQV)
                If (LNot (And (\_SB.PCI0.ISA.PRQC, 0x80)))
                {
                    Store (And (\_SB.PCI0.ISA.PRQC, 0x0F), IRQV)
                }
                Return (RT)
            }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQV)
                Store (IRQV, \_SB.PCI0.ISA.PRQC)
            }
        }
        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 4)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 5, 10, 11 }
            })
            Method (_STA, 0, NotSerialized)
            {
                If (And (\_SB.PCI0.ISA.PRQD, 0x80)) { Return (0x09) }
                Return (0x0B)
            }
            Method (_DIS, 0, NotSerialized)
            {
                Or (\_SB.PCI0.ISA.PRQD, 0x80, \_SB.PCI0.ISA.PRQD)
            }
            Method (_CRS, 0, Serialized)
            {
                Name (RT, ResourceTemplate ()
                {
                    Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 0 }
                })
                CreateDWordField (RT, 0x05, IRQV)
                If (LNot (And (\_SB.PCI0.ISA.PRQD, 0x80)))
                {
                    Store (And (\_SB.PCI0.ISA.PRQD, 0x0F), IRQV)
                }
                Return (RT)
            }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQV)
                Store (IRQV, \_SB.PCI0.ISA.PRQD)
            }
        }
    }
    Name (\_S5, Package (0x04) { 0x00, 0x00, 0x00, 0x00 })
}
