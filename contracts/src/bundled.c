/*
 * bundled.c — where the bundled fixtures are: installed next to the program
 * (bin/../share/msp-contract-kit/contracts/fixtures), else in the source
 * tree the program was built from.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <contracts/fixture.h>

#ifndef MSP_BIN_TO_DATA /* set by cmake/Install.cmake */
#define MSP_BIN_TO_DATA "../share/msp-contract-kit"
#endif
#ifndef MSP_DEFAULT_CONTRACTS
#define MSP_DEFAULT_CONTRACTS "contracts/fixtures"
#endif

const char *mspf_bundled_dir(void)
{
    static char dir[PATH_MAX];
    char exe[PATH_MAX];
    struct stat st;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char joined[PATH_MAX + 64];
            int len =
                snprintf(joined, sizeof joined, "%s/%s/contracts/fixtures", exe,
                         MSP_BIN_TO_DATA);
            if (len > 0 && (size_t)len < sizeof joined &&
                stat(joined, &st) == 0 && S_ISDIR(st.st_mode) &&
                realpath(joined, dir))
                return dir;
        }
    }
    return MSP_DEFAULT_CONTRACTS;
}
