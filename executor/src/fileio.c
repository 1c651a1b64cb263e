/*
 * fileio.c — the one safe file writer and the one safe file reader of the
 * kit (msp_util.h): writes go through an unpredictable temporary file and a
 * rename or link, never through a symbolic link and never over an existing
 * file unless asked; reads never block on a FIFO or device.
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/msp_util.h"

#define TMP_SUFFIX ".tmp.XXXXXX"

/* path's directory and base name: "dir/.base.tmp.XXXXXX" in a new string
 * (free()), or NULL when out of memory. */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 1 + sizeof TMP_SUFFIX;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%.*s.%s" TMP_SUFFIX, (int)dir, path, path + dir);
    return t;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int msp_write_file(const char *path, const void *data, size_t len, int mode,
                   int flags)
{
    if (!path || !*path || (!data && len)) {
        errno = EINVAL;
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            errno = ELOOP;
            return -1;
        }
        if (!(flags & MSP_WRITE_REPLACE)) {
            errno = EEXIST;
            return -1;
        }
        if (!S_ISREG(st.st_mode)) {
            errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
            return -1;
        }
    } else if (errno != ENOENT) {
        return -1;
    }
    char *tmp = temp_template(path);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int err = 0;
    if (write_all(fd, data, len) != 0 || fchmod(fd, (mode_t)mode) != 0 ||
        (!(flags & MSP_WRITE_NO_SYNC) && fsync(fd) != 0))
        err = errno ? errno : EIO;
    if (close(fd) != 0 && !err)
        err = errno;
    int renamed = 0;
    if (!err && (flags & MSP_WRITE_REPLACE)) {
        /* rename(2) replaces the directory entry, never a link's target */
        renamed = rename(tmp, path) == 0;
        err = renamed ? 0 : errno;
    } else if (!err && link(tmp, path) != 0) {
        /* link(2) never replaces anything, a dangling link included; a
         * file system without hard links gets the same from renameat2 */
        err = errno;
        if (err == EPERM || err == EOPNOTSUPP || err == ENOSYS) {
            renamed =
                renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0;
            err = renamed ? 0 : errno;
        }
    }
    if (!renamed)
        (void)unlink(tmp); /* the data is in path by now, or nowhere */
    free(tmp);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int msp_read_file(const char *path, size_t cap, char **out, size_t *len)
{
    if (!path || !out || !len || cap >= ((size_t)-1) - 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    int bad = fstat(fd, &st) != 0    ? errno
              : S_ISDIR(st.st_mode)  ? EISDIR
              : !S_ISREG(st.st_mode) ? EINVAL
                                     : 0;
    if (bad) {
        (void)close(fd); /* read-only */
        errno = bad;
        return -1;
    }
    if (st.st_size > 0 && (unsigned long long)st.st_size > cap) {
        (void)close(fd); /* read-only */
        errno = EFBIG;
        return -1;
    }
    size_t room = (size_t)st.st_size + 1, n = 0; /* + 1: sees growth */
    if (room > cap + 1)
        room = cap + 1;
    char *buf = malloc(room + 1);
    int err = buf ? 0 : ENOMEM;
    while (!err) {
        if (n == room) {
            if (room > cap) {
                err = EFBIG;
                break;
            }
            size_t more = room * 2 > cap + 1 ? cap + 1 : room * 2;
            char *grown = realloc(buf, more + 1);
            if (!grown) {
                err = ENOMEM;
                break;
            }
            buf = grown;
            room = more;
        }
        ssize_t got = read(fd, buf + n, room - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            err = errno;
        else if (got == 0)
            break;
        else
            n += (size_t)got;
    }
    (void)close(fd); /* read-only */
    if (!err && n > cap)
        err = EFBIG;
    if (err) {
        free(buf);
        errno = err;
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

const char *msp_file_strerror(int err)
{
    switch (err) {
    case EINVAL: return "not a regular file";
    case ELOOP: return "a symbolic link (not followed)";
    case EEXIST: return "already exists";
    case EFBIG: return "too large";
    default: return strerror(err);
    }
}
