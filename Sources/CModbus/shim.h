#ifndef ESSD_CMODBUS_SHIM_H
#define ESSD_CMODBUS_SHIM_H
#include <modbus/modbus.h>
#include <errno.h>
#include <sys/ioctl.h>

/* libmodbus' error macros add an enum to MODBUS_ENOBASE and do not import into Swift. */
static inline int CModbus_ENOBASE(void) { return MODBUS_ENOBASE; }
static inline int CModbus_EMBBADCRC(void) { return EMBBADCRC; }
static inline int CModbus_EMBBADDATA(void) { return EMBBADDATA; }
static inline int CModbus_EMBBADEXC(void) { return EMBBADEXC; }
static inline int CModbus_EMBUNKEXC(void) { return EMBUNKEXC; }
static inline int CModbus_EMBMDATA(void) { return EMBMDATA; }
static inline int CModbus_EMBBADSLAVE(void) { return EMBBADSLAVE; }
static inline int CModbus_EMBXGTAR(void) { return EMBXGTAR; }
static inline int CModbus_TCP_MAX_ADU_LENGTH(void) { return MODBUS_TCP_MAX_ADU_LENGTH; }
static inline int CModbus_RTU_MAX_ADU_LENGTH(void) { return MODBUS_RTU_MAX_ADU_LENGTH; }
static inline int CModbus_errno(void) { return errno; }
/* Bytes waiting to be read on a socket or tty (ioctl FIONREAD; ioctl is variadic and does not
   import into Swift). 0 when there are none or the call fails. */
static inline int CModbus_pending_bytes(int fd) {
    int pending = 0;
    return ioctl(fd, FIONREAD, &pending) == 0 ? pending : 0;
}
#endif
