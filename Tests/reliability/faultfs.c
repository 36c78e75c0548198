// faultfs: an LD_PRELOAD shim that makes file I/O under one directory fail on demand, for the reliability suite.
//
// Environment:
//   FAULTFS_DIR      absolute path; only file descriptors opened under it are touched (the data directory).
//   FAULTFS_CONTROL  a file holding the current mode, re-read on every write or sync of a tracked descriptor:
//                      off           nothing injected
//                      enospc        write/pwrite/writev/pwritev fail with ENOSPC
//                      eio           the same writes fail with EIO
//                      fsync_eio     fsync/fdatasync fail with EIO (writes go through: pages that never
//                                    reach the disk, the case "fsyncgate" is about)
//                      short         every write writes half of what it was asked (a real short write)
//                      short_enospc  a write writes half, the next one fails with ENOSPC (a torn record)
//   FAULTFS_LOG      optional; one line per injected fault ("<mode> <call>") is appended here.
//   FAULTFS_SYNC_DELAY_US  optional; after every successful fsync/fdatasync of a tracked descriptor, sleep this
//                    many microseconds: widens the window between "durable" and "answered" so that a crash loop's
//                    kills land in it (the delivery is stored but its 202 never leaves).
//
// Build: cc -shared -fPIC -O2 -o faultfs.so faultfs.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 65536
static _Atomic unsigned char tracked[MAX_FD];
static _Atomic unsigned char short_pending[MAX_FD];

enum mode { M_OFF, M_ENOSPC, M_EIO, M_FSYNC_EIO, M_SHORT, M_SHORT_ENOSPC };
static const char *mode_names[] = {"off", "enospc", "eio", "fsync_eio", "short", "short_enospc"};

static int under_dir(int dirfd, const char *path) {
    const char *dir = getenv("FAULTFS_DIR");
    if (!dir || !*dir || !path) return 0;
    char full[8200];
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char base[4096];
        ssize_t n;
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base)) return 0;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            n = readlink(link, base, sizeof base - 1);
            if (n < 0) return 0;
            base[n] = 0;
        }
        snprintf(full, sizeof full, "%s/%s", base, path);
    }
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    return strncmp(full, dir, len) == 0 && (full[len] == '/' || full[len] == 0);
}

static void track(int fd, int dirfd, const char *path) {
    if (fd >= 0 && fd < MAX_FD) tracked[fd] = under_dir(dirfd, path) ? 1 : 0;
    if (fd >= 0 && fd < MAX_FD) short_pending[fd] = 0;
}

static enum mode current_mode(void) {
    const char *control = getenv("FAULTFS_CONTROL");
    if (!control) return M_OFF;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, control, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return M_OFF;
    char buf[32] = {0};
    ssize_t n = syscall(SYS_read, fd, buf, sizeof buf - 1);
    syscall(SYS_close, fd);
    if (n <= 0) return M_OFF;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    for (int i = 1; i < (int)(sizeof mode_names / sizeof *mode_names); i++)
        if (strcmp(buf, mode_names[i]) == 0) return (enum mode)i;
    return M_OFF;
}

static void note(enum mode m, const char *call) {
    const char *path = getenv("FAULTFS_LOG");
    if (!path) return;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    char line[64];
    int len = snprintf(line, sizeof line, "%s %s\n", mode_names[m], call);
    syscall(SYS_write, fd, line, (size_t)len);
    syscall(SYS_close, fd);
}

static int is_tracked(int fd) { return fd >= 0 && fd < MAX_FD && tracked[fd]; }

// Decides a write's fate: -1 with errno set (fail), else the byte count to really write.
static ssize_t plan_write(int fd, size_t count, const char *call) {
    if (!is_tracked(fd) || count == 0) return (ssize_t)count;
    enum mode m = current_mode();
    switch (m) {
    case M_ENOSPC: note(m, call); errno = ENOSPC; return -1;
    case M_EIO: note(m, call); errno = EIO; return -1;
    case M_SHORT:
        if (count < 2) return (ssize_t)count;
        note(m, call);
        return (ssize_t)(count / 2);
    case M_SHORT_ENOSPC:
        if (short_pending[fd]) {
            short_pending[fd] = 0;
            note(m, call);
            errno = ENOSPC;
            return -1;
        }
        if (count < 2) return (ssize_t)count;
        short_pending[fd] = 1;
        return (ssize_t)(count / 2);
    default: return (ssize_t)count;
    }
}

#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int open(const char *path, int flags, ...) {
    REAL(open);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    int fd = real_open(path, flags, mode);
    track(fd, AT_FDCWD, path);
    return fd;
}

int open64(const char *path, int flags, ...) {
    REAL(open64);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    int fd = real_open64(path, flags, mode);
    track(fd, AT_FDCWD, path);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
    REAL(openat);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    int fd = real_openat(dirfd, path, flags, mode);
    track(fd, dirfd, path);
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
    REAL(openat64);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    int fd = real_openat64(dirfd, path, flags, mode);
    track(fd, dirfd, path);
    return fd;
}

int close(int fd) {
    REAL(close);
    if (fd >= 0 && fd < MAX_FD) { tracked[fd] = 0; short_pending[fd] = 0; }
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write);
    ssize_t n = plan_write(fd, count, "write");
    if (n < 0) return -1;
    return real_write(fd, buf, (size_t)n);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite);
    ssize_t n = plan_write(fd, count, "pwrite");
    if (n < 0) return -1;
    return real_pwrite(fd, buf, (size_t)n, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite64);
    ssize_t n = plan_write(fd, count, "pwrite");
    if (n < 0) return -1;
    return real_pwrite64(fd, buf, (size_t)n, offset);
}

static size_t iov_total(const struct iovec *iov, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++) total += iov[i].iov_len;
    return total;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    REAL(writev);
    size_t total = iov_total(iov, iovcnt);
    ssize_t n = plan_write(fd, total, "writev");
    if (n < 0) return -1;
    if ((size_t)n == total) return real_writev(fd, iov, iovcnt);
    REAL(write);
    return real_write(fd, iov[0].iov_base, (size_t)n < iov[0].iov_len ? (size_t)n : iov[0].iov_len);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    REAL(pwritev);
    size_t total = iov_total(iov, iovcnt);
    ssize_t n = plan_write(fd, total, "pwritev");
    if (n < 0) return -1;
    if ((size_t)n == total) return real_pwritev(fd, iov, iovcnt, offset);
    REAL(pwrite);
    return real_pwrite(fd, iov[0].iov_base, (size_t)n < iov[0].iov_len ? (size_t)n : iov[0].iov_len, offset);
}

static int sync_fault(int fd, const char *call) {
    if (!is_tracked(fd)) return 0;
    if (current_mode() != M_FSYNC_EIO) return 0;
    note(M_FSYNC_EIO, call);
    errno = EIO;
    return -1;
}

static void delay_after_sync(int fd, int result) {
    static long delay = -1;
    if (delay < 0) {
        const char *text = getenv("FAULTFS_SYNC_DELAY_US");
        delay = text ? atol(text) : 0;
    }
    if (result == 0 && delay > 0 && is_tracked(fd)) usleep((useconds_t)delay);
}

int fsync(int fd) {
    REAL(fsync);
    if (sync_fault(fd, "fsync")) return -1;
    int result = real_fsync(fd);
    delay_after_sync(fd, result);
    return result;
}

int fdatasync(int fd) {
    REAL(fdatasync);
    if (sync_fault(fd, "fdatasync")) return -1;
    int result = real_fdatasync(fd);
    delay_after_sync(fd, result);
    return result;
}
