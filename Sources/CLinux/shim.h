// Linux-only declarations the Swift Glibc module does not export: epoll, eventfd, signalfd and
// accept4 (which needs _GNU_SOURCE, too late to define once <sys/socket.h> is in the Glibc module).
// Only the SystemCalls target imports this; everything else reaches the kernel through SystemCalls.
#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/// accept4(2) under a prefixed name, so Swift sees it without _GNU_SOURCE.
static inline int CLinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

#endif
