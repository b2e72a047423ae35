#include "CClockSync.h"
#include <sys/timex.h>

int CClockSync_state(void) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state < 0) return -1;
    return (state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0) ? 1 : 0;
}
