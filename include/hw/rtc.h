#ifndef HW_RTC_H
#define HW_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_CENTURY 0x32

/* The MC146818 at 0x70/0x71, IRQ 8; time from the host, UTC or local. */
int rtc_init(bool localtime);
/* Start from this time instead of the host's (-rtc base=DATE): seconds
 * since the epoch as the guest will read them. */
void rtc_set_time(int64_t epoch_sec);
/* NVRAM bytes the machine fills in (memory sizes, boot order...). */
void rtc_set_cmos(uint8_t index, uint8_t value);
void rtc_update_checksum(void);

#endif
