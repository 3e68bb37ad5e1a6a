// See include/CEarshotNet.h. Linux only: recvmmsg, epoll, timerfd and eventfd.
#define _GNU_SOURCE
#include "CEarshotNet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

int earshot_endpoint_parse(const char *text, uint16_t port, earshot_endpoint *out) {
    if (text == NULL || out == NULL) return -EINVAL;
    memset(out, 0, sizeof(*out));
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        out->family = 4;
        memcpy(out->address, &v4, 4);
    } else if (inet_pton(AF_INET6, text, &v6) == 1) {
        out->family = 6;
        memcpy(out->address, &v6, 16);
    } else {
        return -EINVAL;
    }
    out->port = port;
    return 0;
}

int earshot_endpoint_format(const earshot_endpoint *endpoint, char *buffer, size_t size) {
    if (endpoint == NULL || buffer == NULL || size == 0) return -EINVAL;
    int af = endpoint->family == 4 ? AF_INET : endpoint->family == 6 ? AF_INET6 : -1;
    if (af < 0) return -EINVAL;
    if (inet_ntop(af, endpoint->address, buffer, (socklen_t)(size > 0x7FFFFFFF ? 0x7FFFFFFF : size)) == NULL)
        return -ENOSPC;
    return (int)strlen(buffer);
}

/// Fills a sockaddr for `endpoint`; an IPv4 endpoint on an IPv6 socket becomes v4-mapped.
static socklen_t to_sockaddr(const earshot_endpoint *endpoint, int socket_family, struct sockaddr_storage *storage) {
    memset(storage, 0, sizeof(*storage));
    if (endpoint->family == 4 && socket_family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)storage;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(endpoint->port);
        memcpy(&sin->sin_addr, endpoint->address, 4);
        return sizeof(*sin);
    }
    if (socket_family == 6 && (endpoint->family == 4 || endpoint->family == 6)) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)storage;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(endpoint->port);
        if (endpoint->family == 4) {
            memcpy(sin6->sin6_addr.s6_addr, v4_mapped_prefix, 12);
            memcpy(sin6->sin6_addr.s6_addr + 12, endpoint->address, 4);
        } else {
            memcpy(sin6->sin6_addr.s6_addr, endpoint->address, 16);
            sin6->sin6_scope_id = endpoint->scope_id;
        }
        return sizeof(*sin6);
    }
    return 0;
}

static void from_sockaddr(const struct sockaddr_storage *storage, earshot_endpoint *out) {
    memset(out, 0, sizeof(*out));
    if (storage->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)storage;
        out->family = 4;
        out->port = ntohs(sin->sin_port);
        memcpy(out->address, &sin->sin_addr, 4);
    } else if (storage->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)storage;
        out->port = ntohs(sin6->sin6_port);
        if (memcmp(sin6->sin6_addr.s6_addr, v4_mapped_prefix, 12) == 0) {
            out->family = 4;
            memcpy(out->address, sin6->sin6_addr.s6_addr + 12, 4);
        } else {
            out->family = 6;
            memcpy(out->address, sin6->sin6_addr.s6_addr, 16);
            out->scope_id = sin6->sin6_scope_id;
        }
    }
}

int earshot_udp_open(const earshot_endpoint *local, int dscp) {
    if (local == NULL || (local->family != 4 && local->family != 6) || dscp < 0 || dscp > 63) return -EINVAL;
    int family = local->family;
    int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int tos = dscp << 2;
    int on = 1;
    int result = 0;
    if (family == 4) {
        if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0) result = -errno;
        if (result == 0 && setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)) < 0) result = -errno;
    } else {
        static const uint8_t any[16] = {0};
        int v6only = memcmp(local->address, any, 16) == 0 ? 0 : 1;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) result = -errno;
        if (result == 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) < 0) result = -errno;
        if (result == 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)) < 0) result = -errno;
        if (result == 0 && !v6only) {
            // IPv4 traffic on a dual-stack socket: its own TOS options (best effort).
            (void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
            (void)setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
        }
    }
    // Kernel receive timestamps: jitter is measured on when datagrams arrived, not when the
    // media thread got round to reading them (RFC 3550 A.8 wants arrival times).
    if (result == 0 && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) result = -errno;
    if (result == 0) {
        struct sockaddr_storage storage;
        socklen_t length = to_sockaddr(local, family, &storage);
        if (bind(fd, (struct sockaddr *)&storage, length) < 0) result = -errno;
    }
    if (result != 0) {
        close(fd);
        return result;
    }
    return fd;
}

