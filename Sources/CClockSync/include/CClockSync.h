#ifndef CCLOCKSYNC_H
#define CCLOCKSYNC_H

/// The kernel's view of the system clock's synchronisation, from adjtimex(2) with no changes:
/// 1 synchronised, 0 not (TIME_ERROR or STA_UNSYNC), -1 the call failed (errno set; e.g. EPERM
/// under systemd's ProtectClock=).
int CClockSync_state(void);

#endif