int earshot_udp_local_endpoint(int fd, earshot_endpoint *out) {
    if (out == NULL) return -EINVAL;
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    memset(&storage, 0, sizeof(storage));
    if (getsockname(fd, (struct sockaddr *)&storage, &length) < 0) return -errno;
    from_sockaddr(&storage, out);
    return 0;
}

/// Room for one TOS and one traffic-class control message and a receive timestamp.
#define CONTROL_SIZE (CMSG_SPACE(sizeof(int)) * 2 + CMSG_SPACE(sizeof(struct timespec)))

int earshot_udp_receive_batch(int fd, uint8_t *buffers, size_t buffer_size, earshot_datagram *datagrams,
                              unsigned count) {
    if (buffers == NULL || datagrams == NULL || buffer_size == 0 || buffer_size > 0xFFFFFFFFu) return -EINVAL;
    if (count > EARSHOT_MAX_BATCH) count = EARSHOT_MAX_BATCH;
    if (count == 0) return 0;
    struct mmsghdr messages[EARSHOT_MAX_BATCH];
    struct iovec vectors[EARSHOT_MAX_BATCH];
    struct sockaddr_storage sources[EARSHOT_MAX_BATCH];
    union {
        struct cmsghdr align;
        uint8_t bytes[CONTROL_SIZE];
    } control[EARSHOT_MAX_BATCH];
    memset(messages, 0, sizeof(messages[0]) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = buffers + (size_t)i * buffer_size;
        vectors[i].iov_len = buffer_size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sources[i]);
        messages[i].msg_hdr.msg_control = control[i].bytes;
        messages[i].msg_hdr.msg_controllen = sizeof(control[i].bytes);
    }
    int received;
    do {
        received = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    for (int i = 0; i < received; i++) {
        earshot_datagram *d = &datagrams[i];
        memset(d, 0, sizeof(*d));
        struct msghdr *header = &messages[i].msg_hdr;
        if (header->msg_namelen > 0 && header->msg_namelen <= sizeof(sources[i])) from_sockaddr(&sources[i], &d->source);
        size_t length = messages[i].msg_len;
        d->length = (uint32_t)(length < buffer_size ? length : buffer_size);
        d->truncated = (header->msg_flags & MSG_TRUNC) ? 1 : 0;
        if (header->msg_flags & MSG_CTRUNC) continue;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c != NULL; c = CMSG_NXTHDR(header, c)) {
            // IP_TOS carries one octet; IPV6_TCLASS an int.
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && c->cmsg_len >= CMSG_LEN(1)) {
                d->tos = *(const uint8_t *)CMSG_DATA(c);
                d->has_tos = 1;
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
                       c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                struct timespec stamp;
                memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
                d->timestamp_ns = (int64_t)stamp.tv_sec * 1000000000 + stamp.tv_nsec;
                d->has_timestamp = 1;
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
                       c->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int tclass;
                memcpy(&tclass, CMSG_DATA(c), sizeof(tclass));
                d->tos = (uint8_t)(tclass & 0xFF);
                d->has_tos = 1;
            }
        }
    }
    return received;
}

long earshot_udp_send(int fd, int family, const uint8_t *data, size_t length, const earshot_endpoint *to) {
    if (data == NULL || to == NULL) return -EINVAL;
    struct sockaddr_storage storage;
    socklen_t address_length = to_sockaddr(to, family, &storage);
    if (address_length == 0) return -EAFNOSUPPORT;
    ssize_t sent;
    do {
        sent = sendto(fd, data, length, MSG_DONTWAIT, (struct sockaddr *)&storage, address_length);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -errno : (long)sent;
}

int earshot_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int earshot_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int earshot_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) < 0 ? -errno : 0;
}

int earshot_epoll_remove(int epfd, int fd) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event) < 0 ? -errno : 0;
}

int earshot_epoll_wait(int epfd, earshot_event *events, int max, int timeout_ms) {
    if (events == NULL || max <= 0) return -EINVAL;
    enum { chunk = 256 };
    struct epoll_event raw[chunk];
    if (max > chunk) max = chunk;
    int n = epoll_wait(epfd, raw, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        events[i].token = raw[i].data.u64;
        events[i].events = raw[i].events;
        events[i].reserved = 0;
    }
    return n;
}

int earshot_timer_create(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int earshot_timer_arm(int tfd, int64_t deadline_ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof(spec));
    if (deadline_ns >= 0) {
        // A zero it_value disarms: a deadline at 0 ns is moved to 1 ns (long past either way).
        int64_t deadline = deadline_ns == 0 ? 1 : deadline_ns;
        spec.it_value.tv_sec = (time_t)(deadline / 1000000000);
        spec.it_value.tv_nsec = (long)(deadline % 1000000000);
    }
    return timerfd_settime(tfd, TFD_TIMER_ABSTIME, &spec, NULL) < 0 ? -errno : 0;
}

int64_t earshot_timer_drain(int tfd) {
    uint64_t expirations = 0;
    ssize_t n = read(tfd, &expirations, sizeof(expirations));
    return n == (ssize_t)sizeof(expirations) ? (int64_t)expirations : 0;
}

int earshot_event_create(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int earshot_event_signal(int efd) {
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(efd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
    // EAGAIN: the counter is saturated, so the loop is already due to wake.
    return n < 0 && errno != EAGAIN ? -errno : 0;
}

void earshot_event_drain(int efd) {
    uint64_t value;
    ssize_t n;
    do {
        n = read(efd, &value, sizeof(value));
    } while (n < 0 && errno == EINTR);
}

int64_t earshot_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int earshot_route_source(const char *host, char *out, size_t size) {
    if (host == NULL || out == NULL || size < INET6_ADDRSTRLEN) return -EINVAL;
    struct sockaddr_storage remote;
    memset(&remote, 0, sizeof(remote));
    socklen_t length;
    int family;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&remote;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&remote;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        family = AF_INET;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(9);
        length = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(9);
        length = sizeof(*v6);
    } else {
        return -EINVAL;
    }
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int result = 0;
    struct sockaddr_storage local;
    socklen_t local_length = sizeof(local);
    if (connect(fd, (struct sockaddr *)&remote, length) < 0 ||
        getsockname(fd, (struct sockaddr *)&local, &local_length) < 0) {
        result = -errno;
    } else {
        const void *address = family == AF_INET ? (const void *)&((struct sockaddr_in *)&local)->sin_addr
                                                : (const void *)&((struct sockaddr_in6 *)&local)->sin6_addr;
        if (inet_ntop(family, address, out, (socklen_t)size) == NULL) result = -errno;
    }
    close(fd);
    return result;
}

int64_t earshot_monotonic_minus_realtime_ns(void) {
    int64_t best_offset = 0, best_bracket = INT64_MAX;
    for (int i = 0; i < 3; i++) {
        struct timespec m1, r, m2;
        clock_gettime(CLOCK_MONOTONIC, &m1);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &m2);
        int64_t a = (int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec;
        int64_t b = (int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec;
        int64_t real = (int64_t)r.tv_sec * 1000000000 + r.tv_nsec;
        if (b - a < best_bracket) {
            best_bracket = b - a;
            best_offset = a + (b - a) / 2 - real;
        }
    }
    return best_offset;
}

void earshot_realtime(int64_t *seconds, uint32_t *nanoseconds) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (seconds) *seconds = (int64_t)ts.tv_sec;
    if (nanoseconds) *nanoseconds = (uint32_t)ts.tv_nsec;
}

int64_t earshot_thread_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0) return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int earshot_thread_set_timer_slack(unsigned long nanoseconds) {
    // PR_SET_TIMERSLACK with 0 restores the default, so the smallest slack is 1 ns.
    return prctl(PR_SET_TIMERSLACK, nanoseconds == 0 ? 1UL : nanoseconds, 0, 0, 0) < 0 ? -errno : 0;
}

void earshot_thread_set_name(const char *name) {
    char truncated[16];
    if (name == NULL) return;
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    (void)pthread_setname_np(pthread_self(), truncated);
}

int earshot_thread_set_realtime(int priority) {
    if (priority < 1 || priority > 99) return -EINVAL;
    struct sched_param param;
    memset(&param, 0, sizeof(param));
    param.sched_priority = priority;
    int result = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    return result == 0 ? 0 : -result;
}
